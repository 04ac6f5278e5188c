package busifavor_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

var sampleCoupon = busifavor.CouponSend{
	CouponCode:   "sxxe34343434",
	StockID:      "1234567891",
	SendTime:     time.Date(2020, 12, 10, 11, 16, 29, 0, time.FixedZone("CST", 8*3600)),
	OpenID:       "oh-394z-6CGkNoJrsDLTTUKiAnp4",
	UnionID:      "o3wHE5qUbkT0C2KJ_Uq7Y8LoNcNk",
	SendChannel:  busifavor.SendChannelPayGift,
	SendMerchant: "17890",
	AttachInfo: &busifavor.AttachInfo{
		TransactionID:   "4200000811202012156426915869",
		ActCode:         "8001000000001",
		HallCode:        "9001000000001",
		HallBelongMchID: "1234567890",
		CardID:          "pY7ji5S2yFmLkTv3nYHGDSzkAuQ8",
		Code:            "8032832983",
		ActivityID:      "12345",
	},
}

func newParser(t *testing.T, s *busifavortest.Server, opts ...busifavor.EventOption) *busifavor.EventParser {
	t.Helper()
	p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), opts...)
	require.NoError(t, err)
	return p
}

func TestParseAcceptsWhatWechatpayGoAccepts(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	header, body := s.CouponNotification(sampleCoupon)

	ev, err := newParser(t, s).Parse(ctx, header, body)
	require.NoError(t, err)
	assert.Len(t, ev.ID, 36)
	assert.Equal(t, busifavor.EventTypeCouponSend, ev.EventType)
	assert.Equal(t, "encrypt-resource", ev.ResourceType)
	assert.Equal(t, "商家券领券通知", ev.Summary)
	assert.False(t, ev.CreateTime.IsZero())
	want := sampleCoupon
	want.EventType = "EVENT_TYPE_BUSICOUPON_SEND"
	assert.True(t, want.SendTime.Equal(ev.Coupon.SendTime))
	want.SendTime = ev.Coupon.SendTime
	assert.Equal(t, &want, ev.Coupon)
	for _, printed := range []string{ev.String(), fmt.Sprint(ev)} {
		assert.Contains(t, printed, ev.ID)
		assert.NotContains(t, printed, sampleCoupon.OpenID, "no personal data when logged")
	}

	// wechatpay-go's own handler, a peer nobody here wrote, accepts the same
	// notification and decrypts the same plaintext.
	h, err := notify.NewRSANotifyHandler(s.APIv3Key(), s.Verifier().(auth.Verifier))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
	req.Header = header
	var content map[string]any
	theirs, err := h.ParseNotifyRequest(ctx, req, &content)
	require.NoError(t, err)
	assert.JSONEq(t, theirs.Resource.Plaintext, string(ev.Plaintext))
	assert.Equal(t, theirs.ID, ev.ID)
	assert.EqualValues(t, 1234567890, content["attach_info"].(map[string]any)["hall_belong_mch_id"], "sent as a JSON number")
}

func TestParseWithPlatformCertificatesAndCombinedVerifier(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithPlatformCertificate("0123456789abcdef0123456789abcdef"))
	t.Cleanup(s.Close)
	header, body := s.CouponNotification(sampleCoupon)
	_, err := newParser(t, s).Parse(ctx, header, body)
	require.NoError(t, err)
	assert.NotContains(t, header.Get("Wechatpay-Serial"), "PUB_KEY_ID_")

	// A merchant migrating to public keys verifies both kinds at once.
	pubSrv := busifavortest.NewServer(busifavortest.WithAPIv3Key(s.APIv3Key()))
	t.Cleanup(pubSrv.Close)
	pub, id := pubSrv.PublicKey()
	certs := core.NewCertificateMapWithList([]*x509.Certificate{s.PlatformCertificate()})
	combined := verifiers.NewSHA256WithRSACombinedVerifier(certs, id, *pub)
	p, err := busifavor.NewEventParser(s.APIv3Key(), combined)
	require.NoError(t, err)
	_, err = p.Parse(ctx, header, body)
	assert.NoError(t, err, "certificate-signed")
	h2, b2 := pubSrv.CouponNotification(sampleCoupon)
	_, err = p.Parse(ctx, h2, b2)
	assert.NoError(t, err, "public-key-signed")
}

