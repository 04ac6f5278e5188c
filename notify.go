package busifavor

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// Sentinels for notifications that EventParser refuses, stripe-go webhook
// style. No error text contains the body, the key or the plaintext.
var (
	// ErrInvalidSignature: a Wechatpay-* header is missing or the signature
	// does not verify (including WECHATPAY/SIGNTEST/ probes and an unknown
	// Wechatpay-Serial).
	ErrInvalidSignature = errors.New("busifavor: notification signature is invalid")
	// ErrTimestampOutOfRange: the signed timestamp is too far from now.
	ErrTimestampOutOfRange = errors.New("busifavor: notification timestamp is out of range")
	// ErrDecrypt: the resource does not decrypt (wrong APIv3 key, or a
	// tampered ciphertext, associated data or nonce).
	ErrDecrypt = errors.New("busifavor: notification resource does not decrypt")
	// ErrMalformedNotification: a verified body is not the documented
	// envelope (bad JSON, another algorithm, missing fields) or its plaintext
	// is not the documented resource; or ParseRequest got a request without
	// a body or one whose body could not be read (broken chunking, a sender
	// that went away), the sender's fault.
	ErrMalformedNotification = errors.New("busifavor: notification is malformed")
	// ErrBodyTooLarge: the body is larger than WithMaxBodyBytes allows.
	ErrBodyTooLarge = errors.New("busifavor: notification body is too large")
)

// Notification defaults.
const (
	// DefaultTimestampTolerance is how far a notification's timestamp may be
	// from the parser's clock, as wechatpay-go checks answers.
	DefaultTimestampTolerance = 5 * time.Minute
	// DefaultMaxBodyBytes bounds a notification body. A COUPON.SEND
	// notification is about 1 KiB; 64 KiB leaves room for new fields while
	// keeping what a flood of hostile requests can make the server buffer
	// small.
	DefaultMaxBodyBytes = 64 << 10
)

const (
	signatureType = "WECHATPAY2-SHA256-RSA2048"
	aeadAlgorithm = "AEAD_AES_256_GCM"
)

// EventType is a notification's event_type (the envelope's, not the
// resource's). Types newer than this package are kept as they came.
type EventType string

// EventTypeCouponSend is the event_type of a claimed coupon (商家券领券通知).
const EventTypeCouponSend EventType = "COUPON.SEND"

// Verifier checks a WeChat Pay signature: the one method EventParser
// needs. Every verifier of wechatpay-go's core/auth/verifiers satisfies it
// (its auth.Verifier has this method and GetSerial), as does a fake of
// yours; busifavortest.Server.Verifier returns one.
type Verifier interface {
	// Verify returns nil when signature is the signature of message by the
	// key with serial number serial (a WeChat Pay public key id or a
	// platform certificate serial), and an error otherwise.
	Verify(ctx context.Context, serial, message, signature string) error
}

// EventParser verifies, decrypts and decodes coupon event notifications. It
// needs no net/http request, so it serves fasthttp, fiber, hertz or a queue
// consumer as well as net/http. It is safe for concurrent use.
type EventParser struct {
	aead     cipher.AEAD
	verifier Verifier
	cfg      eventConfig
}

// eventConfig is what the EventOptions set.
type eventConfig struct {
	now       func() time.Time
	tolerance time.Duration
	maxBody   int64
	logger    *slog.Logger // nil: WithEventLogger not given
	observer  Observer     // nil: nothing observed
}

// EventOption configures an EventParser in NewEventParser. An option given
// a value it cannot use makes NewEventParser fail, naming the option.
type EventOption func(*eventConfig) error

// WithEventClock sets the clock timestamps are checked against (default
// time.Now). nil is refused.
func WithEventClock(now func() time.Time) EventOption {
	return func(c *eventConfig) error {
		if now == nil {
			return errors.New("busifavor: WithEventClock: nil clock; leave the option out for time.Now")
		}
		c.now = now
		return nil
	}
}

// WithTimestampTolerance sets how far a notification's timestamp may be from
// the clock (default DefaultTimestampTolerance). It must be positive.
func WithTimestampTolerance(d time.Duration) EventOption {
	return func(c *eventConfig) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithTimestampTolerance: %s is not positive", d)
		}
		c.tolerance = d
		return nil
	}
}

