package busifavorotel_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavorotel"
	"github.com/busifavor-go/busifavor/busifavortest"
)

var ctx = context.Background()

// telemetry is an Observer on the SDK's providers, with the in-memory span
// recorder and a manual metric reader.
type telemetry struct {
	obs    *busifavorotel.Observer
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) })
	return &telemetry{obs: busifavorotel.New(busifavorotel.WithTracerProvider(tp), busifavorotel.WithMeterProvider(mp)),
		spans: spans, tp: tp, reader: reader}
}

// ended returns the ended spans named name.
func (tm *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tm.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// points returns, for the metric called name, each data point's count (a
// histogram's) or value (a counter's), keyed by its attributes as
// "k=v,k=v".
func (tm *telemetry) points(t *testing.T, name string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tm.reader.Collect(ctx, &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, busifavorotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Encoded(attribute.DefaultEncoder())] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Encoded(attribute.DefaultEncoder())] += int64(p.Count)
					assert.Positive(t, p.Sum, "durations are measured")
				}
			default:
				t.Fatalf("%s: unexpected data %T", name, m.Data)
			}
		}
	}
	return out
}

// attrs returns the attributes as a map.
func attrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// fast retries without real waiting to speak of.
var fast = busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})

// callSpan returns the one span of op and checks what every call span has.
func (tm *telemetry) callSpan(t *testing.T, op, method, template string) (sdktrace.ReadOnlySpan, map[string]any) {
	t.Helper()
	spans := tm.ended("busifavor/" + op)
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	a := attrs(s.Attributes())
	for k, v := range map[string]any{"rpc.system": "wechatpay", "rpc.service": "busifavor", "rpc.method": op,
		"http.request.method": method, "url.template": template} {
		assert.Equal(t, v, a[k], k)
	}
	assert.NotContains(t, a, "busifavor.read_back_of")
	return s, a
}

func TestGoodCall(t *testing.T) {
	tm := newTelemetry(t)
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	c, err := s.Client(busifavor.WithObserver(tm.obs))
	require.NoError(t, err)
	resp, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/busifavor/notify"})
	require.NoError(t, err)

	span, a := tm.callSpan(t, "SetCallbacks", "POST", "/v3/marketing/busifavor/callbacks")
	assert.Equal(t, int64(200), a["http.response.status_code"])
	assert.Equal(t, resp.RequestID, a["wechatpay.request_id"])
	assert.Equal(t, int64(1), a["busifavor.attempts"])
	assert.NotContains(t, a, "error.type")
	assert.Equal(t, codes.Unset, span.Status().Code)
	require.Len(t, span.Events(), 1)
	ev := span.Events()[0]
	assert.Equal(t, "busifavor.attempt", ev.Name)
	ea := attrs(ev.Attributes)
	assert.Equal(t, int64(1), ea["busifavor.attempt"])
	assert.Equal(t, strings.TrimPrefix(s.URL, "http://"), ea["server.address"])
	assert.Equal(t, int64(200), ea["http.response.status_code"])
	assert.Equal(t, resp.RequestID, ea["wechatpay.request_id"])
	assert.Positive(t, ea["busifavor.duration"])
	assert.NotContains(t, ea, "busifavor.retry.reason")

	assert.Equal(t, map[string]int64{"busifavor.outcome=ok,rpc.method=SetCallbacks": 1}, tm.points(t, "busifavor.client.call.duration"))
	assert.Empty(t, tm.points(t, "busifavor.client.retries"))
}