func TestParseRefusals(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	other := busifavortest.NewServer()
	t.Cleanup(other.Close)
	p := newParser(t, s)

	tests := []struct {
		name   string
		make   func() (http.Header, []byte)
		target error
	}{
		{"tampered body", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			return h, bytes.Replace(b, []byte("商家券"), []byte("商家卷"), 1)
		}, busifavor.ErrInvalidSignature},
		{"tampered signature", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			sig := []byte(h.Get("Wechatpay-Signature"))
			sig[10] ^= 1
			h.Set("Wechatpay-Signature", string(sig))
			return h, b
		}, busifavor.ErrInvalidSignature},
		{"SIGNTEST probe", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			h.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/"+h.Get("Wechatpay-Signature"))
			return h, b
		}, busifavor.ErrInvalidSignature},
		{"unknown serial", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			h.Set("Wechatpay-Serial", "PUB_KEY_ID_UNKNOWN")
			return h, b
		}, busifavor.ErrInvalidSignature},
		{"signed by another key", func() (http.Header, []byte) { return other.CouponNotification(sampleCoupon) }, busifavor.ErrInvalidSignature},
		{"missing header", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			h.Del("Wechatpay-Nonce")
			return h, b
		}, busifavor.ErrInvalidSignature},
		{"other signature type", func() (http.Header, []byte) {
			h, b := s.CouponNotification(sampleCoupon)
			h.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
			return h, b
		}, busifavor.ErrInvalidSignature},
		{"tampered ciphertext", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) {
				ct, _ := base64.StdEncoding.DecodeString(r["ciphertext"].(string))
				ct[0] ^= 1
				r["ciphertext"] = base64.StdEncoding.EncodeToString(ct)
			})
		}, busifavor.ErrDecrypt},
		{"tampered associated data", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { r["associated_data"] = "certificate" })
		}, busifavor.ErrDecrypt},
		{"tampered nonce", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { r["nonce"] = "AAAAAAAAAAAA" })
		}, busifavor.ErrDecrypt},
		{"short nonce (would panic in AEAD.Open)", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { r["nonce"] = "short" })
		}, busifavor.ErrDecrypt},
		{"ciphertext not base64", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { r["ciphertext"] = "%%%" })
		}, busifavor.ErrDecrypt},
		{"other algorithm", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { r["algorithm"] = "AEAD_SM4_GCM" })
		}, busifavor.ErrMalformedNotification},
		{"missing ciphertext", func() (http.Header, []byte) {
			return resign(t, s, func(r map[string]any) { delete(r, "ciphertext") })
		}, busifavor.ErrMalformedNotification},
		{"body not JSON", func() (http.Header, []byte) { return signRaw(t, s, []byte("<xml/>")) }, busifavor.ErrMalformedNotification},
		{"envelope without resource", func() (http.Header, []byte) {
			return signRaw(t, s, []byte(`{"id":"x","create_time":"2020-01-01T00:00:00+08:00","event_type":"COUPON.SEND"}`))
		}, busifavor.ErrMalformedNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, b := tt.make()
			ev, err := p.Parse(ctx, h, b)
			assert.Nil(t, ev)
			require.ErrorIs(t, err, tt.target)
			for _, secret := range []string{s.APIv3Key(), "oh-394z", "sxxe34343434", string(b)} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}

	// A parser with the wrong APIv3 key verifies but cannot decrypt.
	wrongKey, err := busifavor.NewEventParser(strings.Repeat("k", 32), s.Verifier())
	require.NoError(t, err)
	h, b := s.CouponNotification(sampleCoupon)
	_, err = wrongKey.Parse(ctx, h, b)
	assert.ErrorIs(t, err, busifavor.ErrDecrypt)
}

func TestTimestampWindowBothWays(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	sent := time.Now()
	for _, skew := range []time.Duration{-5*time.Minute - time.Second, 5*time.Minute + time.Second} {
		p := newParser(t, s, busifavor.WithEventClock(func() time.Time { return sent.Add(skew) }))
		_, err := p.Parse(ctx, h, b)
		assert.ErrorIs(t, err, busifavor.ErrTimestampOutOfRange, "skew %s", skew)
	}
	for _, skew := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		p := newParser(t, s, busifavor.WithEventClock(func() time.Time { return sent.Add(skew) }))
		_, err := p.Parse(ctx, h, b)
		assert.NoError(t, err, "skew %s", skew)
	}
	p := newParser(t, s, busifavor.WithTimestampTolerance(time.Hour), busifavor.WithEventClock(func() time.Time { return sent.Add(59 * time.Minute) }))
	_, err := p.Parse(ctx, h, b)
	assert.NoError(t, err)
}