// WithMaxBodyBytes bounds the body a notification may have (default
// DefaultMaxBodyBytes). It must be positive.
func WithMaxBodyBytes(n int64) EventOption {
	return func(c *eventConfig) error {
		if n <= 0 {
			return fmt.Errorf("busifavor: WithMaxBodyBytes: %d is not positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithEventLogger makes NewEventHandler log why it refused a notification
// (the error, never the body), and log there what it would otherwise log
// with slog.Default(). Without it, refusals anyone could cause (a bad
// signature, a body too large or unreadable) are not logged; see
// NewEventHandler for what always is. WithEventLogger(nil) logs nothing at
// all, not even the failures that are otherwise always logged.
func WithEventLogger(l *slog.Logger) EventOption {
	return func(c *eventConfig) error {
		c.logger = orDiscard(l)
		return nil
	}
}

// NewEventParser returns a parser for notifications encrypted under apiV3Key
// (32 bytes) and signed by a key verifier knows: a WeChat Pay public key
// (verifiers.NewSHA256WithRSAPubkeyVerifier), platform certificates
// (verifiers.NewSHA256WithRSAVerifier) or both while migrating
// (verifiers.NewSHA256WithRSACombinedVerifier). It fails, naming every
// option given a value it cannot use, when any option does.
func NewEventParser(apiV3Key string, verifier Verifier, opts ...EventOption) (*EventParser, error) {
	if len(apiV3Key) != 32 {
		return nil, fmt.Errorf("busifavor: NewEventParser: the APIv3 key must be 32 bytes, got %d", len(apiV3Key))
	}
	if verifier == nil {
		return nil, errors.New("busifavor: NewEventParser: verifier is nil")
	}
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		return nil, fmt.Errorf("busifavor: NewEventParser: %v", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("busifavor: NewEventParser: %v", err)
	}
	cfg := eventConfig{now: time.Now, tolerance: DefaultTimestampTolerance, maxBody: DefaultMaxBodyBytes}
	if err := applyOptions("NewEventParser", &cfg, opts); err != nil {
		return nil, err
	}
	return &EventParser{aead: aead, verifier: verifier, cfg: cfg}, nil
}

// String describes the parser's settings and never its key.
func (p *EventParser) String() string {
	return fmt.Sprintf("busifavor.EventParser{tolerance: %s, maxBody: %d}", p.cfg.tolerance, p.cfg.maxBody)
}

// Format prints String for every verb (%v, %+v, %#v, %s, %x, …), on a value
// as on a pointer, so that no formatting path reaches the key schedule. It
// is the one method on the value, so that a value prints this way too.
func (p EventParser) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// envelope is the notification body.
type envelope struct {
	ID           string `json:"id"`
	CreateTime   string `json:"create_time"`
	EventType    string `json:"event_type"`
	ResourceType string `json:"resource_type"`
	Summary      string `json:"summary"`
	Resource     *struct {
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
		OriginalType   string `json:"original_type"`
	} `json:"resource"`
}

// Parse verifies a notification from its headers and body, then decrypts and
// decodes it. The signature is checked before anything in the body is
// trusted.
func (p *EventParser) Parse(ctx context.Context, header http.Header, body []byte) (*CouponEvent, error) {
	ctx, oe := p.observeEvent(ctx)
	ev, _, err := p.parse(ctx, header, body)
	oe.endParse(ev, err)
	return ev, err
}

// parse is Parse, also saying whether the signature verified. A refusal
// after that is of a body WeChat Pay signed: the merchant's own
// misconfiguration (the APIv3 key, the clock), a replay, or a body this
// package cannot read, never noise from a stranger.
func (p *EventParser) parse(ctx context.Context, header http.Header, body []byte) (ev *CouponEvent, verified bool, err error) {
	if int64(len(body)) > p.cfg.maxBody {
		return nil, false, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, p.cfg.maxBody)
	}
	signedAt, err := p.verify(ctx, header, body)
	if err != nil {
		return nil, false, err
	}
	if err := p.checkTimestamp(signedAt); err != nil {
		return nil, true, err
	}
	ev, err = p.open(body)
	return ev, true, err
}

// open decodes and decrypts a verified body.
func (p *EventParser) open(body []byte) (*CouponEvent, error) {
	var env envelope
	if err := decodeJSON(body, &env); err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON envelope", ErrMalformedNotification)
	}
	if env.ID == "" || env.EventType == "" || env.CreateTime == "" || env.Resource == nil ||
		env.Resource.Ciphertext == "" || env.Resource.Nonce == "" {
		return nil, fmt.Errorf("%w: id, event_type, create_time and resource (ciphertext, nonce) are required", ErrMalformedNotification)
	}
	if env.Resource.Algorithm != aeadAlgorithm {
		return nil, fmt.Errorf("%w: resource.algorithm %q is not %s", ErrMalformedNotification, env.Resource.Algorithm, aeadAlgorithm)
	}
	created, err := ParseTime(env.CreateTime)
	if err != nil {
		return nil, fmt.Errorf("%w: create_time: %v", ErrMalformedNotification, err)
	}
	plaintext, err := p.decrypt(env.Resource.Nonce, env.Resource.Ciphertext, env.Resource.AssociatedData)
	if err != nil {
		return nil, err
	}
	ev := &CouponEvent{ID: env.ID, CreateTime: created, EventType: EventType(env.EventType),
		ResourceType: env.ResourceType, Summary: env.Summary, Plaintext: plaintext}
	if ev.EventType == EventTypeCouponSend {
		ev.Coupon = &CouponSend{}
		if err := decodeJSON(plaintext, ev.Coupon); err != nil {
			return nil, fmt.Errorf("%w: resource plaintext is not a COUPON.SEND resource", ErrMalformedNotification)
		}
	}
	return ev, nil
}

// ParseRequest reads at most the body limit from r and parses it. A request
// without a body, or whose body cannot be read, is ErrMalformedNotification
// (wrapping the read error); a body cut by an http.MaxBytesReader is
// ErrBodyTooLarge.
func (p *EventParser) ParseRequest(r *http.Request) (*CouponEvent, error) {
	ctx, oe := p.observeEvent(r.Context())
	ev, _, err := p.parseRequest(ctx, r)
	oe.endParse(ev, err)
	return ev, err
}

// parseRequest is ParseRequest with r's context, also saying whether the
// signature verified.
func (p *EventParser) parseRequest(ctx context.Context, r *http.Request) (ev *CouponEvent, verified bool, err error) {
	if r.Body == nil {
		return nil, false, fmt.Errorf("%w: the request has no body", ErrMalformedNotification)
	}
	if r.ContentLength > p.cfg.maxBody {
		return nil, false, fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrBodyTooLarge, r.ContentLength, p.cfg.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, p.cfg.maxBody+1))
	if err != nil {
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			return nil, false, fmt.Errorf("%w: %w", ErrBodyTooLarge, err)
		}
		return nil, false, fmt.Errorf("%w: the body could not be read: %w", ErrMalformedNotification, err)
	}
	return p.parse(ctx, r.Header, body)
}

