package busifavor

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Observer is told about every call a Client makes to WeChat Pay's API and
// each of its attempts, every notification an EventParser or
// NewEventHandler receives, and every call Deduplicate makes to its
// Deduplicator: what metrics and traces are made of. Set it with
// WithObserver (a Client), WithEventObserver (an EventParser, and so
// NewEventHandler) and WithDedupObserver (Deduplicate); one value serves
// all three. Package github.com/busifavor-go/busifavor/busifavorotel
// implements it with OpenTelemetry spans and metrics.
//
// Its methods are called synchronously, on the goroutine doing the work: a
// slow observer slows every call and every notification. They must be safe
// for concurrent use and should return at once (record, do not send).
// Without an observer nothing is measured and nothing is called.
//
// What an observer is given holds no openid, unionid, coupon code, key,
// body or decrypted payload: a call's path is its template
// (/v3/marketing/busifavor/users/{openid}/coupons), and an event is known
// by its id and type only. Errors are this package's, whose text holds
// none of those either (a handler function's error is the caller's own).
//
// Start methods return the context the work goes on with: a call's
// attempts, its read-back and EndCall get StartCall's; the handler function
// and EndEvent get StartEvent's, so that spans of the handler nest in the
// event's. Return ctx itself to add nothing (nil is taken for ctx). Should this package report
// more, it will do so through new, optional interfaces, so that an Observer
// written today keeps compiling.
type Observer interface {
	// StartCall is called when a Client method starts sending, after its
	// request passed validation (a request that breaks a rule sends nothing
	// and is not observed).
	StartCall(ctx context.Context, c Call) context.Context
	// EndAttempt is called after each HTTP attempt of the call, with
	// StartCall's context.
	EndAttempt(ctx context.Context, a Attempt)
	// EndCall is called when the method returns, with StartCall's context.
	EndCall(ctx context.Context, r CallResult)
	// StartEvent is called when a notification arrives at NewEventHandler's
	// handler, or EventParser.Parse or ParseRequest is called.
	StartEvent(ctx context.Context) context.Context
	// EndEvent is called when the notification has been answered (or
	// parsed, through Parse and ParseRequest), with StartEvent's context.
	EndEvent(ctx context.Context, r EventResult)
	// EndStoreCall is called after each call Deduplicate makes to its
	// Deduplicator (Claim, Complete, Release), with the handler function's
	// context. One that outlives Deduplicate's ack deadline is reported when
	// it ends, from the goroutine that waited for it (StoreCall.Late).
	EndStoreCall(ctx context.Context, s StoreCall)
}

// Call is a call to WeChat Pay's API as StartCall sees it.
type Call struct {
	// Operation is the Client method, as "UseCoupon".
	Operation string
	// Method is the HTTP method.
	Method string
	// Path is the path template of WeChat Pay's page, as
	// "/v3/marketing/busifavor/stocks/{stock_id}": never the path sent,
	// which holds ids, openids and coupon codes.
	Path string
	// ReadBackOf is set on a call a money create makes to read back whether
	// a lost attempt took effect (ListSubsidyPayReceipts, for
	// CreateSubsidyPayReceipt and CreateSubsidyReturnReceipt): that
	// create's Operation. It is "" on every other call.
	ReadBackOf string
}

// Attempt is one HTTP attempt of a call, as EndAttempt sees it.
type Attempt struct {
	Call
	// Number counts the call's attempts from 1. A money create's attempts
	// are counted across its read-backs.
	Number int
	// Host is the domain the attempt went to (the primary or the backup).
	Host string
	// StatusCode is the answer's HTTP status; 0 when no answer arrived.
	StatusCode int
	// ErrorCode is the code of an error answer.
	ErrorCode ErrorCode
	// RequestID is the answer's Request-ID.
	RequestID string
	// Duration is how long the attempt took, signing and verifying
	// included.
	Duration time.Duration
	// Err is the attempt's error; nil when a verified 2xx answer arrived.
	Err error
	// Retry says why this attempt was made: "" for the first, otherwise
	// what the attempt before it failed with.
	Retry RetryReason
	// FailedOver reports that this attempt went to another domain than the
	// attempt before it (see the package documentation, # Retries).
	FailedOver bool
}

// RetryReason is why a call made another attempt.
type RetryReason string

// Why a call made another attempt.
const (
	// RetryNoAnswer: no answer arrived (ErrTransport).
	RetryNoAnswer RetryReason = "no_answer"
	// RetryRateLimited: a 429, FREQUENCY_LIMITED or RATELIMIT_EXCEEDED.
	RetryRateLimited RetryReason = "rate_limited"
	// RetryServerError: a 5xx, SYSTEM_ERROR or SERVICE_UNAVAILABLE.
	RetryServerError RetryReason = "server_error"
)

