// Package busifavorotel reports busifavor's calls, notifications and
// de-duplication as OpenTelemetry spans and metrics. Its Observer goes
// straight into the three options of package busifavor:
//
//	obs := busifavorotel.New() // the global providers, as otelhttp's default
//	client, err := busifavor.NewClient(core, busifavor.WithObserver(obs))
//	parser, err := busifavor.NewEventParser(apiV3Key, verifier, busifavor.WithEventObserver(obs))
//	handle, err := busifavor.Deduplicate(store, fn, busifavor.WithDedupObserver(obs))
//
// It is a module of its own so that busifavor itself depends on no
// OpenTelemetry package: an application that does not use it does not
// download, build or vet it.
//
// # Spans
//
// One span per call, a client span named "busifavor/" and the method
// ("busifavor/UseCoupon"), with rpc.system "wechatpay", rpc.service
// "busifavor", rpc.method (the method), http.request.method, url.template
// (the path template of WeChat Pay's page, never the path sent, which holds
// openids and coupon codes), server.address and http.response.status_code
// of the last attempt, wechatpay.request_id (the Request-ID WeChat Pay
// support asks for), busifavor.attempts, and, on failure, error.type (the
// WeChat Pay error code, as PARAM_ERROR, or the kind of failure: no_answer,
// timeout, canceled, outcome_unknown, bad_signature, malformed_answer,
// redirect, request_no_reused, _OTHER) with the status Error and the
// error's text, which this package keeps free of personal data. Each
// attempt is a span event "busifavor.attempt" with busifavor.attempt (its
// number), server.address, http.response.status_code, error.type,
// wechatpay.request_id, busifavor.duration (seconds) and, on a retry,
// busifavor.retry.reason (no_answer, rate_limited, server_error) and
// busifavor.failover. A money create's read-back is a child span of the
// create, marked busifavor.read_back_of.
//
// One span per notification, a consumer span "busifavor/event", with
// busifavor.event.outcome (handled, duplicate, in_flight, refused, failed,
// parsed), busifavor.event.reason for refused and failed (signature,
// timestamp, decryption, body, body_too_large, method, no_id, handler,
// panic, deduplicator), busifavor.event.id and busifavor.event.type once the
// signature verified, http.response.status_code (NewEventHandler's answer),
// busifavor.event.parse_duration and busifavor.event.handler_duration
// (seconds). The handler function runs inside it: spans it starts from its
// context nest there. Each call Deduplicate makes to its Deduplicator is a
// span event "busifavor.dedup.claim", "busifavor.dedup.complete" or
// "busifavor.dedup.release" with busifavor.duration,
// busifavor.dedup.status (a claim's: claimed, in flight, done),
// busifavor.dedup.error and busifavor.dedup.late.
//
// # Metrics
//
// Low-cardinality only: no id, no path, no Request-ID.
//
//   - busifavor.client.call.duration (histogram, s): each call, by rpc.method,
//     busifavor.outcome (ok; refused: WeChat Pay answered 4xx; failed:
//     everything else) and error.type on failure (a code of more than 64
//     bytes, or not of capital letters, digits and underscores, counts as
//     _OTHER).
//   - busifavor.client.retries (counter): each attempt after the first, by
//     rpc.method, busifavor.retry.reason and busifavor.failover.
//   - busifavor.events (counter): each notification, by
//     busifavor.event.outcome and busifavor.event.reason.
//   - busifavor.event.handler.duration (histogram, s): each call of the
//     handler function, by busifavor.event.outcome.
//
// # Cost
//
// busifavor calls the Observer synchronously on the goroutine doing the
// work, so its cost is added to every call and every notification:
// BENCHMARKS.md measures it on the SDK's providers (a few microseconds
// against about a millisecond of RSA per call).
package busifavorotel

