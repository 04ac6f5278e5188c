package busifavortest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// FaultKind says how a faulty answer breaks.
type FaultKind int

// The faults a Server can inject.
const (
	// FaultAPIError answers Code with the status the error table documents
	// for it (400 for a code the table does not list), signed. Status, when
	// set, overrides it: SYSTEM_ERROR is listed at both 400 and 500.
	FaultAPIError FaultKind = iota + 1
	// FaultStatus answers Status with Body exactly as given, signed.
	FaultStatus
	// FaultDelay waits Delay (or until the client gives up), then answers
	// normally.
	FaultDelay
	// FaultDrop closes the connection without answering, after reading the
	// whole request. On a reused (warm) connection, Go's http.Transport
	// cannot tell this from a connection the server closed while idle, so it
	// silently resends an idempotent request (a GET, or one with an
	// Idempotency-Key header): the fault is used up and the caller sees
	// success. Use FaultGarbled for a transport error on any connection.
	FaultDrop
	// FaultMalformed answers 200 with a correctly signed body that is not
	// JSON.
	FaultMalformed
	// FaultTruncated answers 200 and closes the connection halfway through
	// the body.
	FaultTruncated
	// FaultBadSignature answers normally with a signature that does not
	// verify.
	FaultBadSignature
	// FaultSignTest answers normally with a signature prefixed
	// WECHATPAY/SIGNTEST/, as WeChat Pay's probes are.
	FaultSignTest
	// FaultGarbled answers with bytes that are not HTTP and closes the
	// connection. The client has received an answer, so no transport resends
	// the request: the caller gets a transport error (busifavor.ErrTransport)
	// on a new or a reused connection alike.
	FaultGarbled
	// FaultLostAnswer processes the request normally, state changes
	// included, then answers with bytes that are not HTTP and closes the
	// connection: the request took effect but its answer was lost on the way
	// back. The caller gets a transport error; a retry must not make the
	// change twice.
	FaultLostAnswer
)

// Fault is one way to break an answer. Header, when set, is added to the
// answer (for example Retry-After).
type Fault struct {
	Kind   FaultKind
	Code   busifavor.ErrorCode // FaultAPIError
	Status int                 // FaultStatus; FaultAPIError when set
	Body   string              // FaultStatus
	Delay  time.Duration       // FaultDelay
	Header http.Header
}

// pendingFault is a Fault waiting for matching requests.
type pendingFault struct {
	Fault
	operation string
	left      int
}

// Fail makes the next n answers, to any request, break as f says.
func (s *Server) Fail(n int, f Fault) { s.FailOn("", n, f) }

// FailOn makes the next n answers to operation break as f says. operation
// is the busifavor.Client method whose request it is ("UseCoupon",
// "ListCouponCodes", …; Operations lists them), and "" matches any request.
// Faults apply in the order they were added, before the request's signature
// is judged. A helper built on other methods meets the faults of the methods
// it calls: BatchUploadCouponCodes those of "UploadCouponCodes". An
// operation the server does not know is a mistake in the test: FailOn
// panics.
func (s *Server) FailOn(operation string, n int, f Fault) {
	if operation != "" && !slices.ContainsFunc(operations, func(o operationRoute) bool { return o.name == operation }) {
		panic(fmt.Sprintf("busifavortest: FailOn: no operation %q; Operations lists them", operation))
	}
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{Fault: f, operation: operation, left: n})
}

// takeFault claims one use of the first fault matching r.
func (s *Server) takeFault(r *http.Request) *Fault {
	op := operationOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pf := range s.faults {
		if pf.operation == "" || pf.operation == op {
			pf.left--
			if pf.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			f := pf.Fault
			return &f
		}
	}
	return nil
}

// operationRoute is the method and path pattern of a busifavor.Client
// method's requests; a "*" segment of pattern matches any one segment.
type operationRoute struct {
	name, method, pattern string
}