// TestTimestampErrorSaysOldOrAhead: the refusal says which way the
// timestamp is off, measured from the signed timestamp itself.
func TestTimestampErrorSaysOldOrAhead(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	secs, err := strconv.ParseInt(h.Get("Wechatpay-Timestamp"), 10, 64)
	require.NoError(t, err)
	signed := time.Unix(secs, 0)
	for skew, want := range map[time.Duration]string{6 * time.Minute: "6m0s old", -6 * time.Minute: "6m0s ahead"} {
		p := newParser(t, s, busifavor.WithEventClock(func() time.Time { return signed.Add(skew) }))
		_, err := p.Parse(ctx, h, b)
		require.ErrorIs(t, err, busifavor.ErrTimestampOutOfRange)
		assert.Contains(t, err.Error(), want, "clock %s from the signed timestamp", skew)
		assert.NotContains(t, err.Error(), "from now")
	}
}

func TestBodyLimit(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	_, err := newParser(t, s, busifavor.WithMaxBodyBytes(int64(len(b)))).Parse(ctx, h, b)
	assert.NoError(t, err, "exactly at the limit")
	_, err = newParser(t, s, busifavor.WithMaxBodyBytes(int64(len(b)-1))).Parse(ctx, h, b)
	assert.ErrorIs(t, err, busifavor.ErrBodyTooLarge)

	req := httptest.NewRequest(http.MethodPost, "/n", io.MultiReader(bytes.NewReader(b), strings.NewReader(strings.Repeat(" ", busifavor.DefaultMaxBodyBytes))))
	req.Header = h
	_, err = newParser(t, s).ParseRequest(req)
	assert.ErrorIs(t, err, busifavor.ErrBodyTooLarge, "a body without Content-Length is cut at the limit")

	// A server's own http.MaxBytesReader, below the parser's limit, is a
	// body too large (413) too, not an unreadable one.
	req = httptest.NewRequest(http.MethodPost, "/n", nil)
	req.Header = h
	rec := httptest.NewRecorder()
	req.Body = http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(b)), 100)
	_, err = newParser(t, s).ParseRequest(req)
	assert.ErrorIs(t, err, busifavor.ErrBodyTooLarge)
}

// Every wechatpay-go verifier is a busifavor.Verifier, and so is any
// auth.Verifier (item 4 of issue 25: only Verify is required).
var (
	_ busifavor.Verifier = (*verifiers.SHA256WithRSAVerifier)(nil)
	_ busifavor.Verifier = (*verifiers.SHA256WithRSAPubkeyVerifier)(nil)
	_ busifavor.Verifier = (*verifiers.SHA256WithRSACombinedVerifier)(nil)
	_ busifavor.Verifier = auth.Verifier(nil)
)

// verifyOnly has the one method busifavor.Verifier asks for and nothing of
// wechatpay-go's auth.Verifier (no GetSerial).
type verifyOnly struct{ v busifavor.Verifier }

func (o verifyOnly) Verify(ctx context.Context, serial, message, signature string) error {
	return o.v.Verify(ctx, serial, message, signature)
}

// TestEventParserTakesAVerifierOfYourOwn: a verifier with Verify alone
// (no GetSerial) verifies notifications, and still refuses a bad signature.
func TestEventParserTakesAVerifierOfYourOwn(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	p, err := busifavor.NewEventParser(s.APIv3Key(), verifyOnly{s.Verifier()})
	require.NoError(t, err)
	h, b := s.CouponNotification(sampleCoupon)
	ev, err := p.Parse(ctx, h, b)
	require.NoError(t, err)
	assert.Equal(t, sampleCoupon.CouponCode, ev.Coupon.CouponCode)
	h.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/x")
	_, err = p.Parse(ctx, h, b)
	assert.ErrorIs(t, err, busifavor.ErrInvalidSignature)
}