import (
	"context"
	"errors"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/busifavor-go/busifavor"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/busifavor-go/busifavor/busifavorotel"

// Observer is a busifavor.Observer that makes OpenTelemetry spans and
// metrics. It is safe for concurrent use; one serves every client, parser
// and Deduplicate of a process.
type Observer struct {
	tracer          trace.Tracer
	callDuration    metric.Float64Histogram
	retries         metric.Int64Counter
	events          metric.Int64Counter
	handlerDuration metric.Float64Histogram
	// eventAttrs and outcomeAttrs hold the metric attributes of every
	// outcome and reason busifavor documents, made once: a notification's
	// metrics then make no attribute set of their own.
	eventAttrs   map[eventKey]metric.MeasurementOption
	outcomeAttrs map[busifavor.EventOutcome]metric.MeasurementOption
}

// eventKey is an outcome with its reason.
type eventKey struct {
	outcome busifavor.EventOutcome
	reason  busifavor.EventReason
}

// eventKeys are the outcomes and reasons busifavor documents.
var eventKeys = func() []eventKey {
	keys := []eventKey{{busifavor.EventHandled, ""}, {busifavor.EventDuplicate, ""}, {busifavor.EventInFlight, ""}, {busifavor.EventParsed, ""}}
	for _, r := range []busifavor.EventReason{busifavor.EventReasonMethod, busifavor.EventReasonSignature, busifavor.EventReasonTimestamp,
		busifavor.EventReasonDecryption, busifavor.EventReasonBody, busifavor.EventReasonBodyTooLarge, busifavor.EventReasonNoID} {
		keys = append(keys, eventKey{busifavor.EventRefused, r})
	}
	for _, r := range []busifavor.EventReason{busifavor.EventReasonHandler, busifavor.EventReasonPanic, busifavor.EventReasonDeduplicator} {
		keys = append(keys, eventKey{busifavor.EventFailed, r})
	}
	return keys
}()

// eventAttributes are the metric attributes of an outcome and its reason.
func eventAttributes(k eventKey) metric.MeasurementOption {
	if k.reason == "" {
		return metric.WithAttributes(keyEventOutcome.String(string(k.outcome)))
	}
	return metric.WithAttributes(keyEventOutcome.String(string(k.outcome)), keyEventReason.String(string(k.reason)))
}

var _ busifavor.Observer = (*Observer)(nil)

// config is New's settings.
type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// Option configures New.
type Option func(*config)

// WithTracerProvider sets where spans go (default otel.GetTracerProvider(),
// read when New is called). It panics on nil: leave the option out for the
// global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	if tp == nil {
		panic("busifavorotel: WithTracerProvider: nil provider; leave the option out for the global one")
	}
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go (default otel.GetMeterProvider(),
// read when New is called). It panics on nil: leave the option out for the
// global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	if mp == nil {
		panic("busifavorotel: WithMeterProvider: nil provider; leave the option out for the global one")
	}
	return func(c *config) { c.mp = mp }
}