func TestRefusedCall(t *testing.T) {
	tm := newTelemetry(t)
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	c, err := s.Client(busifavor.WithObserver(tm.obs), fast)
	require.NoError(t, err)
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeParamError})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)

	span, a := tm.callSpan(t, "GetCallbacks", "GET", "/v3/marketing/busifavor/callbacks")
	assert.Equal(t, int64(400), a["http.response.status_code"])
	assert.Equal(t, "PARAM_ERROR", a["error.type"])
	assert.Equal(t, apiErr.RequestID, a["wechatpay.request_id"])
	assert.Equal(t, int64(1), a["busifavor.attempts"], "a refusal is not retried")
	assert.Equal(t, codes.Error, span.Status().Code)
	assert.Equal(t, err.Error(), span.Status().Description)
	require.Len(t, span.Events(), 1)
	assert.Equal(t, "PARAM_ERROR", attrs(span.Events()[0].Attributes)["error.type"])

	assert.Equal(t, map[string]int64{"busifavor.outcome=refused,error.type=PARAM_ERROR,rpc.method=GetCallbacks": 1},
		tm.points(t, "busifavor.client.call.duration"))
	assert.Empty(t, tm.points(t, "busifavor.client.retries"))
}

func TestRetriedCall(t *testing.T) {
	tm := newTelemetry(t)
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"))
	t.Cleanup(s.Close)
	c, err := s.Client(busifavor.WithObserver(tm.obs), fast)
	require.NoError(t, err)
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)

	span, a := tm.callSpan(t, "GetCallbacks", "GET", "/v3/marketing/busifavor/callbacks")
	assert.Equal(t, int64(200), a["http.response.status_code"])
	assert.Equal(t, int64(2), a["busifavor.attempts"])
	assert.Equal(t, codes.Unset, span.Status().Code)
	require.Len(t, span.Events(), 2)
	first, second := attrs(span.Events()[0].Attributes), attrs(span.Events()[1].Attributes)
	assert.Equal(t, int64(500), first["http.response.status_code"])
	assert.Equal(t, "SYSTEM_ERROR", first["error.type"])
	assert.Equal(t, int64(2), second["busifavor.attempt"])
	assert.Equal(t, int64(200), second["http.response.status_code"])
	assert.Equal(t, "server_error", second["busifavor.retry.reason"])
	assert.Equal(t, false, second["busifavor.failover"])
	assert.Equal(t, first["server.address"], second["server.address"])

	assert.Equal(t, map[string]int64{"busifavor.outcome=ok,rpc.method=GetCallbacks": 1}, tm.points(t, "busifavor.client.call.duration"))
	assert.Equal(t, map[string]int64{"busifavor.failover=false,busifavor.retry.reason=server_error,rpc.method=GetCallbacks": 1},
		tm.points(t, "busifavor.client.retries"))
}

func TestFailover(t *testing.T) {
	tm := newTelemetry(t)
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	opts := []busifavortest.Option{busifavortest.WithMerchantKey(merchant, "SERIAL"), busifavortest.WithPlatformKey(platform, "PUB_KEY_ID_TWIN"),
		busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n")}
	primary, backup := busifavortest.NewServer(opts...), busifavortest.NewServer(opts...)
	t.Cleanup(primary.Close)
	t.Cleanup(backup.Close)
	c, err := primary.Client(busifavor.WithObserver(tm.obs), fast, busifavor.WithBackupBaseURL(backup.URL))
	require.NoError(t, err)
	primary.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.NoError(t, err)

	span, a := tm.callSpan(t, "GetCallbacks", "GET", "/v3/marketing/busifavor/callbacks")
	assert.Equal(t, int64(2), a["busifavor.attempts"])
	require.Len(t, span.Events(), 2)
	first, second := attrs(span.Events()[0].Attributes), attrs(span.Events()[1].Attributes)
	assert.Equal(t, strings.TrimPrefix(primary.URL, "http://"), first["server.address"])
	assert.Equal(t, strings.TrimPrefix(backup.URL, "http://"), second["server.address"])
	assert.Equal(t, true, second["busifavor.failover"])
	assert.Equal(t, map[string]int64{"busifavor.failover=true,busifavor.retry.reason=server_error,rpc.method=GetCallbacks": 1},
		tm.points(t, "busifavor.client.retries"))
}

// events is one handler, observed, with Deduplicate over memory, whose
// function starts a span of its own.
type events struct {
	tm      *telemetry
	s       *busifavortest.Server
	handler http.Handler
}

func newEvents(t *testing.T) *events {
	tm := newTelemetry(t)
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	parser, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier(), busifavor.WithEventObserver(tm.obs))
	require.NoError(t, err)
	mem, err := busifavor.NewMemoryDeduplicator(100, busifavor.WithDoneTTL(time.Hour))
	require.NoError(t, err)
	app := tm.tp.Tracer("merchant-backend")
	fn := func(ctx context.Context, ev *busifavor.CouponEvent) error {
		_, span := app.Start(ctx, "record coupon")
		span.End()
		return nil
	}
	deduped, err := busifavor.Deduplicate(mem, fn, busifavor.WithDedupObserver(tm.obs))
	require.NoError(t, err)
	return &events{tm: tm, s: s, handler: busifavor.NewEventHandler(parser, deduped)}
}