func TestNewEventParserRejects(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	for _, key := range []string{"", strings.Repeat("s", 31), strings.Repeat("s", 33)} {
		_, err := busifavor.NewEventParser(key, s.Verifier())
		assert.ErrorContains(t, err, "32 bytes")
		assert.NotContains(t, err.Error(), "sss", "the key is not echoed")
	}
	_, err := busifavor.NewEventParser(s.APIv3Key(), nil)
	assert.Error(t, err)
	p := newParser(t, s)
	for _, printed := range []string{p.String(), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p)} {
		assert.NotContains(t, printed, s.APIv3Key())
	}
	assert.Equal(t, "busifavor.EventParser{tolerance: 5m0s, maxBody: 65536}", p.String())
	for _, tc := range []struct {
		o    busifavor.EventOption
		name string
	}{
		{busifavor.WithTimestampTolerance(0), "WithTimestampTolerance"}, {busifavor.WithTimestampTolerance(-time.Second), "WithTimestampTolerance"},
		{busifavor.WithMaxBodyBytes(0), "WithMaxBodyBytes"}, {busifavor.WithMaxBodyBytes(-1), "WithMaxBodyBytes"},
		{busifavor.WithEventClock(nil), "WithEventClock"}, {nil, "NewEventParser: option 1 of 1 is nil"},
	} {
		p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), tc.o)
		assert.ErrorContains(t, err, "busifavor: "+tc.name)
		assert.Nil(t, p)
	}
	// Every refused option is named, not only the first.
	_, err = busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), busifavor.WithMaxBodyBytes(0), busifavor.WithEventLogger(nil),
		busifavor.WithEventClock(nil))
	assert.ErrorContains(t, err, "WithMaxBodyBytes")
	assert.ErrorContains(t, err, "WithEventClock")
	_, err = busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), busifavor.WithTimestampTolerance(time.Nanosecond),
		busifavor.WithMaxBodyBytes(1), busifavor.WithEventClock(time.Now), busifavor.WithEventLogger(nil))
	assert.NoError(t, err, "the smallest values that are allowed")
}

// TestEventLoggerNilLogsNothing: WithEventLogger(nil) means no logging at
// all, not slog.Default(): a handler failure (otherwise at ERROR through
// slog.Default) and a bad signature leave no line anywhere.
func TestEventLoggerNilLogsNothing(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	def := useDefaultLogger(t)
	h, b := s.CouponNotification(sampleCoupon)
	post := func(p *busifavor.EventParser, h http.Header) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(b))
		req.Header = h
		busifavor.NewEventHandler(p, func(context.Context, *busifavor.CouponEvent) error {
			return errors.New("database down")
		}).ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusInternalServerError, post(newParser(t, s), h))
	assert.Contains(t, def.String(), "database down", "without the option: slog.Default()")

	def.Reset()
	silent := newParser(t, s, busifavor.WithEventLogger(nil))
	assert.Equal(t, http.StatusInternalServerError, post(silent, h))
	bad := h.Clone()
	bad.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/x")
	assert.Equal(t, http.StatusUnauthorized, post(silent, bad))
	assert.Empty(t, def.String(), "WithEventLogger(nil): nothing, not even at ERROR")
}