// verify checks the Wechatpay-* headers and the signature over
// "timestamp\nnonce\nbody\n", and returns the signed timestamp.
func (p *EventParser) verify(ctx context.Context, h http.Header, body []byte) (time.Time, error) {
	if t := h.Get("Wechatpay-Signature-Type"); t != "" && t != signatureType {
		return time.Time{}, fmt.Errorf("%w: Wechatpay-Signature-Type %q is not %s", ErrInvalidSignature, clip(t, MaxHeaderValueBytes), signatureType)
	}
	var missing []string
	get := func(k string) string {
		v := h.Get(k)
		if v == "" {
			missing = append(missing, k)
		}
		return v
	}
	serial, sig, ts, nonce := get("Wechatpay-Serial"), get("Wechatpay-Signature"), get("Wechatpay-Timestamp"), get("Wechatpay-Nonce")
	if len(missing) > 0 {
		return time.Time{}, fmt.Errorf("%w: missing header %v", ErrInvalidSignature, missing)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: Wechatpay-Timestamp is not a Unix time", ErrInvalidSignature)
	}
	msg := make([]byte, 0, len(ts)+len(nonce)+len(body)+3)
	msg = append(append(append(append(append(append(msg, ts...), '\n'), nonce...), '\n'), body...), '\n')
	if err := p.verifier.Verify(ctx, serial, string(msg), sig); err != nil {
		// The verifier's text repeats the serial: clip both.
		return time.Time{}, fmt.Errorf("%w: serial %s: %s", ErrInvalidSignature,
			clip(serial, MaxHeaderValueBytes), clip(err.Error(), maxErrorMessage))
	}
	return time.Unix(secs, 0), nil
}

