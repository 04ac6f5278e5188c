package busifavor_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// cannedTransport answers every request in memory with one correctly signed
// answer, signed once up front, so both sides of a comparison do identical
// work: one request signature and one answer verification per call.
type cannedTransport struct {
	body   []byte
	header http.Header
}

func (c *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.header.Clone(), Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r,
	}, nil
}

// benchKeys are two fixed 2048-bit RSA keys made for the benchmarks alone
// (testdata/benchkeys, by openssl genpkey), read on the first benchmark
// that needs them. Fixed rather than generated, so that a run does the same
// work every time: the instruction counts (benchreport -instructions) take
// the difference of two runs, which a random key generation would swamp.
var benchKeys = sync.OnceValue(func() struct{ merchant, platform *rsa.PrivateKey } {
	return struct{ merchant, platform *rsa.PrivateKey }{benchKey("merchant"), benchKey("platform")}
})

func benchKey(name string) *rsa.PrivateKey {
	b, err := os.ReadFile(filepath.Join("testdata", "benchkeys", name+".pem"))
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		panic("testdata/benchkeys/" + name + ".pem: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
}

const benchPubKeyID = "PUB_KEY_ID_0000000000000000000000000000"

// benchCore returns a core client whose transport answers body, signed.
func benchCore(b *testing.B, body string) *core.Client {
	b.Helper()
	keys := benchKeys()
	h := signedHeader(keys.platform, benchPubKeyID, body)
	h.Set("Request-ID", "08BENCH")
	cc, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher("10000098", "SERIAL", keys.merchant, benchPubKeyID, &keys.platform.PublicKey),
		option.WithHTTPClient(&http.Client{Transport: &cannedTransport{body: []byte(body), header: h}}))
	if err != nil {
		b.Fatal(err)
	}
	return cc
}

// benchImpls runs one call three ways on the same canned core client, for
// benchstat -col /impl: impl=busifavor (ours), impl=wechatpay-go (ref, the
// generated service) and impl=rsa-floor. Requests are built before the
// timer starts, so a loop measures the call alone.
func benchImpls(b *testing.B, answer string, ours func(*busifavor.Client) error, ref func(*core.Client) error) {
	cc := benchCore(b, answer)
	b.Run("impl=busifavor", func(b *testing.B) {
		c, err := busifavor.NewClient(cc)
		if err != nil {
			b.Fatal(err)
		}
		benchLoop(b, func() error { return ours(c) })
	})
	b.Run("impl=wechatpay-go", func(b *testing.B) { benchLoop(b, func() error { return ref(cc) }) })
	b.Run("impl=rsa-floor", rsaFloor)
}

// benchLoop calls call b.N times, failing on the first error.
func benchLoop(b *testing.B, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
}