func TestEventHandlerContract(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	var got []*busifavor.CouponEvent
	var fail atomic.Bool
	handler := busifavor.NewEventHandler(newParser(t, s), func(ctx context.Context, ev *busifavor.CouponEvent) error {
		if fail.Load() {
			return errors.New("database down")
		}
		got = append(got, ev)
		return nil
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	resp, err := s.SendCouponEvent(ctx, srv.URL+"/busifavor/notify", sampleCoupon)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Len(t, got, 1)
	assert.Equal(t, sampleCoupon.CouponCode, got[0].Coupon.CouponCode)

	send := func(method string, h http.Header, body []byte) (int, map[string]string) {
		req, err := http.NewRequest(method, srv.URL, bytes.NewReader(body))
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	h, b := s.CouponNotification(sampleCoupon)

	status, out := send(http.MethodGet, h, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	assert.Equal(t, "FAIL", out["code"])

	bad := h.Clone()
	bad.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/x")
	status, out = send(http.MethodPost, bad, b)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "FAIL", out["code"])
	assert.NotEmpty(t, out["message"])

	stale := newParser(t, s, busifavor.WithEventClock(func() time.Time { return time.Now().Add(time.Hour) }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header = h
	busifavor.NewEventHandler(stale, func(context.Context, *busifavor.CouponEvent) error { return nil }).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)

	hb, bb := resign(t, s, func(r map[string]any) { r["associated_data"] = "x" })
	status, _ = send(http.MethodPost, hb, bb)
	assert.Equal(t, http.StatusBadRequest, status)

	hm, bm := signRaw(t, s, []byte("not json"))
	status, _ = send(http.MethodPost, hm, bm)
	assert.Equal(t, http.StatusBadRequest, status)

	status, _ = send(http.MethodPost, h, append(b, bytes.Repeat([]byte(" "), busifavor.DefaultMaxBodyBytes)...))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)

	fail.Store(true)
	status, out = send(http.MethodPost, h, b)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "FAIL", out["code"])
	assert.NotContains(t, out["message"], "database", "the handler's error stays inside")
}

func TestNewEventHandlerRefusesNil(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	assert.Panics(t, func() { busifavor.NewEventHandler(newParser(t, s), nil) })
	assert.Panics(t, func() {
		busifavor.NewEventHandler(nil, func(context.Context, *busifavor.CouponEvent) error { return nil })
	})
}

// resign edits the envelope's resource and signs the edited body correctly,
// so only decryption or decoding can catch the edit.
func resign(t *testing.T, s *busifavortest.Server, edit func(map[string]any)) (http.Header, []byte) {
	t.Helper()
	_, b := s.CouponNotification(sampleCoupon)
	var env map[string]any
	require.NoError(t, json.Unmarshal(b, &env))
	edit(env["resource"].(map[string]any))
	nb, err := json.Marshal(env)
	require.NoError(t, err)
	return signRaw(t, s, nb)
}

// signRaw signs an arbitrary body as s would.
func signRaw(t *testing.T, s *busifavortest.Server, body []byte) (http.Header, []byte) {
	t.Helper()
	return s.SignNotification(body), body
}

// decryptForTest is the reference AEAD open, kept to show the fake encrypts
// the way the docs describe.
func decryptForTest(key, nonce, ad, ciphertext string) ([]byte, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, []byte(nonce), ct, []byte(ad))
}

func TestFakeEncryptsAsDocumented(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	_, b := s.CouponNotification(sampleCoupon)
	var env struct {
		Resource struct{ Nonce, Ciphertext string } `json:"resource"`
	}
	require.NoError(t, json.Unmarshal(b, &env))
	r := env.Resource
	assert.Len(t, r.Nonce, 12)
	plain, err := decryptForTest(s.APIv3Key(), r.Nonce, "coupon", r.Ciphertext)
	require.NoError(t, err)
	assert.Contains(t, string(plain), `"coupon_code":"sxxe34343434"`)
}

// FuzzParse checks that Parse never panics and never accepts a notification
// whose body is not signed by the configured key.
func FuzzParse(f *testing.F) {
	s := busifavortest.NewServer()
	f.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	f.Add(h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Serial"), b)
	f.Add("0", "n", "WECHATPAY/SIGNTEST/", "PUB_KEY_ID_X", []byte("{}"))
	pub, _ := s.PublicKey()
	p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), busifavor.WithTimestampTolerance(100*365*24*time.Hour))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, ts, nonce, sig, serial string, body []byte) {
		hdr := http.Header{}
		hdr.Set("Wechatpay-Timestamp", ts)
		hdr.Set("Wechatpay-Nonce", nonce)
		hdr.Set("Wechatpay-Signature", sig)
		hdr.Set("Wechatpay-Serial", serial)
		ev, err := p.Parse(ctx, hdr, body)
		if err != nil {
			if ev != nil {
				t.Fatal("an event with an error")
			}
			return
		}
		raw, derr := base64.StdEncoding.DecodeString(sig)
		digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
		if derr != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], raw) != nil {
			t.Fatalf("accepted a notification not signed by the configured key")
		}
	})
}

// sealed parses a COUPON.SEND notification whose decrypted resource is
// plaintext, signed and encrypted as WeChat Pay does.
func sealed(t *testing.T, s *busifavortest.Server, plaintext string) (*busifavor.CouponEvent, error) {
	t.Helper()
	block, err := aes.NewCipher([]byte(s.APIv3Key()))
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	env, err := json.Marshal(map[string]any{
		"id": "11111111-2222-3333-4444-555555555555", "create_time": "2026-01-01T00:00:00+08:00",
		"event_type": busifavor.EventTypeCouponSend, "resource_type": "encrypt-resource", "summary": "商家券领券通知",
		"resource": map[string]string{
			"algorithm": "AEAD_AES_256_GCM", "nonce": "0123456789ab", "associated_data": "coupon",
			"ciphertext": base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte("0123456789ab"), []byte(plaintext), []byte("coupon"))),
		},
	})
	require.NoError(t, err)
	return newParser(t, s).Parse(ctx, s.SignNotification(env), env)
}

