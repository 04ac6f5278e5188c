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

// record keeps a copy of r for Requests.
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
	s.mu.Lock()
	s.requests = appendBounded(s.requests, rec, s.cfg.maxRecorded)
	s.mu.Unlock()
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

// WithMaxRecorded keeps only the n most recent requests for Requests,
// deliveries for Deliveries and event outcomes for WaitEvent (default
// DefaultMaxRecorded), so long load runs stay in bounded memory.
func WithMaxRecorded(n int) Option { return func(c *config) { c.maxRecorded = max(n, 1) } }

// Requests returns the requests that have arrived, oldest first: all of
// them, or the most recent WithMaxRecorded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests[max(0, len(s.requests)-s.cfg.maxRecorded):]...)
}
