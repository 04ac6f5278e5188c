package busifavortest

import (
	"slices"

	"github.com/busifavor-go/busifavor"
)

// partnerSnapshot is what the snapshot test compares of partnerships.
func (s *Server) partnerSnapshot() any {
	keys := make([]string, 0, len(s.pt.keys))
	for k := range s.pt.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]busifavor.Partnership, len(s.pt.order))
	for i, p := range s.pt.order {
		out[i] = p.Partnership
	}
	return map[string]any{"partnerships": out, "keys": keys}
}
