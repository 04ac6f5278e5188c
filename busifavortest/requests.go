package busifavortest

import (
	"net/http"
	"net/url"
)

// Request is one request as it arrived at a Server.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Verified reports whether the Authorization signature checked out;
	// VerifyError says why not when it did not.
	Verified    bool
	VerifyError string
}

// record keeps a copy of r for Requests, dropping the oldest records beyond
// WithMaxRecorded requests or WithMaxRecordedBytes bytes. A request is
// recorded before its signature is judged (Requests shows the forgeries
// too), so the byte bound is what keeps a stream of large unsigned posts
// from growing the server's memory.
func (s *Server) record(r *http.Request, body []byte, verifyErr error) {
	rec := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Body:     body,
		Verified: verifyErr == nil,
	}
	if verifyErr != nil {
		rec.VerifyError = verifyErr.Error()
	}
	size := rec.size()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
	s.recorded += size
	for len(s.requests) > s.cfg.maxRecorded || s.recorded > s.cfg.maxBytes && len(s.requests) > 1 {
		s.recorded -= s.requests[0].size()
		s.requests[0] = Request{} // its body can be collected at once
		s.requests = s.requests[1:]
	}
}

// size is about what a record holds in memory: its strings and bytes.
func (r *Request) size() int {
	n := len(r.Method) + len(r.Path) + len(r.Body) + len(r.VerifyError)
	for _, m := range []map[string][]string{r.Header, r.Query} {
		for k, vs := range m {
			n += len(k)
			for _, v := range vs {
				n += len(v)
			}
		}
	}
	return n
}

// appendBounded appends v to list, keeping at least the n most recent
// entries: at 2n it drops the oldest in one move, so recording stays O(1)
// amortized. Readers take the last n.
func appendBounded[T any](list []T, v T, n int) []T {
	if len(list) >= 2*n {
		list = append(list[:0], list[len(list)-n+1:]...)
	}
	return append(list, v)
}

// DefaultMaxRecorded is how many requests a Server keeps for Requests.
const DefaultMaxRecorded = 10_000

// DefaultMaxRecordedBytes is how many bytes of requests (bodies, headers,
// paths and queries) a Server keeps for Requests.
const DefaultMaxRecordedBytes = 64 << 20

// WithMaxRecordedBytes keeps only the most recent requests that fit in n
// bytes of bodies, headers, paths and queries for Requests (default
// DefaultMaxRecordedBytes); the most recent one is kept whatever its size.
func WithMaxRecordedBytes(n int) Option { return func(c *config) { c.maxBytes = max(n, 1) } }

// WithMaxRecorded keeps only the n most recent requests for Requests,
// deliveries for Deliveries and event outcomes for WaitEvent (default
// DefaultMaxRecorded), so long load runs stay in bounded memory.
func WithMaxRecorded(n int) Option { return func(c *config) { c.maxRecorded = max(n, 1) } }

// Requests returns the requests that have arrived, oldest first: all of
// them, or the most recent WithMaxRecorded that fit in WithMaxRecordedBytes.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}