func TestAttachInfoAndChannelsAsTheyCome(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	for raw, want := range map[string]string{
		`{"hall_belong_mch_id":1900000109}`:   "1900000109",
		`{"hall_belong_mch_id":"1900000109"}`: "1900000109",
		`{"hall_belong_mch_id":null}`:         "",
		`{}`:                                  "",
	} {
		ev, err := sealed(t, s, `{"coupon_code":"C","attach_info":`+raw+`}`)
		require.NoError(t, err, raw)
		require.NotNil(t, ev.Coupon.AttachInfo, raw)
		assert.Equal(t, want, ev.Coupon.AttachInfo.HallBelongMchID, raw)
	}
	for _, bad := range []string{`{"hall_belong_mch_id":true}`, `{"hall_belong_mch_id":{}}`} {
		_, err := sealed(t, s, `{"coupon_code":"C","attach_info":`+bad+`}`)
		assert.ErrorIs(t, err, busifavor.ErrMalformedNotification, bad)
	}

	ev, err := sealed(t, s, `{"send_channel":"BUSICOUPON_SEND_CHANNEL_FROM_THE_FUTURE","send_time":"2020-12-10T11:16:29:123+08:00"}`)
	require.NoError(t, err)
	assert.Equal(t, busifavor.SendChannel("BUSICOUPON_SEND_CHANNEL_FROM_THE_FUTURE"), ev.Coupon.SendChannel, "unknown channels are kept")
	assert.Equal(t, 123*time.Millisecond, time.Duration(ev.Coupon.SendTime.Nanosecond()))
	_, err = sealed(t, s, `{"send_time":"yesterday"}`)
	assert.ErrorIs(t, err, busifavor.ErrMalformedNotification)
}

func TestOtherEventTypesKeepTheirPlaintext(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	block, err := aes.NewCipher([]byte(s.APIv3Key()))
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	plaintext := `{"event_type":"EVENT_TYPE_BUSICOUPON_SOMETHING_NEW","coupon_code":"X"}`
	env, err := json.Marshal(map[string]any{
		"id": "11111111-2222-3333-4444-555555555555", "create_time": "2026-01-01T00:00:00+08:00",
		"event_type": "COUPON.SOMETHING_NEW", "resource_type": "encrypt-resource", "summary": "new",
		"resource": map[string]string{
			"algorithm": "AEAD_AES_256_GCM", "nonce": "0123456789ab", "associated_data": "coupon",
			"ciphertext": base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte("0123456789ab"), []byte(plaintext), []byte("coupon"))),
		},
	})
	require.NoError(t, err)
	ev, err := newParser(t, s).Parse(ctx, s.SignNotification(env), env)
	require.NoError(t, err)
	assert.Equal(t, busifavor.EventType("COUPON.SOMETHING_NEW"), ev.EventType)
	assert.Nil(t, ev.Coupon, "only COUPON.SEND is decoded")
	assert.JSONEq(t, plaintext, string(ev.Plaintext))

	// Printing, logging, masking and marshaling an event without a coupon.
	assert.Equal(t, "CouponEvent{ID:11111111-2222-3333-4444-555555555555 EventType:COUPON.SOMETHING_NEW}", ev.String())
	assert.Contains(t, fmt.Sprintf("%+v", ev), "Coupon:<nil>")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("event", "event", ev)
	assert.Contains(t, logs.String(), `"event_type":"COUPON.SOMETHING_NEW"`)
	masked := ev.Masked()
	assert.Nil(t, masked.Coupon)
	assert.Nil(t, masked.Plaintext)
	j, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.NotContains(t, string(j), `"coupon"`, "no coupon, no member")
}

