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
	if n := s.cfg.maxRecorded; len(s.requests) >= 2*n {
		// Drop the oldest in one move, so recording stays O(1) amortized.
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-n+1:]...)
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// DefaultMaxRecorded is how many requests a Server keeps for Requests.
const DefaultMaxRecorded = 10_000

// WithMaxRecorded keeps only the n most recent requests for Requests
// (default DefaultMaxRecorded), so long load runs stay in bounded memory.
func WithMaxRecorded(n int) Option { return func(c *config) { c.maxRecorded = max(n, 1) } }

// Requests returns the requests that have arrived, oldest first: all of
// them, or the most recent WithMaxRecorded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests[max(0, len(s.requests)-s.cfg.maxRecorded):]...)
}
