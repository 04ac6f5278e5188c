package busifavortest

import (
	"io"
	"net/http"
	"strconv"
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
	method, path string
	left         int
}

// Fail makes the next n answers, to any endpoint, break as f says.
func (s *Server) Fail(n int, f Fault) { s.FailOn("", "", n, f) }

// FailOn makes the next n answers to method and path break as f says; an
// empty method or path matches any. Faults apply in the order they were
// added, before the request's signature is judged.
func (s *Server) FailOn(method, path string, n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{Fault: f, method: method, path: path, left: n})
}

// takeFault claims one use of the first fault matching r.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pf := range s.faults {
		if (pf.method == "" || pf.method == r.Method) && (pf.path == "" || pf.path == r.URL.Path) {
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
			status = busifavor.CodeStatus(f.Code)
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