// rsaFloor is one SHA256-RSA2048 signature and one verification: what every
// API call pays and no client can avoid. It runs as a third "impl" beside
// both calls, so benchstat -col /impl puts the three side by side.
func rsaFloor(b *testing.B) {
	msg := []byte("POST\n/v3/marketing/busifavor/callbacks\n1700000000\nNONCE\n{\"notify_url\":\"https://pay.weixin.qq.com\"}\n")
	key := benchKeys().merchant
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	keys := benchKeys()
	s := busifavortest.NewServer(busifavortest.WithMerchantKey(keys.merchant, "SERIAL"),
		busifavortest.WithPlatformKey(keys.platform, benchPubKeyID))
	b.Cleanup(s.Close)
	h, body := s.CouponNotification(sampleCoupon)
	parser := func(b *testing.B) *busifavor.EventParser {
		p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	b.Run("impl=busifavor", func(b *testing.B) {
		p := parser(b)
		benchLoop(b, func() error { _, err := p.Parse(ctx, h, body); return err })
	})
	b.Run("impl=busifavor-request", func(b *testing.B) {
		p := parser(b)
		benchLoop(b, func() error { _, err := p.ParseRequest(notifyRequest(h, body)); return err })
	})
	b.Run("impl=wechatpay-go", func(b *testing.B) {
		nh, err := notify.NewRSANotifyHandler(s.APIv3Key(), s.Verifier().(auth.Verifier))
		if err != nil {
			b.Fatal(err)
		}
		benchLoop(b, func() error {
			var content map[string]any
			_, err := nh.ParseNotifyRequest(ctx, notifyRequest(h, body), &content)
			return err
		})
	})
}

// notifyRequest is a fresh notification request, as each delivery is.
func notifyRequest(h http.Header, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
	req.Header = h
	return req
}

func BenchmarkValidate(b *testing.B) {
	req := busifavor.SetCallbacksRequest{MchID: "10000098", NotifyURL: "https://example.com/busifavor/notify"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCreateStock(b *testing.B) {
	req := sampleStock("1000009820261127001")
	b.ReportAllocs()
	for range b.N {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// One benchmark per endpoint (answers_test.go's table), each three ways
// (benchImpls): the answer is wechatpay-go's model with every field set,
// marshalled by wechatpay-go, so both clients decode the same bytes. The
// lists run at 20 and at 100 items (sub-benchmarks items=20, items=100).

func BenchmarkSetCallbacks(b *testing.B)            { benchEndpoint(b, "SetCallbacks") }
func BenchmarkGetCallbacks(b *testing.B)            { benchEndpoint(b, "GetCallbacks") }
func BenchmarkCreateStock(b *testing.B)             { benchEndpoint(b, "CreateStock") }
func BenchmarkGetStock(b *testing.B)                { benchEndpoint(b, "GetStock") }
func BenchmarkUpdateStock(b *testing.B)             { benchEndpoint(b, "UpdateStock") }
func BenchmarkUpdateStockBudget(b *testing.B)       { benchEndpoint(b, "UpdateStockBudget") }
func BenchmarkUploadCouponCodes(b *testing.B)       { benchEndpoint(b, "UploadCouponCodes") }
func BenchmarkListCouponCodes(b *testing.B)         { benchEndpoint(b, "ListCouponCodes") }
func BenchmarkGetCouponCode(b *testing.B)           { benchEndpoint(b, "GetCouponCode") }
func BenchmarkDeleteCouponCode(b *testing.B)        { benchEndpoint(b, "DeleteCouponCode") }
func BenchmarkSendCoupon(b *testing.B)              { benchEndpoint(b, "SendCoupon") }
func BenchmarkUseCoupon(b *testing.B)               { benchEndpoint(b, "UseCoupon") }
func BenchmarkGetUserCoupon(b *testing.B)           { benchEndpoint(b, "GetUserCoupon") }
func BenchmarkListUserCoupons(b *testing.B)         { benchEndpoint(b, "ListUserCoupons") }
func BenchmarkAssociateTradeInfo(b *testing.B)      { benchEndpoint(b, "AssociateTradeInfo") }
func BenchmarkDisassociateTradeInfo(b *testing.B)   { benchEndpoint(b, "DisassociateTradeInfo") }
func BenchmarkReturnCoupon(b *testing.B)            { benchEndpoint(b, "ReturnCoupon") }
func BenchmarkDeactivateCoupon(b *testing.B)        { benchEndpoint(b, "DeactivateCoupon") }
func BenchmarkSendGovCard(b *testing.B)             { benchEndpoint(b, "SendGovCard") }
func BenchmarkCreateSubsidyPayReceipt(b *testing.B) { benchEndpoint(b, "CreateSubsidyPayReceipt") }
func BenchmarkGetSubsidyPayReceipt(b *testing.B)    { benchEndpoint(b, "GetSubsidyPayReceipt") }
func BenchmarkListSubsidyPayReceipts(b *testing.B)  { benchEndpoint(b, "ListSubsidyPayReceipts") }
func BenchmarkCreateSubsidyReturnReceipt(b *testing.B) {
	benchEndpoint(b, "CreateSubsidyReturnReceipt")
}
func BenchmarkGetSubsidyReturnReceipt(b *testing.B) { benchEndpoint(b, "GetSubsidyReturnReceipt") }

// listSizes are the page sizes the list endpoints are measured at.
var listSizes = []int{20, 100}

// benchEndpoint runs the named endpoint of answers_test.go three ways on
// its canned answer, a list at each of listSizes.
func benchEndpoint(b *testing.B, name string) {
	e := endpointNamed(name)
	run := func(b *testing.B, n int) {
		var body []byte
		if e.answer != nil {
			var err error
			if body, err = json.Marshal(e.answer(n)); err != nil {
				b.Fatal(err)
			}
		}
		benchImpls(b, string(body),
			func(c *busifavor.Client) error { _, err := e.ours(ctx, c); return err },
			func(cc *core.Client) error { return e.ref(ctx, cc) })
	}
	if !e.list {
		run(b, 1)
		return
	}
	for _, n := range listSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) { run(b, n) })
	}
}
