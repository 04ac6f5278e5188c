// Package busifavor is a typed client for WeChat Pay APIv3's merchant coupons
// (商家券, "busifavor"): setting and reading the URL that receives coupon
// events, receiving those events verified, decrypted and typed, creating and
// managing coupon stocks (批次) and their uploaded codes, sending, redeeming
// (核销), returning and deactivating users' coupons, paying and returning
// subsidies between merchants (营销补差), signing coupons for the front-end
// send channels (mini program, H5, wx.addCard) and uploading marketing
// images.
//
// It wraps the signed HTTP core of github.com/wechatpay-apiv3/wechatpay-go:
// core.Client signs every request and verifies every answer; this package adds
// typed models, the documented rules enforced before sending, the error table
// as typed Go errors, retries with backup-domain failover, and a notification
// receiver.
//
//	cc, err := core.NewClient(ctx,
//		option.WithWechatPayPublicKeyAuthCipher(mchID, certSerial, privateKey, publicKeyID, publicKey),
//		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{Timeout: 30 * time.Second})))
//	...
//	client, err := busifavor.NewClient(cc)
//	...
//	resp, err := client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{
//		NotifyURL: "https://example.com/busifavor/notify",
//	})
//
// For tests, package busifavortest runs a faithful fake WeChat Pay on
// loopback, with the state of every endpoint above; cmd/busifavor runs the
// API from a shell, against a sandbox when nothing is configured.
//
// # Validation
//
// Every method calls the request's Validate method first and sends nothing
// when it fails. Every broken rule is reported at once in one
// *ValidationError, which matches ErrValidation; each FieldError names the
// JSON field and says what to fix. The rules are the API page's and the
// notification guide's, and no others:
//
//   - mchid is optional; when set it is 8 to 15 bytes with no white space or
//     control characters. No alphabet is imposed: the docs state none.
//   - notify_url is required; 10 to 256 bytes; an absolute https URL (the
//     scheme in any case) with a host; no user info, no query string (the
//     guide: 不能携带参数) and no fragment; the host is not localhost nor a
//     loopback, private, link-local or unspecified IP literal, which WeChat Pay
//     cannot reach. White space at either end is an error, not trimmed.
//
// Ports are not refused: that custom ports are unsupported is only reported
// unofficially.
//
// The stock and code requests carry the rules of their pages and of
// wechatpay-go's generated models (each rule's source is noted beside it in
// stocks.go, codes.go, coupons.go and subsidy.go): 字数 limits count characters, byte limits bytes; the
// coupon rule must match the stock type; the available time is at most a
// year, with ordered, non-overlapping weekday and irregular ranges; amounts in
// 分 and caps stay within their documented ranges. Nested fields are named by
// their JSON path, as coupon_use_rule.fixed_normal_coupon.discount_amount.
// Fields WeChat Pay marks 暂未开放 (not open yet), or as unchangeable after
// creation, are left out of the request types.
//
// Path parameters (stock_id, coupon_code, openid, appid, card_id, the
// subsidy receipt ids) are never "." or "..", so that no value reaches
// another endpoint. A coupon code follows the upload page's rule wherever it
// goes (1 to 32 bytes of 0-9 a-z A-Z, space and - _ \ / = |; 1 to 128 in the
// subsidy requests, whose pages allow that), so every code that can be
// uploaded can be sent, redeemed, returned and deactivated. Every merchant
// number has its page's upper bound.
//
// # Decoding
//
// Every answer and event body is read by one decoder (decode.go), in one
// pass over the bytes whatever the nesting, straight into the plain types
// here: time.Time fields take every shape ParseTime accepts, unknown fields
// are skipped at any level, and nothing the models carry is dropped (fields
// WeChat Pay marks 暂未开放 are read from answers and refused in requests).
// A field is required only where wechatpay-go's models or the page make it
// so, and each required field's tag names that source; an answer without
// one is ErrMalformedResponse naming its JSON path.
//
// # Responses
//
// Every response type embeds Response (json:"-"): the answer's Request-ID,
// which WeChat Pay support asks for (resp.RequestID), its HTTP status and
// its headers, without any that can carry a credential (Authorization,
// Proxy-Authorization, Cookie, Set-Cookie). It comes from the answer's
// headers, never from the body, and json.Marshal of a response holds the
// body's fields only. The Wait helpers' receipts carry the Response of the
// read they came from, BatchUploadCouponCodesResponse one per batch, and the
// items of an All… iterator none; a failed call's Request-ID is in its
// *APIError.
//
// # Paging
//
// AllCouponCodes and AllUserCoupons walk a list page by page and yield each
// item once. They stop after the last item total_count promises, at the
// first error, or with ErrPaging when the pages do not add up (an empty page
// before total_count, a page with nothing new, a short page in the middle of
// a page-numbered list, more pages than total_count and the page size
// allow). A page without total_count is ErrMalformedResponse: without it the
// walk cannot know where the list ends.
//
// # Privacy
//
// Openids and unionids are personal data, coupon codes bearer credentials at
// a till. Every type holding one prints it masked with fmt (any verb) and
// slog (MaskID, MaskCode; a masked code keeps enough to match it to one you
// hold), and the client's log lines and error texts mask those of a request
// path and a redirect's Location; an APIError's Detail masks the value a
// PARAM_ERROR echoes. json.Marshal keeps everything, for queues and stores.
// A struct of yours holding an event (or any of these types) by value in an
// unexported field prints it raw with fmt and slog's text handler: fmt reads
// unexported fields by reflection and cannot be stopped there. Hold a
// pointer, or log the event itself; slog's JSON handler marshals a struct,
// slice or map of yours with json.Marshal, unmasked.
//
// # Errors
//
// Every error a call returns is one of:
//
//   - *ValidationError (errors.Is ErrValidation): nothing was sent.
//
//   - *APIError: WeChat Pay answered with a non-2xx status. It carries the
//     status, the Code (kept raw when unknown; empty when the body was not a
//     JSON error), the message, the raw detail, the Request-ID that WeChat
//     Pay support asks for, and the Operation (the method) that got it.
//     Description and Solution return the API page's 描述 and 解决方案 for
//     it. Branch on a code with ErrorCodeOf(err), the one way for every
//     code. A sentinel exists only for a meaning beyond one code:
//     errors.Is(err, ErrFrequencyLimited) holds for FREQUENCY_LIMITED and
//     RATELIMIT_EXCEEDED alike, ErrNoAuth for NOAUTH and NO_AUTH; and where
//     an operation gives a code a state's meaning, a state sentinel
//     matches: ErrCouponUsed (RESOURCE_ALREADY_EXISTS from UseCoupon),
//     ErrCouponNotUsable (RULELIMIT from UseCoupon), ErrCouponNotFound
//     (RESOURCE_NOT_EXISTS from a coupon endpoint), ErrReceiptExists
//     (RESOURCE_ALREADY_EXISTS from a subsidy create), ErrReceiptNotFound
//     (RESOURCE_NOT_EXISTS from a subsidy read).
//
//   - ErrResponseSignature: a 2xx answer failed the core client's signature
//     check (including WeChat Pay's WECHATPAY/SIGNTEST/ probes). Nothing of
//     it is trusted.
//
//   - ErrMalformedResponse: a verified 2xx answer is not the documented JSON,
//     lacks notify_url or mchid, or carries an unparsable update_time. A call
//     never returns a zero-valued success.
//
//   - ErrTransport: no HTTP answer arrived (refused, reset, timed out, cut
//     short).
//
//   - ErrRedirect: the answer was a redirect, which WeChat Pay's API never
//     sends. Build the core client's HTTP client with NewHTTPClient so that
//     the request is not re-sent to the redirect's target at all.
//
//   - The context's error, when the call's context ended it:
//     errors.Is(err, context.DeadlineExceeded) works, and errors.As still
//     reaches the last *APIError if an attempt got one.
//
// Branching on them:
//
//	var apiErr *busifavor.APIError
//	switch {
//	case errors.Is(err, busifavor.ErrValidation):
//		// fix the input
//	case errors.Is(err, busifavor.ErrCouponUsed):
//		// redeemed before, under another use_request_no
//	case busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeInvalidRequest:
//		// refused as the error table says
//	case errors.As(err, &apiErr):
//		log.Printf("%s: %s (request id %s)", apiErr.Code, apiErr.Solution(), apiErr.RequestID)
//	}
//
// What an error keeps of an answer is bounded: APIError.Message is cut to
// MaxErrorFieldBytes and header values such as the request id to
// MaxHeaderValueBytes, a cut value ending in "…(cut)"; a Detail larger than
// MaxErrorFieldBytes is dropped (Detail is nil), never cut into invalid JSON. wechatpay-go's core reads
// a whole error body before this package sees it; NewHTTPClient bounds that
// read to MaxResponseBytes.
//
// IsRetryable reports whether the same request may succeed later. Error
// strings never contain keys, the Authorization header or a request dump.
//
// # Testing code that uses the client
//
// The package exports no interface of the Client. Such an interface grows
// with every endpoint, and adding a method to an exported interface breaks
// every type written to implement it: aws-sdk-go v1's *iface packages
// (s3iface.S3API, …) warn that they "will have breaking changes when the
// service model is updated and adds new API operations", and aws-sdk-go-v2
// ships none; its unit-testing guide has the application declare the
// operations it needs. Go interfaces are satisfied implicitly, so declare,
// where you use the client, the methods you call; *Client satisfies it, and
// so does a fake:
//
//	type couponUser interface {
//		UseCoupon(ctx context.Context, req busifavor.UseCouponRequest) (*busifavor.UseCouponResponse, error)
//	}
//
// A fake returns the errors your code branches on by building them with the
// fields the client sets, and they match as the client's own do:
//
//	&busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists, Operation: "UseCoupon"}
//
// matches ErrCouponUsed (see Example (ConsumerInterface)). To test over the
// wire, busifavortest.Server plays WeChat Pay on loopback; its FailOn breaks
// the answers to one operation, named as the method is ("UseCoupon").
//
// # Retries
//
// A call is retried, per the RetryPolicy (default DefaultRetryPolicy(): 3
// attempts, capped exponential backoff with full jitter; a zero field of a
// policy given to WithRetry takes the default's value), when IsRetryable
// says so: SYSTEM_ERROR, FREQUENCY_LIMITED, RATELIMIT_EXCEEDED,
// SERVICE_UNAVAILABLE, a 429, any 5xx, and transport failures. Validation
// errors, other 4xx answers, malformed answers and ErrResponseSignature (a
// security event, not a glitch) are never retried. Every endpoint so far is
// safe to repeat with the same body: setting the same URL twice is harmless,
// reads change nothing, and each stock and code write carries the merchant's
// request number (out_request_no, modify_budget_request_no,
// upload_request_no, delete_request_no, use_request_no, return_request_no,
// deactivate_request_no), with which WeChat Pay applies it
// once and answers a repeat with the first result. Every attempt goes back
// through core.Client, so it is signed afresh with a new nonce and timestamp.
//
// The two subsidy creates are the exception: see # Money.
//
// A Retry-After header on a 429 or 503 is honoured up to MaxBackoff; when it
// asks for more, the error is returned at once instead of sleeping. The
// context is watched throughout, also during a backoff wait.
//
// After a transport failure or a 5xx, the next attempt goes to the other
// domain (WithBackupBaseURL, default api2.mch.weixin.qq.com, an access point
// in another city); a 4xx never fails over, as it is about the request. With
// WithBaseURL set to anything but DefaultBaseURL (a proxy, a fake) there is
// no failover unless WithBackupBaseURL names a backup. Each
// call starts on the primary again: it is the nearest access point, most
// failures are brief, and a Client that remembered failures would need
// health-checking to come back. When a call gives up after several attempts,
// its error says how many were made and on which hosts, and errors.Is and
// errors.As reach both the last error and the last *APIError.
//
// The Client logs one structured line per attempt, to slog.Default() or to
// WithLogger's logger; WithLogger(nil) logs nothing.
//
// # Options
//
// Every option type (Option, EventOption, DedupOption, MemoryOption, and
// redisdedup.Option) is a function of the settings that returns an error,
// and they follow one rule: a value an option cannot use (a non-positive
// duration, a nil clock, an unparsable URL) makes the constructor (NewClient,
// With, NewEventParser, Deduplicate, NewMemoryDeduplicator, redisdedup.New)
// fail, naming every such option; a nil option is refused too. Nothing is
// ignored or clamped. A logger option given nil logs nothing; without the
// option, slog.Default() is used.
//
// Per-call settings come from a derived Client: client.With(opts...) shares
// client's core client (its signer, verifier and transport) and applies opts
// on top, leaving client as it was, so a till's UseCoupon can make one quick
// attempt (WithRetry, WithTimeout) while start-up code retries patiently.
// The methods take no per-call options: adding them later would break every
// method value and every interface users write against the Client, while
// With changes no signature.
//
// The helpers built on the Client's methods, BatchUploadCouponCodes,
// WaitSubsidyPayReceipt and WaitSubsidyReturnReceipt, are functions over the
// narrow interfaces they need (CouponCodeUploader, SubsidyPayReceiptLister,
// SubsidyReturnReceiptReader), which *Client implements: a test fakes those
// methods, not the whole Client.
//
// # Observing
//
// WithObserver, WithEventObserver and WithDedupObserver take one Observer,
// told about every call and each of its attempts (the path template, the
// status, the error code, the Request-ID, the duration, why an attempt was
// made and whether it failed over), every notification (its outcome, the
// reason of a refusal, its durations) and every call Deduplicate makes to
// its store. Its methods run synchronously on the goroutine doing the work:
// a slow observer slows every call. It is never given an openid, a unionid,
// a coupon code, a key, a body or a decrypted payload. Without one, nothing
// is measured. Module github.com/busifavor-go/busifavor/busifavorotel
// implements it with OpenTelemetry spans and metrics.
//
// # Money
//
// The two subsidy creates, CreateSubsidyPayReceipt and
// CreateSubsidyReturnReceipt, move money, and their pages leave 是否支持幂等
// (idempotency) empty: WeChat Pay does not promise that a repeated
// out_subsidy_no or out_subsidy_return_no returns the first receipt. So a
// create is never simply repeated. When an attempt's answer is lost (no
// answer, or a 5xx), the SDK first reads whether the receipt exists: a
// payment through ListSubsidyPayReceipts by out_subsidy_no, a return (which
// no endpoint reads by its number) through its payment's status. Only when
// the read finds nothing is the identical request sent again, at most
// MaxAttempts in all; that re-send assumes, as no page states, that WeChat
// Pay refuses or answers with the first receipt a create repeating a number.
// A refusal (4xx) says only that its own attempt moved nothing, and a call
// cannot tell a first send from the fresh resend an *OutcomeUnknownError
// asks for: so a refusal an earlier attempt under the number could have
// caused (RESOURCE_ALREADY_EXISTS, INVALID_REQUEST, RULELIMIT, any code the
// package does not know) is always followed by the same read-back, and only
// a payment listed as the request asks is taken for an answer. A refusal of
// the request's form or of the caller (PARAM_ERROR, SIGN_ERROR, NO_AUTH,
// MCH_NOT_EXISTS, RESOURCE_NOT_EXISTS, FREQUENCY_LIMITED, …) is returned at
// once. Every other path ends with the receipt or an *OutcomeUnknownError
// (ErrOutcomeUnknown) that says how to reconcile; never create again under
// a new number. The
// Wait… helpers only read. Receipt statuses come in two spellings, the
// pages' (ACCEPTED, SUCCESS, FAIL, …) and wechatpay-go's (PAY_RECEIPT_…):
// both are understood, the raw value is kept, and a status in neither is
// never a success (*ReceiptStatusError).
//
// # Partnerships
//
// BuildPartnership authorizes another merchant, or an appid's mini program,
// to send the coupons of one stock (委托营销); TerminatePartnership ends it;
// ListPartnerships and AllPartnerships read them. Build and terminate carry
// an Idempotency-Key header that the caller chooses and keeps: the pages
// require it (1 to 48 bytes of letters, digits and | _ * -) and say that the
// merchant keeps it unique (商户侧需保持唯一性), and nothing more; they do not
// say what WeChat Pay answers when a key comes again. A retried attempt
// resends the same key with the same body. The list counts offset in pages,
// not items, with at most MaxPartnershipsPerPage a page, and returns
// total_count on page 0 only.
//
// # Notifications
//
// Once the notify URL is set, WeChat Pay POSTs coupon events to it: a JSON
// envelope whose resource is encrypted with AEAD_AES_256_GCM under the APIv3
// key, signed like an API answer. EventParser verifies the signature first
// (Wechatpay-Serial, -Signature, -Timestamp, -Nonce; any Verifier, which
// every wechatpay-go verifier is, so a WeChat Pay public key, platform
// certificates, or both while migrating),
// then checks the timestamp window, then decrypts and decodes into a
// *CouponEvent with a typed CouponSend. Parse takes headers and bytes, so it
// works with fasthttp, fiber, hertz or a queue consumer; ParseRequest takes
// an *http.Request and reads at most WithMaxBodyBytes.
//
// Refusals match ErrInvalidSignature (WECHATPAY/SIGNTEST/ probes and unknown
// serials included), ErrTimestampOutOfRange, ErrDecrypt,
// ErrMalformedNotification or ErrBodyTooLarge. No error text contains the
// body, the key or the plaintext, and header values in them are cut to
// MaxHeaderValueBytes. Printing a CouponEvent or CouponSend, with any fmt verb
// or through slog, masks the openid, the unionid and the code (see # Privacy;
// Masked returns a copy with the user masked and the code kept); json.Marshal
// keeps them, for queues. The timestamp error says how far the notification
// is off, and which way ("6m0s old", "6m0s ahead").
//
// WeChat Pay waits 5 seconds for the answer. In front of NewEventHandler, set
// the http.Server's ReadHeaderTimeout (5 s), ReadTimeout and WriteTimeout
// (10 s) and IdleTimeout (60 s): a notification still arriving after that is
// not WeChat Pay's, and without them a client dripping a body holds a
// connection and a goroutine for as long as it likes.
//
// NewEventHandler answers WeChat Pay the way it expects: 204 when the event
// is verified, decrypted and accepted by your function; otherwise a 4xx or
// 5xx with {"code":"FAIL","message":…}, so WeChat Pay delivers it again
// (every 60 s, 11 times). WeChat Pay waits 5 seconds: put slow work on a
// queue.
//
// The same notification can arrive more than once, at any instance of a
// backend. Deduplicate keeps the promise that each event id is handled to
// completion once, and none is lost while WeChat Pay still redelivers. An id
// is unseen, in flight (claimed with a lease) or done (remembered for a
// TTL):
//
//	situation                             answer  WeChat Pay then
//	unseen: claimed, fn succeeds          204     stops; the id is done
//	done                                  204     stops; fn is not called
//	in flight (another delivery has it)   409     delivers again later
//	fn returns an error or panics         500     delivers again; the claim is released
//	the deduplicator fails                503     delivers again later; fn is not called
//
// An event in flight gets 409, never 2xx, because the delivery handling it
// may still fail. A claim left by a crashed process, or one whose release
// failed, lapses with its lease (DefaultLease: longer than WeChat Pay's 5 s
// wait, shorter than its 60 s between deliveries), and the next delivery is
// handled. An event without an id is refused with ErrMissingEventID (400),
// never taken for done.
//
// Deduplicate answers by its ack deadline (DefaultAckDeadline, 4 s; see
// WithAckDeadline) once fn has returned, whatever the deduplicator does: a
// Claim not answered by then is ErrDeduplicator (503), and a Complete or
// Release not finished by then goes on in the background, bounded by the
// claim's lease, which is measured from before Claim was called; a claim
// answered after its lease is no claim. Claim, Complete and Release are
// idempotent for their own token (a store client that resends a lost reply
// does no harm). What remains when the store is unreachable for longer than
// the lease: nothing acknowledged was left unhandled and fn never runs
// without a claim, but a success that could not be recorded is handled again
// if WeChat Pay delivers the event once more. Give each merchant sharing a
// store a namespace (MemoryDeduplicator.Namespace, redisdedup.WithNamespace).
//
// NewMemoryDeduplicator serves a single instance;
// github.com/busifavor-go/busifavor/redisdedup serves several sharing a
// Redis. busifavortest.Server.ClaimCoupon delivers events the way WeChat Pay
// does, so the whole loop can be tested offline.
//
//	parser, err := busifavor.NewEventParser(apiV3Key,
//		verifiers.NewSHA256WithRSAPubkeyVerifier(publicKeyID, *publicKey))
//	...
//	seen, err := busifavor.NewMemoryDeduplicator(100_000)
//	...
//	handle, err := busifavor.Deduplicate(seen, func(ctx context.Context, ev *busifavor.CouponEvent) error {
//		return queue.Publish(ctx, ev.Coupon) // quick; the real work happens later
//	})
//	...
//	http.Handle("/busifavor/notify", busifavor.NewEventHandler(parser, handle))
package busifavor