// durationBuckets are the histograms' bounds in seconds, OpenTelemetry's
// RPC duration advice: a call is about a millisecond of RSA plus the round
// trip, a notification's handler should end well within WeChat Pay's 5 s.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// New returns an Observer on the given providers, or the global ones. It
// panics on a nil option.
func New(opts ...Option) *Observer {
	var cfg config
	for _, o := range opts {
		if o == nil {
			panic("busifavorotel: New: nil Option")
		}
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	meter := cfg.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		eventAttrs: map[eventKey]metric.MeasurementOption{}, outcomeAttrs: map[busifavor.EventOutcome]metric.MeasurementOption{}}
	for _, k := range eventKeys {
		o.eventAttrs[k] = eventAttributes(k)
		o.outcomeAttrs[k.outcome] = eventAttributes(eventKey{outcome: k.outcome})
	}
	var err, e error
	// An instrument that cannot be made comes back as a no-op one, with the
	// error handed to otel.Handle, as the API advises.
	o.callDuration, err = meter.Float64Histogram("busifavor.client.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of busifavor's calls to WeChat Pay's API, retries included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	o.retries, e = meter.Int64Counter("busifavor.client.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Attempts after the first of busifavor's calls to WeChat Pay's API."))
	err = errors.Join(err, e)
	o.events, e = meter.Int64Counter("busifavor.events", metric.WithUnit("{event}"),
		metric.WithDescription("Coupon event notifications received, by outcome."))
	err = errors.Join(err, e)
	o.handlerDuration, e = meter.Float64Histogram("busifavor.event.handler.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the notification handler function, de-duplication included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err = errors.Join(err, e); err != nil {
		otel.Handle(err)
	}
	return o
}

// Attribute keys of this package; the others are OpenTelemetry's semantic
// conventions (semconv v1.37.0).
const (
	keyRequestID      = attribute.Key("wechatpay.request_id")
	keyAttempts       = attribute.Key("busifavor.attempts")
	keyAttempt        = attribute.Key("busifavor.attempt")
	keyDuration       = attribute.Key("busifavor.duration")
	keyRetryReason    = attribute.Key("busifavor.retry.reason")
	keyFailover       = attribute.Key("busifavor.failover")
	keyReadBackOf     = attribute.Key("busifavor.read_back_of")
	keyOutcome        = attribute.Key("busifavor.outcome")
	keyEventOutcome   = attribute.Key("busifavor.event.outcome")
	keyEventReason    = attribute.Key("busifavor.event.reason")
	keyEventID        = attribute.Key("busifavor.event.id")
	keyEventType      = attribute.Key("busifavor.event.type")
	keyParseDuration  = attribute.Key("busifavor.event.parse_duration")
	keyHandleDuration = attribute.Key("busifavor.event.handler_duration")
	keyStoreStatus    = attribute.Key("busifavor.dedup.status")
	keyStoreError     = attribute.Key("busifavor.dedup.error")
	keyStoreLate      = attribute.Key("busifavor.dedup.late")
)

var (
	rpcSystem  = semconv.RPCSystemKey.String("wechatpay")
	rpcService = semconv.RPCService("busifavor")
)

// StartCall starts the call's client span.
func (o *Observer) StartCall(ctx context.Context, c busifavor.Call) context.Context {
	attrs := []attribute.KeyValue{rpcSystem, rpcService, semconv.RPCMethod(c.Operation),
		semconv.HTTPRequestMethodKey.String(c.Method), semconv.URLTemplate(c.Path)}
	if c.ReadBackOf != "" {
		attrs = append(attrs, keyReadBackOf.String(c.ReadBackOf))
	}
	ctx, _ = o.tracer.Start(ctx, "busifavor/"+c.Operation, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx
}

// EndAttempt adds the attempt to the call's span as an event, and counts a
// retry.
func (o *Observer) EndAttempt(ctx context.Context, a busifavor.Attempt) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 8)
		attrs = append(attrs, keyAttempt.Int(a.Number), semconv.ServerAddress(a.Host), keyDuration.Float64(a.Duration.Seconds()))
		if a.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		if a.RequestID != "" {
			attrs = append(attrs, keyRequestID.String(a.RequestID))
		}
		if a.Err != nil {
			errType, _ := classify(a.Err, a.ErrorCode, false)
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		if a.Retry != "" {
			attrs = append(attrs, keyRetryReason.String(string(a.Retry)), keyFailover.Bool(a.FailedOver))
		}
		span.AddEvent("busifavor.attempt", trace.WithAttributes(attrs...))
	}
	if a.Number > 1 {
		o.retries.Add(ctx, 1, metric.WithAttributes(semconv.RPCMethod(a.Operation),
			keyRetryReason.String(string(a.Retry)), keyFailover.Bool(a.FailedOver)))
	}
}

// EndCall ends the call's span and records its duration.
func (o *Observer) EndCall(ctx context.Context, r busifavor.CallResult) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 5)
		attrs = append(attrs, keyAttempts.Int(r.Attempts))
		if r.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(r.StatusCode))
		}
		if r.RequestID != "" {
			attrs = append(attrs, keyRequestID.String(r.RequestID))
		}
		if r.Err != nil {
			errType, _ := classify(r.Err, r.ErrorCode, false)
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
			span.SetStatus(codes.Error, r.Err.Error())
		}
		span.SetAttributes(attrs...)
	}
	span.End()
	outcome := "ok"
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, semconv.RPCMethod(r.Operation))
	if r.Err != nil {
		errType, refused := classify(r.Err, r.ErrorCode, true)
		outcome = "failed"
		if refused {
			outcome = "refused"
		}
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	attrs = append(attrs, keyOutcome.String(outcome))
	o.callDuration.Record(ctx, r.Duration.Seconds(), metric.WithAttributes(attrs...))
}