// retryReason says what err, an attempt's error after which another was
// made, was.
func retryReason(err error) RetryReason {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return RetryNoAnswer
	}
	switch {
	case apiErr.StatusCode == http.StatusTooManyRequests, errors.Is(apiErr, ErrFrequencyLimited):
		return RetryRateLimited
	}
	return RetryServerError
}

// CallResult is a call that ended, as EndCall sees it.
type CallResult struct {
	Call
	// Attempts is how many attempts the call made (0 when its context had
	// ended before the first).
	Attempts int
	// StatusCode, ErrorCode and RequestID are the last attempt's.
	StatusCode int
	ErrorCode  ErrorCode
	RequestID  string
	// Duration is the whole call's, retries and read-backs included.
	Duration time.Duration
	// Err is what the method returned; nil on success.
	Err error
}

// EventOutcome is what became of a notification.
type EventOutcome string

// What became of a notification. The first five are NewEventHandler's;
// Parse and ParseRequest end in EventParsed or EventRefused.
const (
	// EventHandled: the handler function accepted the event (204).
	EventHandled EventOutcome = "handled"
	// EventDuplicate: Deduplicate found the event done and did not call
	// the handler function again (204).
	EventDuplicate EventOutcome = "duplicate"
	// EventInFlight: another delivery of the event is being handled (409).
	EventInFlight EventOutcome = "in_flight"
	// EventRefused: the notification was refused before the handler
	// function ran; Reason says why (401, 400, 405, 413).
	EventRefused EventOutcome = "refused"
	// EventFailed: the handler function or the deduplicator failed; Reason
	// says which (500, 503).
	EventFailed EventOutcome = "failed"
	// EventParsed: Parse or ParseRequest verified, decrypted and decoded
	// the notification.
	EventParsed EventOutcome = "parsed"
)

// EventReason says why a notification was refused or failed.
type EventReason string

// Why a notification was refused (EventRefused) or failed (EventFailed).
const (
	EventReasonMethod       EventReason = "method"         // not a POST (405)
	EventReasonSignature    EventReason = "signature"      // ErrInvalidSignature (401)
	EventReasonTimestamp    EventReason = "timestamp"      // ErrTimestampOutOfRange (401)
	EventReasonDecryption   EventReason = "decryption"     // ErrDecrypt (400)
	EventReasonBody         EventReason = "body"           // ErrMalformedNotification, a body cut short or unreadable (400)
	EventReasonBodyTooLarge EventReason = "body_too_large" // ErrBodyTooLarge (413)
	EventReasonNoID         EventReason = "no_id"          // ErrMissingEventID (400)
	EventReasonHandler      EventReason = "handler"        // the handler function returned an error (500)
	EventReasonPanic        EventReason = "panic"          // the handler function panicked (500)
	EventReasonDeduplicator EventReason = "deduplicator"   // ErrDeduplicator (503)
)

// EventResult is a notification that was answered or parsed, as EndEvent
// sees it.
type EventResult struct {
	Outcome EventOutcome
	// Reason says why the notification was refused or failed; "" otherwise.
	Reason EventReason
	// StatusCode is the HTTP status NewEventHandler answered; 0 from Parse
	// and ParseRequest.
	StatusCode int
	// EventID and EventType are the notification's id and event_type, once
	// its signature verified and its envelope decoded; "" before.
	EventID   string
	EventType EventType
	// Duration is the whole notification's, from its arrival to the answer.
	Duration time.Duration
	// ParseDuration is how long reading, verifying, decrypting and decoding
	// took.
	ParseDuration time.Duration
	// HandlerDuration is how long the handler function took, Deduplicate
	// included; 0 when it was not called.
	HandlerDuration time.Duration
	// Err is why the notification was refused or failed; nil otherwise.
	// A handler function's error is the caller's own.
	Err error
}

// StoreOp names a Deduplicator method.
type StoreOp string

// The Deduplicator methods.
const (
	StoreClaim    StoreOp = "claim"
	StoreComplete StoreOp = "complete"
	StoreRelease  StoreOp = "release"
)

// StoreCall is one call Deduplicate made to its Deduplicator, as
// EndStoreCall sees it.
type StoreCall struct {
	Op StoreOp
	// EventID is the event's id.
	EventID string
	// Status is what Claim found; 0 for Complete and Release, and when
	// Claim failed.
	Status ClaimStatus
	// Duration is how long the call took.
	Duration time.Duration
	// Err is the call's error.
	Err error
	// Late reports a Complete or Release that ended after Deduplicate had
	// answered (it outlived the ack deadline).
	Late bool
}