// operations are the requests of every busifavor.Client method that calls
// WeChat Pay, named as the method is.
var operations = []operationRoute{
	{"SetCallbacks", http.MethodPost, CallbacksPath},
	{"GetCallbacks", http.MethodGet, CallbacksPath},
	{"CreateStock", http.MethodPost, StocksPath},
	{"GetStock", http.MethodGet, StocksPath + "/*"},
	{"UpdateStock", http.MethodPatch, StocksPath + "/*"},
	{"UpdateStockBudget", http.MethodPatch, StocksPath + "/*/budget"},
	{"UploadCouponCodes", http.MethodPost, StocksPath + "/*/couponcodes"},
	{"ListCouponCodes", http.MethodGet, StocksPath + "/*/couponcodes"},
	{"GetCouponCode", http.MethodGet, StocksPath + "/*/couponcodes/*"},
	{"DeleteCouponCode", http.MethodDelete, StocksPath + "/*/couponcodes/*"},
	{"SendCoupon", http.MethodPost, CouponsPath + "/send"},
	{"UseCoupon", http.MethodPost, CouponsPath + "/use"},
	{"AssociateTradeInfo", http.MethodPost, CouponsPath + "/associate"},
	{"DisassociateTradeInfo", http.MethodPost, CouponsPath + "/disassociate"},
	{"ReturnCoupon", http.MethodPost, CouponsPath + "/return"},
	{"DeactivateCoupon", http.MethodPost, CouponsPath + "/deactivate"},
	{"SendGovCard", http.MethodPost, CouponsPath + "/*/send"},
	{"ListUserCoupons", http.MethodGet, UsersPath + "/*/coupons"},
	{"GetUserCoupon", http.MethodGet, UsersPath + "/*/coupons/*/appids/*"},
	{"CreateSubsidyPayReceipt", http.MethodPost, SubsidyPath + "/pay-receipts"},
	{"ListSubsidyPayReceipts", http.MethodGet, SubsidyPath + "/pay-receipts"},
	{"GetSubsidyPayReceipt", http.MethodGet, SubsidyPath + "/pay-receipts/*"},
	{"CreateSubsidyReturnReceipt", http.MethodPost, SubsidyPath + "/return-receipts"},
	{"GetSubsidyReturnReceipt", http.MethodGet, SubsidyPath + "/return-receipts/*"},
	{"BuildPartnership", http.MethodPost, PartnershipsPath + "/build"},
	{"TerminatePartnership", http.MethodPost, PartnershipsPath + "/terminate"},
	{"ListPartnerships", http.MethodGet, PartnershipsPath},
	{"UploadImage", http.MethodPost, busifavor.ImageUploadPath},
}

// Operations returns the names FailOn takes: the busifavor.Client methods
// that call WeChat Pay, in the order of the package's files.
func Operations() []string {
	out := make([]string, len(operations))
	for i, o := range operations {
		out[i] = o.name
	}
	return out
}

// operationOf names the operation whose request r is, or "" for a request
// no busifavor.Client method sends. Segments are compared as sent
// (escaped), so a coupon code holding "/" stays one segment.
func operationOf(r *http.Request) string {
	segs := strings.Split(r.URL.EscapedPath(), "/")
	for _, o := range operations {
		if o.method == r.Method && matches(strings.Split(o.pattern, "/"), segs) {
			return o.name
		}
	}
	return ""
}

// matches reports whether path segments segs fit pattern segments pat, in
// which "*" stands for any one non-empty segment.
func matches(pat, segs []string) bool {
	if len(pat) != len(segs) {
		return false
	}
	for i, p := range pat {
		if p != segs[i] && (p != "*" || segs[i] == "") {
			return false
		}
	}
	return true
}

// applyFault breaks the answer to r as f says. It returns done=false when the
// request should then be answered normally, through the writer it returns.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) (_ http.ResponseWriter, done bool) {
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch f.Kind {
	case FaultAPIError:
		status := f.Status
		if status == 0 {
			status = f.Code.HTTPStatus()
		}
		if status == 0 {
			status = http.StatusBadRequest
		}
		msg := (&busifavor.APIError{StatusCode: status, Code: f.Code}).Description()
		s.writeError(w, status, string(f.Code), msg, nil)
	case FaultStatus:
		s.writeSigned(w, f.Status, []byte(f.Body))
	case FaultDelay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		return w, false
	case FaultDrop:
		drop(w, "")
	case FaultGarbled:
		drop(w, garbled)
	case FaultMalformed:
		s.writeSigned(w, http.StatusOK, []byte(`<html>upstream error`))
	case FaultTruncated:
		body := []byte(`{"update_time":"2019-05-20T13:29:35.120+08:00","notify_url":"https://pay.weixin.qq.com","mchid":"10000098"}`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		s.writeSigned(w, http.StatusOK, body[:len(body)/2])
		// Ending the handler short of Content-Length makes the server close
		// the connection: the client reads an unexpected EOF.
	case FaultLostAnswer:
		return &lostAnswer{conn: w, header: http.Header{}}, false
	case FaultBadSignature:
		return &resigner{ResponseWriter: w, how: signBad}, false
	case FaultSignTest:
		return &resigner{ResponseWriter: w, how: signProbe}, false
	default:
		return w, false
	}
	return w, true
}

// resigner marks an answer to be signed wrongly.
type resigner struct {
	http.ResponseWriter
	how signing
}

// lostAnswer takes the answer to a request it then loses (FaultLostAnswer).
type lostAnswer struct {
	conn   http.ResponseWriter
	header http.Header
}

func (l *lostAnswer) Header() http.Header         { return l.header }
func (l *lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostAnswer) WriteHeader(int)             {}

// garbled is what FaultGarbled and FaultLostAnswer answer instead of HTTP.
const garbled = "BUSIFAVORTEST GARBLED ANSWER\r\n\r\n"

// drop writes raw (which may be empty) on the client's connection instead of
// an answer and closes it.
func drop(w http.ResponseWriter, raw string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("busifavortest: ResponseWriter cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_, _ = io.WriteString(conn, raw)
		_ = conn.Close()
	}
}
