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
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// Requests returns every request that has arrived, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}