// WithObserver makes the Client report each call and each attempt to o
// (see Observer). nil is refused: leave the option out to observe nothing.
func WithObserver(o Observer) Option {
	return func(c *clientConfig) error {
		if o == nil {
			return errors.New("busifavor: WithObserver: nil Observer; leave the option out to observe nothing")
		}
		c.observer = o
		return nil
	}
}

// WithEventObserver makes the parser report each notification to o, and
// NewEventHandler each one it answers (see Observer). nil is refused: leave
// the option out to observe nothing.
func WithEventObserver(o Observer) EventOption {
	return func(c *eventConfig) error {
		if o == nil {
			return errors.New("busifavor: WithEventObserver: nil Observer; leave the option out to observe nothing")
		}
		c.observer = o
		return nil
	}
}

// WithDedupObserver makes Deduplicate report each call to its Deduplicator
// to o (see Observer). nil is refused: leave the option out to observe
// nothing.
func WithDedupObserver(o Observer) DedupOption {
	return func(c *dedupConfig) error {
		if o == nil {
			return errors.New("busifavor: WithDedupObserver: nil Observer; leave the option out to observe nothing")
		}
		c.observer = o
		return nil
	}
}

// pathTemplates maps each Client method that sends to the path template of
// its page: what an Observer is given instead of the path sent.
var pathTemplates = map[string]string{
	"SetCallbacks":               callbacksPath,
	"GetCallbacks":               callbacksPath,
	"CreateStock":                stocksPath,
	"GetStock":                   stocksPath + "/{stock_id}",
	"UpdateStock":                stocksPath + "/{stock_id}",
	"UpdateStockBudget":          stocksPath + "/{stock_id}/budget",
	"UploadCouponCodes":          stocksPath + "/{stock_id}/couponcodes",
	"ListCouponCodes":            stocksPath + "/{stock_id}/couponcodes",
	"GetCouponCode":              stocksPath + "/{stock_id}/couponcodes/{coupon_code}",
	"DeleteCouponCode":           stocksPath + "/{stock_id}/couponcodes/{coupon_code}",
	"SendCoupon":                 couponsPath + "/send",
	"UseCoupon":                  couponsPath + "/use",
	"GetUserCoupon":              "/v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}",
	"ListUserCoupons":            "/v3/marketing/busifavor/users/{openid}/coupons",
	"AssociateTradeInfo":         couponsPath + "/associate",
	"DisassociateTradeInfo":      couponsPath + "/disassociate",
	"ReturnCoupon":               couponsPath + "/return",
	"DeactivateCoupon":           couponsPath + "/deactivate",
	"SendGovCard":                couponsPath + "/{card_id}/send",
	"CreateSubsidyPayReceipt":    subsidyPath + "/pay-receipts",
	"GetSubsidyPayReceipt":       subsidyPath + "/pay-receipts/{subsidy_receipt_id}",
	"ListSubsidyPayReceipts":     subsidyPath + "/pay-receipts",
	"CreateSubsidyReturnReceipt": subsidyPath + "/return-receipts",
	"GetSubsidyReturnReceipt":    subsidyPath + "/return-receipts/{subsidy_return_receipt_id}",
	"BuildPartnership":           partnershipsPath + "/build",
	"TerminatePartnership":       partnershipsPath + "/terminate",
	"ListPartnerships":           partnershipsPath,
	"UploadImage":                ImageUploadPath,
}

// observedCall is a call an Observer watches. It travels in the call's
// context, so that do reports the attempts, and a call made inside it (a
// money create's read-back) knows it is one.
type observedCall struct {
	o     Observer
	ctx   context.Context // StartCall's
	call  Call
	start time.Time
	last  Attempt // the latest attempt
}

// observedCallKey is the context key of the *observedCall.
type observedCallKey struct{}

// observe starts observing a call of op with method, when an observer is
// set, and returns the context the call goes on with; end ends it. Without
// an observer it returns ctx and nil, at the cost of one comparison.
func (c *Client) observe(ctx context.Context, op, method string) (context.Context, *observedCall) {
	if c.cfg.observer == nil {
		return ctx, nil
	}
	call := Call{Operation: op, Method: method, Path: pathTemplates[op]}
	// The only call made inside another is a money create's read-back.
	if outer := observedIn(ctx); outer != nil {
		call.ReadBackOf = outer.call.Operation
	}
	oc := &observedCall{o: c.cfg.observer, call: call, start: time.Now()}
	if started := c.cfg.observer.StartCall(ctx, call); started != nil {
		ctx = started
	}
	oc.ctx = context.WithValue(ctx, observedCallKey{}, oc)
	return oc.ctx, oc
}