// deliver posts a notification and returns the status and the event span.
func (e *events) deliver(t *testing.T, header http.Header, body string) (int, sdktrace.ReadOnlySpan) {
	t.Helper()
	e.tm.spans.Reset()
	req := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
	req.Header = header
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	spans := e.tm.ended("busifavor/event")
	require.Len(t, spans, 1)
	assert.Equal(t, trace.SpanKindConsumer, spans[0].SpanKind())
	assert.Equal(t, int64(w.Code), attrs(spans[0].Attributes())["http.response.status_code"])
	return w.Code, spans[0]
}

// eventNames are the names of a span's events.
func eventNames(s sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, e := range s.Events() {
		names = append(names, e.Name)
	}
	return names
}

func TestEventHandledThenDuplicate(t *testing.T) {
	e := newEvents(t)
	header, body := e.s.CouponNotification(busifavor.CouponSend{CouponCode: "CODE-0001", StockID: "1234567891", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})

	t.Run("handled", func(t *testing.T) {
		code, span := e.deliver(t, header.Clone(), string(body))
		assert.Equal(t, http.StatusNoContent, code)
		a := attrs(span.Attributes())
		assert.Equal(t, "handled", a["busifavor.event.outcome"])
		assert.Equal(t, "COUPON.SEND", a["busifavor.event.type"])
		assert.Len(t, a["busifavor.event.id"], 36)
		assert.Positive(t, a["busifavor.event.parse_duration"])
		assert.Positive(t, a["busifavor.event.handler_duration"])
		assert.NotContains(t, a, "busifavor.event.reason")
		assert.Equal(t, codes.Unset, span.Status().Code)
		assert.Equal(t, []string{"busifavor.dedup.claim", "busifavor.dedup.complete"}, eventNames(span))
		assert.Equal(t, "claimed", attrs(span.Events()[0].Attributes)["busifavor.dedup.status"])

		app := e.tm.ended("record coupon")
		require.Len(t, app, 1)
		assert.Equal(t, span.SpanContext().SpanID(), app[0].Parent().SpanID(), "the handler's span nests in the event's")
		assert.Equal(t, span.SpanContext().TraceID(), app[0].SpanContext().TraceID())

		assert.Equal(t, map[string]int64{"busifavor.event.outcome=handled": 1}, e.tm.points(t, "busifavor.events"))
		assert.Equal(t, map[string]int64{"busifavor.event.outcome=handled": 1}, e.tm.points(t, "busifavor.event.handler.duration"))
	})
	t.Run("the same event again: duplicate", func(t *testing.T) {
		code, span := e.deliver(t, header.Clone(), string(body))
		assert.Equal(t, http.StatusNoContent, code)
		assert.Equal(t, "duplicate", attrs(span.Attributes())["busifavor.event.outcome"])
		assert.Equal(t, []string{"busifavor.dedup.claim"}, eventNames(span))
		assert.Equal(t, "done", attrs(span.Events()[0].Attributes)["busifavor.dedup.status"])
		assert.Empty(t, e.tm.ended("record coupon"), "the handler function did not run again")
		assert.Equal(t, map[string]int64{"busifavor.event.outcome=handled": 1, "busifavor.event.outcome=duplicate": 1},
			e.tm.points(t, "busifavor.events"))
	})
}