// checkTimestamp checks a verified timestamp against the window.
func (p *EventParser) checkTimestamp(signedAt time.Time) error {
	// age > 0: signed in the past by the parser's clock.
	switch age := p.cfg.now().Sub(signedAt); {
	case age > p.cfg.tolerance:
		return fmt.Errorf("%w: %s old, tolerance %s", ErrTimestampOutOfRange, age.Round(time.Second), p.cfg.tolerance)
	case age < -p.cfg.tolerance:
		return fmt.Errorf("%w: %s ahead, tolerance %s", ErrTimestampOutOfRange, (-age).Round(time.Second), p.cfg.tolerance)
	}
	return nil
}

// decrypt opens the AEAD_AES_256_GCM resource.
func (p *EventParser) decrypt(nonce, ciphertext, associatedData string) ([]byte, error) {
	if len(nonce) != p.aead.NonceSize() {
		// cipher.AEAD.Open panics on a nonce of the wrong size.
		return nil, fmt.Errorf("%w: nonce is %d bytes, not %d", ErrDecrypt, len(nonce), p.aead.NonceSize())
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrDecrypt)
	}
	plaintext, err := p.aead.Open(ct[:0], []byte(nonce), ct, []byte(associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong APIv3 key, or tampered ciphertext, associated data or nonce)", ErrDecrypt)
	}
	return plaintext, nil
}

// NewEventHandler returns an http.Handler for the notify URL. It answers as
// WeChat Pay expects: 204 once the notification is verified, decrypted and
// accepted by fn; otherwise a 4xx or 5xx with {"code":"FAIL","message":…},
// which makes WeChat Pay deliver it again (every 60 s, 11 times):
//
//	situation                                      answer  WeChat Pay then
//	fn accepted the event (or it was done)         204     stops delivering it
//	method other than POST                         405     delivers again
//	bad signature or timestamp                     401     delivers again
//	body too large                                 413     delivers again
//	malformed, unreadable or undecryptable body    400     delivers again
//	the event has no id (ErrMissingEventID)        400     delivers again
//	the same event is in flight (ErrInFlight)      409     delivers again later
//	fn returned an error or panicked               500     delivers again
//	deduplicator unavailable (ErrDeduplicator)     503     delivers again later
//
// An event in flight gets 409, not 2xx: if the delivery handling it fails,
// WeChat Pay must still come back. A panic in fn is recovered and logged
// (without the body); the request gets 500. When fn succeeded but the
// deduplicator could not record it (ErrHandledNotRecorded), the answer is 204
// and the failure is logged.
//
// What is logged, without the body, the key or the plaintext, through
// WithEventLogger's logger or, without one, slog.Default() (nothing at all
// after WithEventLogger(nil)):
//   - at ERROR, always: server-side failures (500, 503, a failed record),
//     and every refusal of a notification whose signature verified. Such a
//     body is WeChat Pay's, so its refusal is the merchant's own
//     misconfiguration: a resource that does not decrypt means the parser's
//     APIv3 key is not the one set in the merchant platform, a timestamp
//     out of the window means this server's clock drifts (or an old
//     notification was replayed), and a body that does not decode is one
//     this package cannot read. Left unseen, coupon events would be lost
//     once WeChat Pay stops delivering them again.
//   - at WARN, only with WithEventLogger: refusals anyone can cause, a
//     bad signature, a body too large or one that cannot be read (broken
//     chunking, 400). A verifier without the merchant's WeChat Pay public
//     key shows as every notification refused with 401.
//
// WeChat Pay waits 5 seconds for the answer: fn should record the event
// (for example on a queue) and return, leaving slow work for later.
// Deduplicate answers by its ack deadline once fn has returned, however
// slow the deduplicator is. The same
// notification can arrive more than once; wrap fn with Deduplicate, or make it
// idempotent on ev.ID.
//
// It panics if p or fn is nil, as http.Handle does for a nil handler.
func NewEventHandler(p *EventParser, fn func(ctx context.Context, ev *CouponEvent) error) http.Handler {
	if p == nil || fn == nil {
		panic("busifavor: NewEventHandler: nil parser or function")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, oe := p.observeEvent(r.Context())
		var res EventResult // what oe is told
		if oe != nil {
			defer func() { oe.end(res) }()
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			refuse(w, http.StatusMethodNotAllowed, "method not allowed")
			res = EventResult{Outcome: EventRefused, Reason: EventReasonMethod, StatusCode: http.StatusMethodNotAllowed}
			return
		}
		var status int
		var message string
		var t time.Time
		if oe != nil {
			t = time.Now()
		}
		ev, verified, err := p.parseRequest(ctx, r)
		if oe != nil {
			res.ParseDuration = time.Since(t)
			if ev != nil {
				res.EventID, res.EventType = ev.ID, ev.EventType
			}
		}
		weChatPays := err != nil && verified // a refusal of a body WeChat Pay signed
		if err != nil {
			status, message = refusal(err)
			if oe != nil {
				res.Outcome, res.Reason = parseOutcome(err)
			}
		} else {
			if oe != nil {
				t = time.Now()
			}
			err = callHandler(ctx, fn, ev)
			if oe != nil {
				res.HandlerDuration = time.Since(t)
				res.Outcome, res.Reason = handlerOutcome(err, oe.duplicate)
			}
			if err != nil {
				err = fmt.Errorf("busifavor: handler refused notification %s: %w", ev.ID, err)
				status, message = handlerRefusal(err)
			}
		}
		res.Err = err
		if err == nil || errors.Is(err, ErrHandledNotRecorded) {
			if err != nil {
				p.serverLogger().LogAttrs(r.Context(), slog.LevelError, "busifavor notification handled but not recorded",
					slog.String("error", err.Error()))
			}
			w.WriteHeader(http.StatusNoContent)
			res.StatusCode = http.StatusNoContent
			return
		}
		res.StatusCode = status
		attrs := []slog.Attr{slog.Int("status", status), slog.String("error", err.Error())}
		switch {
		case status >= 500: // a server-side failure: always logged
			p.serverLogger().LogAttrs(r.Context(), slog.LevelError, "busifavor notification refused", attrs...)
		case weChatPays: // the merchant's misconfiguration: always logged
			p.serverLogger().LogAttrs(r.Context(), slog.LevelError, misconfiguration(err), attrs...)
		case p.cfg.logger != nil:
			p.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "busifavor notification refused", attrs...)
		}
		refuse(w, status, message)
	})
}

