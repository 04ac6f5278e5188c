package busifavor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// formatVerbs are the fmt verbs a value can reach a log line through.
var formatVerbs = []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"}

func TestPrintingAnEventNeverShowsTheOpenID(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	ev, err := newParser(t, s).Parse(ctx, h, b)
	require.NoError(t, err)
	personal := []string{sampleCoupon.OpenID, sampleCoupon.UnionID}
	hidden := func(t *testing.T, what, out string) {
		t.Helper()
		for _, id := range personal {
			assert.NotContains(t, out, id, what)
			assert.NotContains(t, out, fmt.Sprintf("%x", id), what)
			assert.NotContains(t, out, fmt.Sprintf("%X", id), what)
			assert.NotContains(t, out, id[4:20], what)
		}
	}
	for _, verb := range formatVerbs {
		for _, v := range []any{ev, *ev, ev.Coupon, &ev.Coupon} {
			out := fmt.Sprintf(verb, v)
			hidden(t, fmt.Sprintf("%s of %T", verb, v), out)
			if verb == "%v" || verb == "%+v" || verb == "%#v" {
				assert.Contains(t, out, busifavor.MaskID(sampleCoupon.OpenID), "%s of %T shows the masked openid", verb, v)
				assert.Contains(t, out, sampleCoupon.CouponCode, "%s of %T still identifies the coupon", verb, v)
			}
		}
	}
	assert.Contains(t, fmt.Sprintf("%#v", ev), "busifavor.CouponEvent{")
	assert.Contains(t, fmt.Sprintf("%s", ev), "CouponEvent{ID:"+ev.ID)

	for name, handler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var logs bytes.Buffer
		l := slog.New(handler(&logs))
		l.Info("event", "event", ev, "value", *ev, "coupon", ev.Coupon, slog.Any("any", ev))
		hidden(t, name, logs.String())
		assert.Contains(t, logs.String(), sampleCoupon.CouponCode, name)
		assert.Contains(t, logs.String(), busifavor.MaskID(sampleCoupon.UnionID), name)
	}

	// json.Marshal is unchanged: queues need the data.
	j, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Contains(t, string(j), sampleCoupon.OpenID)
	assert.Contains(t, string(j), sampleCoupon.UnionID)
	m, err := json.Marshal(ev.Masked())
	require.NoError(t, err)
	hidden(t, "Masked", string(m))
	assert.Equal(t, sampleCoupon.OpenID, ev.Coupon.OpenID, "Masked copies")
}

func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"abc":                          "***",
		"abcdefg":                      "***", // 7: too short to show any of it
		"abcdefgh":                     "abc***gh",
		"oh-394z-6CGkNoJrsDLTTUKiAnp4": "oh-***p4",
		"用户标识符号码一二":                    "用户标***一二",
	} {
		assert.Equal(t, want, busifavor.MaskID(in), in)
	}
}

func TestFormattingAParserShowsNoKey(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	p := newParser(t, s)
	key := s.APIv3Key()
	for _, verb := range formatVerbs {
		for _, v := range []any{p, *p} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, key, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", key[:8]), verb)
			assert.NotContains(t, out, fmt.Sprintf("%d", []byte(key[:4])), verb)
			assert.Contains(t, out, "busifavor.EventParser{", verb)
		}
	}
}

func TestParseRequestWithoutABody(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, _ := s.CouponNotification(sampleCoupon)
	req := &http.Request{Method: http.MethodPost, Header: h}
	ev, err := newParser(t, s).ParseRequest(req)
	assert.Nil(t, ev)
	assert.ErrorIs(t, err, busifavor.ErrMalformedNotification)
}

func TestRefusalLogsCutHeaderValues(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	var logs bytes.Buffer
	p := newParser(t, s, busifavor.WithEventLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv := httptest.NewServer(busifavor.NewEventHandler(p, func(context.Context, *busifavor.CouponEvent) error { return nil }))
	t.Cleanup(srv.Close)
	long := strings.Repeat("S", 500<<10)
	for _, header := range []string{"Wechatpay-Serial", "Wechatpay-Signature-Type"} {
		logs.Reset()
		h, b := s.CouponNotification(sampleCoupon)
		h.Set(header, long)
		req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(b))
		require.NoError(t, err)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, header)
		assert.Less(t, logs.Len(), 2<<10, "%s of 500 KiB gave %d bytes of log", header, logs.Len())
		assert.Contains(t, logs.String(), "…(cut)", header)
	}
}