func TestForgedEventRefused(t *testing.T) {
	e := newEvents(t)
	header, body := e.s.CouponNotification(busifavor.CouponSend{CouponCode: "CODE-0001", StockID: "1234567891", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
	forged := strings.Replace(string(body), `"COUPON.SEND"`, `"COUPON.FAKE"`, 1)
	require.NotEqual(t, string(body), forged)

	code, span := e.deliver(t, header, forged)
	assert.Equal(t, http.StatusUnauthorized, code)
	a := attrs(span.Attributes())
	assert.Equal(t, "refused", a["busifavor.event.outcome"])
	assert.Equal(t, "signature", a["busifavor.event.reason"])
	assert.NotContains(t, a, "busifavor.event.id", "nothing in a body whose signature fails is believed")
	assert.NotContains(t, a, "busifavor.event.handler_duration")
	assert.Equal(t, codes.Error, span.Status().Code)
	assert.Equal(t, "refused: signature", span.Status().Description)
	assert.Empty(t, span.Events(), "the deduplicator was not asked")
	assert.Empty(t, e.tm.ended("record coupon"))
	assert.Equal(t, map[string]int64{"busifavor.event.outcome=refused,busifavor.event.reason=signature": 1}, e.tm.points(t, "busifavor.events"))
	assert.Empty(t, e.tm.points(t, "busifavor.event.handler.duration"))
}

// TestMoneyCreateReadBack: a payment whose answer is lost is read back,
// each read a child span of the create's, marked as its read-back; the
// create ends with its outcome unknown.
func TestMoneyCreateReadBack(t *testing.T) {
	tm := newTelemetry(t)
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	c, err := s.Client(busifavor.WithObserver(tm.obs), busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)
	s.FailOn("CreateSubsidyPayReceipt", 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	s.FailOn("ListSubsidyPayReceipts", 2, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{"pay_receipt_list":[]}`})
	_, err = c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: "1200000001", CouponCode: "CODE-0001",
		TransactionID: "4200000913202101152566792388", PayerMerchant: busifavortest.DefaultMchID, PayeeMerchant: "1900000109",
		Amount: 100, Description: "满减补差", OutSubsidyNo: "pay-1"})
	require.ErrorIs(t, err, busifavor.ErrOutcomeUnknown)

	create, a := tm.callSpan(t, "CreateSubsidyPayReceipt", "POST", "/v3/marketing/busifavor/subsidy/pay-receipts")
	assert.Equal(t, "outcome_unknown", a["error.type"])
	assert.Equal(t, int64(2), a["busifavor.attempts"])
	reads := tm.ended("busifavor/ListSubsidyPayReceipts")
	require.Len(t, reads, 2)
	for _, r := range reads {
		assert.Equal(t, create.SpanContext().SpanID(), r.Parent().SpanID(), "the read-back is a step of the create")
		assert.Equal(t, "CreateSubsidyPayReceipt", attrs(r.Attributes())["busifavor.read_back_of"])
	}
	assert.Equal(t, map[string]int64{
		"busifavor.outcome=failed,error.type=outcome_unknown,rpc.method=CreateSubsidyPayReceipt": 1,
		"busifavor.outcome=ok,rpc.method=ListSubsidyPayReceipts":                                 2,
	}, tm.points(t, "busifavor.client.call.duration"))
	assert.Equal(t, map[string]int64{"busifavor.failover=false,busifavor.retry.reason=server_error,rpc.method=CreateSubsidyPayReceipt": 1},
		tm.points(t, "busifavor.client.retries"), "the identical request sent again after the read is a retry")
}