// misconfiguration says what to check when a notification whose signature
// verified is refused.
func misconfiguration(err error) string {
	switch {
	case errors.Is(err, ErrDecrypt):
		return "busifavor notification signed by WeChat Pay does not decrypt: the parser's APIv3 key is not the one set in the merchant platform"
	case errors.Is(err, ErrTimestampOutOfRange):
		return "busifavor notification signed by WeChat Pay is outside the timestamp window: check this server's clock (or an old notification was replayed)"
	}
	return "busifavor notification signed by WeChat Pay could not be decoded"
}

// serverLogger is where failures that are always logged go: the parser's
// logger, or slog.Default().
func (p *EventParser) serverLogger() *slog.Logger {
	if p.cfg.logger != nil {
		return p.cfg.logger
	}
	return slog.Default()
}

// panicError is a handler function's panic, recovered.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic: %s\n%s", clip(fmt.Sprint(e.value), maxErrorMessage), clip(string(e.stack), 4<<10))
}

// callHandler calls fn, turning a panic into a *panicError.
func callHandler(ctx context.Context, fn func(context.Context, *CouponEvent) error, ev *CouponEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn(ctx, ev)
}

// handlerRefusal maps the handler function's error to the status and
// message WeChat Pay gets.
func handlerRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInFlight):
		return http.StatusConflict, "the event is being handled, please retry later"
	case errors.Is(err, ErrDeduplicator):
		return http.StatusServiceUnavailable, "temporarily unavailable, please retry"
	case errors.Is(err, ErrMissingEventID):
		return http.StatusBadRequest, "the event has no id"
	}
	return http.StatusInternalServerError, "notification not handled, please retry"
}

// refusal maps a parse error to the status and message WeChat Pay gets.
func refusal(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalidSignature):
		return http.StatusUnauthorized, "invalid signature"
	case errors.Is(err, ErrTimestampOutOfRange):
		return http.StatusUnauthorized, "timestamp out of range"
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "body too large"
	case errors.Is(err, ErrDecrypt):
		return http.StatusBadRequest, "resource does not decrypt"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return http.StatusBadRequest, "body cut short"
	case errors.Is(err, ErrMalformedNotification):
		return http.StatusBadRequest, "malformed notification"
	}
	return http.StatusInternalServerError, "notification not read, please retry"
}

func refuse(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"code": "FAIL", "message": message})
	_, _ = w.Write(b)
}