// FuzzParseSigned fuzzes what lies behind the signature: the envelope and the
// decrypted resource. Each input is made into a real notification: the
// plaintext is encrypted under the APIv3 key and put where the envelope says
// $CIPHERTEXT ($NONCE and $AD likewise), and the body is signed with the
// fake's key, so decryption and decoding are reached on every run.
func FuzzParseSigned(f *testing.F) {
	key1024, err := rsa.GenerateKey(rand.Reader, 1024) // a fast key keeps the fuzzer fast; the size is not under test
	require.NoError(f, err)
	s := busifavortest.NewServer(busifavortest.WithPlatformKey(key1024, "PUB_KEY_ID_FUZZ"))
	f.Cleanup(s.Close)
	p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
	require.NoError(f, err)
	block, err := aes.NewCipher([]byte(s.APIv3Key()))
	require.NoError(f, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(f, err)
	const nonce = "0123456789ab"

	envelope := `{"id":"EV-1","create_time":"2020-12-10T11:16:29+08:00","event_type":"COUPON.SEND","resource_type":"encrypt-resource","summary":"商家券领券通知",` +
		`"resource":{"original_type":"coupon","algorithm":"AEAD_AES_256_GCM","ciphertext":"$CIPHERTEXT","associated_data":"$AD","nonce":"$NONCE"}}`
	coupon, err := json.Marshal(map[string]any{"event_type": "EVENT_TYPE_BUSICOUPON_SEND", "coupon_code": "C1", "stock_id": "S1",
		"send_time": "2020-12-10T11:16:29+08:00", "openid": "o1", "send_channel": "BUSICOUPON_SEND_CHANNEL_API", "send_merchant": "10000098",
		"attach_info": map[string]any{"hall_belong_mch_id": 1900000109, "transaction_id": "42"}})
	require.NoError(f, err)
	f.Add(envelope, coupon, "coupon")
	f.Add(envelope, []byte(`{"send_time":"2019-05-20T13:29:35:120+08:00","attach_info":{"hall_belong_mch_id":"x"}}`), "")
	f.Add(envelope, []byte(`{"send_time":"yesterday"}`), "coupon")
	f.Add(envelope, []byte(`{"attach_info":{"hall_belong_mch_id":[1]}}`), "coupon")
	f.Add(envelope, []byte(`null`), "coupon")
	f.Add(strings.Replace(envelope, "COUPON.SEND", "COUPON.OTHER", 1), []byte(`not json`), "coupon")
	f.Add(strings.Replace(envelope, `"create_time":"2020-12-10T11:16:29+08:00"`, `"create_time":1`, 1), coupon, "coupon")
	f.Add(strings.Replace(envelope, "AEAD_AES_256_GCM", "AES_CBC", 1), coupon, "coupon")

	f.Fuzz(func(t *testing.T, envelope string, plaintext []byte, ad string) {
		ct := gcm.Seal(nil, []byte(nonce), plaintext, []byte(ad))
		adJSON, _ := json.Marshal(ad)
		body := strings.NewReplacer("$CIPHERTEXT", base64.StdEncoding.EncodeToString(ct),
			"$NONCE", nonce, `"$AD"`, string(adJSON)).Replace(envelope)
		ev, err := p.Parse(ctx, s.SignNotification([]byte(body)), []byte(body))
		if err != nil {
			if ev != nil {
				t.Fatal("an event with an error")
			}
			if !errors.Is(err, busifavor.ErrMalformedNotification) && !errors.Is(err, busifavor.ErrDecrypt) &&
				!errors.Is(err, busifavor.ErrBodyTooLarge) {
				t.Fatalf("a signed notification refused with an untyped error: %v", err)
			}
			if strings.Contains(err.Error(), string(plaintext)) && len(plaintext) > 8 {
				t.Fatalf("the error shows the plaintext: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.EventType == "" || ev.CreateTime.IsZero() {
			t.Fatalf("accepted an event without id, type or time: %+v", ev)
		}
		if !bytes.Equal(ev.Plaintext, plaintext) {
			t.Fatalf("plaintext %q, encrypted %q", ev.Plaintext, plaintext)
		}
	})
}

// logTo makes a JSON slog logger writing to a buffer.
func logTo() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// records decodes the JSON log lines in b.
func records(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]any
		require.NoError(t, json.Unmarshal(line, &r))
		out = append(out, r)
	}
	return out
}

// useDefaultLogger points slog.Default at a buffer for the test. Tests of
// this package that call t.Parallel run after this one has returned.
func useDefaultLogger(t *testing.T) *bytes.Buffer {
	l, b := logTo()
	old := slog.Default()
	slog.SetDefault(l)
	t.Cleanup(func() { slog.SetDefault(old) })
	return b
}

// After the signature verified, a refusal can only be the merchant's
// misconfiguration (a wrong APIv3 key, a drifting clock): it is logged at
// ERROR with the reason, through slog.Default when no logger was given and
// through the parser's logger when one was. A refusal anyone could cause (a
// bad signature) stays quiet without a logger, and nothing secret is logged.
func TestEventHandlerLogsMisconfigurationAtError(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	def := useDefaultLogger(t)
	wrongKey := strings.Repeat("k", 32)
	h, b := s.CouponNotification(sampleCoupon)
	ok := func(context.Context, *busifavor.CouponEvent) error { return nil }
	post := func(p *busifavor.EventParser, h http.Header) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(b))
		req.Header = h
		busifavor.NewEventHandler(p, ok).ServeHTTP(rec, req)
		return rec.Code
	}
	signedAt, err := strconv.ParseInt(h.Get("Wechatpay-Timestamp"), 10, 64)
	require.NoError(t, err)
	drifted := busifavor.WithEventClock(func() time.Time { return time.Unix(signedAt, 0).Add(time.Hour) })

	for _, tc := range []struct {
		name, why string
		parser    func(...busifavor.EventOption) (*busifavor.EventParser, error)
		status    int
	}{
		{"wrong APIv3 key", "APIv3 key", func(o ...busifavor.EventOption) (*busifavor.EventParser, error) {
			return busifavor.NewEventParser(wrongKey, s.Verifier(), o...)
		}, http.StatusBadRequest},
		{"clock an hour ahead", "clock", func(o ...busifavor.EventOption) (*busifavor.EventParser, error) {
			return busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), append(o, drifted)...)
		}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, own := range []bool{false, true} {
				def.Reset()
				l, buf := logTo()
				var opts []busifavor.EventOption
				if own {
					opts = append(opts, busifavor.WithEventLogger(l))
				} else {
					buf = def
				}
				p, err := tc.parser(opts...)
				require.NoError(t, err)
				assert.Equal(t, tc.status, post(p, h))
				recs := records(t, buf)
				require.Len(t, recs, 1, "own logger %v: %s", own, buf)
				assert.Equal(t, "ERROR", recs[0]["level"])
				assert.Contains(t, recs[0]["msg"], tc.why)
				assert.NotEmpty(t, recs[0]["error"], "the reason")
				assert.EqualValues(t, tc.status, recs[0]["status"])
				if own {
					assert.Empty(t, def.String(), "the parser's logger, not the default")
				}
				for _, secret := range []string{wrongKey, s.APIv3Key(), sampleCoupon.OpenID, sampleCoupon.CouponCode, string(b)} {
					assert.NotContains(t, buf.String(), secret)
				}
			}
		})
	}

	// Anyone can send a bad signature: without a logger it is not logged.
	def.Reset()
	bad := h.Clone()
	bad.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/x")
	assert.Equal(t, http.StatusUnauthorized, post(newParser(t, s), bad))
	assert.Empty(t, def.String())
}