// attempt reports one attempt. err is nil or the attempt's error; a its
// answer.
func (oc *observedCall) attempt(host string, a *answer, err error, d time.Duration) {
	at := Attempt{Call: oc.call, Number: oc.last.Number + 1, Host: host, Duration: d, Err: err}
	if at.Number > 1 {
		at.Retry, at.FailedOver = retryReason(oc.last.Err), host != oc.last.Host
	}
	var apiErr *APIError
	switch {
	case a != nil:
		at.StatusCode, at.RequestID = a.status, a.requestID
	case errors.As(err, &apiErr):
		at.StatusCode, at.ErrorCode, at.RequestID = apiErr.StatusCode, apiErr.Code, apiErr.RequestID
	}
	oc.last = at
	oc.o.EndAttempt(oc.ctx, at)
}

// end reports the call's end with its error. It does nothing on nil, so
// that callers need not check.
func (oc *observedCall) end(err error) {
	if oc == nil {
		return
	}
	oc.o.EndCall(oc.ctx, CallResult{Call: oc.call, Attempts: oc.last.Number, StatusCode: oc.last.StatusCode,
		ErrorCode: oc.last.ErrorCode, RequestID: oc.last.RequestID, Duration: time.Since(oc.start), Err: err})
}

// observedIn returns the call ctx belongs to, if it is observed.
func observedIn(ctx context.Context) *observedCall {
	oc, _ := ctx.Value(observedCallKey{}).(*observedCall)
	return oc
}

// observedEvent is a notification an Observer watches.
type observedEvent struct {
	o         Observer
	ctx       context.Context // StartEvent's
	start     time.Time
	duplicate bool // Deduplicate found the event done
}

// observedEventKey is the context key of the *observedEvent, through which
// Deduplicate says that it found the event done.
type observedEventKey struct{}

// observeEvent starts observing a notification when an observer is set.
func (p *EventParser) observeEvent(ctx context.Context) (context.Context, *observedEvent) {
	if p.cfg.observer == nil {
		return ctx, nil
	}
	oe := &observedEvent{o: p.cfg.observer, start: time.Now()}
	if started := p.cfg.observer.StartEvent(ctx); started != nil {
		ctx = started
	}
	oe.ctx = context.WithValue(ctx, observedEventKey{}, oe)
	return oe.ctx, oe
}

// end reports the notification's end. r's Duration is filled in.
func (oe *observedEvent) end(r EventResult) {
	r.Duration = time.Since(oe.start)
	oe.o.EndEvent(oe.ctx, r)
}

// endParse reports the end of Parse or ParseRequest. It does nothing on
// nil, so that callers need not check.
func (oe *observedEvent) endParse(ev *CouponEvent, err error) {
	if oe == nil {
		return
	}
	r := EventResult{Err: err}
	r.Outcome, r.Reason = parseOutcome(err)
	if ev != nil {
		r.EventID, r.EventType = ev.ID, ev.EventType
	}
	r.Duration = time.Since(oe.start)
	r.ParseDuration = r.Duration
	oe.o.EndEvent(oe.ctx, r)
}

// markDuplicate tells the notification ctx belongs to, if it is observed,
// that Deduplicate found its event done.
func markDuplicate(ctx context.Context) {
	if oe, ok := ctx.Value(observedEventKey{}).(*observedEvent); ok {
		oe.duplicate = true
	}
}

// parseOutcome says what a parse ended in, and why when it was refused.
func parseOutcome(err error) (EventOutcome, EventReason) {
	switch {
	case err == nil:
		return EventParsed, ""
	case errors.Is(err, ErrInvalidSignature):
		return EventRefused, EventReasonSignature
	case errors.Is(err, ErrTimestampOutOfRange):
		return EventRefused, EventReasonTimestamp
	case errors.Is(err, ErrBodyTooLarge):
		return EventRefused, EventReasonBodyTooLarge
	case errors.Is(err, ErrDecrypt):
		return EventRefused, EventReasonDecryption
	}
	return EventRefused, EventReasonBody
}

// handlerOutcome says what the handler function's error (nil on success)
// made of the notification.
func handlerOutcome(err error, duplicate bool) (EventOutcome, EventReason) {
	var pe *panicError
	switch {
	case err == nil && duplicate:
		return EventDuplicate, ""
	case err == nil, errors.Is(err, ErrHandledNotRecorded):
		return EventHandled, ""
	case errors.Is(err, ErrInFlight):
		return EventInFlight, ""
	case errors.Is(err, ErrMissingEventID):
		return EventRefused, EventReasonNoID
	case errors.Is(err, ErrDeduplicator):
		return EventFailed, EventReasonDeduplicator
	case errors.As(err, &pe):
		return EventFailed, EventReasonPanic
	}
	return EventFailed, EventReasonHandler
}