// classify gives error.type for a failed call or attempt: the WeChat Pay
// code of its answer (its HTTP status when it has none), or the kind of
// failure; and whether the failure is WeChat Pay's refusal, a 4xx answer.
// forMetric bounds what a server can make of the code.
func classify(err error, code busifavor.ErrorCode, forMetric bool) (errType string, refused bool) {
	var apiErr *busifavor.APIError
	switch {
	case errors.Is(err, busifavor.ErrOutcomeUnknown):
		return "outcome_unknown", false
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", false
	case errors.Is(err, context.Canceled):
		return "canceled", false
	case errors.Is(err, busifavor.ErrTransport):
		return "no_answer", false
	case errors.As(err, &apiErr):
		refused = apiErr.StatusCode < 500
		switch {
		case apiErr.Code == "":
			return strconv.Itoa(apiErr.StatusCode), refused
		case forMetric && !isCode(string(apiErr.Code)):
			return "_OTHER", refused
		}
		return string(apiErr.Code), refused
	case errors.Is(err, busifavor.ErrResponseSignature):
		return "bad_signature", false
	case errors.Is(err, busifavor.ErrRedirect):
		return "redirect", false
	case errors.Is(err, busifavor.ErrMalformedResponse):
		return "malformed_answer", false
	case errors.Is(err, busifavor.ErrRequestNoReused):
		return "request_no_reused", false
	case code != "" && (!forMetric || isCode(string(code))):
		return string(code), false
	}
	return "_OTHER", false
}

// isCode reports whether s looks like a WeChat Pay error code: at most 64
// capital letters, digits and underscores.
func isCode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// StartEvent starts the notification's span; the handler function runs in
// the context it returns.
func (o *Observer) StartEvent(ctx context.Context) context.Context {
	ctx, _ = o.tracer.Start(ctx, "busifavor/event", trace.WithSpanKind(trace.SpanKindConsumer))
	return ctx
}

// EndEvent ends the notification's span and counts it.
func (o *Observer) EndEvent(ctx context.Context, r busifavor.EventResult) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 8)
		attrs = append(attrs, keyEventOutcome.String(string(r.Outcome)), keyParseDuration.Float64(r.ParseDuration.Seconds()))
		if r.Reason != "" {
			attrs = append(attrs, keyEventReason.String(string(r.Reason)))
		}
		if r.EventID != "" {
			attrs = append(attrs, keyEventID.String(r.EventID), keyEventType.String(string(r.EventType)))
		}
		if r.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(r.StatusCode))
		}
		if r.HandlerDuration != 0 {
			attrs = append(attrs, keyHandleDuration.Float64(r.HandlerDuration.Seconds()))
		}
		span.SetAttributes(attrs...)
		if r.Outcome == busifavor.EventRefused || r.Outcome == busifavor.EventFailed {
			// The reason, not the error: a handler's error is the
			// application's own, and may say anything.
			span.SetStatus(codes.Error, string(r.Outcome)+": "+string(r.Reason))
		}
	}
	span.End()
	k := eventKey{r.Outcome, r.Reason}
	a, ok := o.eventAttrs[k]
	if !ok {
		a = eventAttributes(k)
	}
	o.events.Add(ctx, 1, a)
	if r.HandlerDuration != 0 {
		if a, ok = o.outcomeAttrs[r.Outcome]; !ok {
			a = eventAttributes(eventKey{outcome: r.Outcome})
		}
		o.handlerDuration.Record(ctx, r.HandlerDuration.Seconds(), a)
	}
}

// storeEvents name the span events of the deduplicator's calls.
var storeEvents = map[busifavor.StoreOp]string{busifavor.StoreClaim: "busifavor.dedup.claim",
	busifavor.StoreComplete: "busifavor.dedup.complete", busifavor.StoreRelease: "busifavor.dedup.release"}

// EndStoreCall adds the deduplicator's call to the notification's span as
// an event. A call that ended after the answer finds the span ended, and
// is dropped from the trace.
func (o *Observer) EndStoreCall(ctx context.Context, s busifavor.StoreCall) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, keyDuration.Float64(s.Duration.Seconds()))
	if s.Status != 0 {
		attrs = append(attrs, keyStoreStatus.String(s.Status.String()))
	}
	if s.Err != nil {
		attrs = append(attrs, keyStoreError.String(s.Err.Error()))
	}
	if s.Late {
		attrs = append(attrs, keyStoreLate.Bool(true))
	}
	name, ok := storeEvents[s.Op]
	if !ok {
		name = "busifavor.dedup." + string(s.Op)
	}
	span.AddEvent(name, trace.WithAttributes(attrs...))
}