// A body that cannot be read (broken chunking, from anyone) is the sender's
// fault: 400, logged at WARN with a logger and not at all without one,
// never a 500 at ERROR.
func TestEventHandlerUnreadableBodyIs400(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	def := useDefaultLogger(t)
	for _, own := range []bool{false, true} {
		def.Reset()
		l, buf := logTo()
		var opts []busifavor.EventOption
		if own {
			opts = append(opts, busifavor.WithEventLogger(l))
		}
		srv := httptest.NewServer(busifavor.NewEventHandler(newParser(t, s, opts...),
			func(context.Context, *busifavor.CouponEvent) error { return nil }))
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		_, err = io.WriteString(conn, "POST /notify HTTP/1.1\r\nHost: backend\r\nContent-Type: application/json\r\n"+
			"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\nzz-not-a-chunk-size\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		var out map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		resp.Body.Close()
		conn.Close()
		srv.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "own logger %v", own)
		assert.Equal(t, "FAIL", out["code"])
		assert.Empty(t, def.String(), "nothing reaches the default logger")
		if own {
			recs := records(t, buf)
			require.Len(t, recs, 1, buf.String())
			assert.Equal(t, "WARN", recs[0]["level"])
			assert.EqualValues(t, http.StatusBadRequest, recs[0]["status"])
		}
	}
}
