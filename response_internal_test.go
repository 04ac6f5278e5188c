package busifavor

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestResponseOfKeepsWhatItShould covers responseOf's edges: credential
// headers in any case are dropped, a value at MaxHeaderValueBytes is kept
// whole and one byte over it is clipped (its neighbours untouched), and
// neither an append to the kept values nor a write into them reaches the
// answer's own arrays or another header's values.
func TestResponseOfKeepsWhatItShould(t *testing.T) {
	atLimit, overLimit := strings.Repeat("a", MaxHeaderValueBytes), strings.Repeat("b", MaxHeaderValueBytes+1)
	backing := []string{"one", "two", "spare"}
	h := http.Header{
		"Request-Id":    {"08REQ"},
		"X-Two":         backing[:2], // room after it: an append must not reach "spare"
		"X-At-Limit":    {atLimit},
		"X-Over-Limit":  {"short", overLimit},
		"Authorization": {"secret"}, "proxy-authorization": {"secret"}, "COOKIE": {"secret"}, "set-cookie": {"secret"},
	}
	r := responseOf(&answer{status: 200, requestID: requestID(h), header: h})
	assert.Equal(t, "08REQ", r.RequestID)
	assert.Equal(t, 200, r.StatusCode)
	assert.Len(t, r.Header, 4, "the four credential headers are dropped, whatever their case")
	assert.Equal(t, atLimit, r.Header.Get("X-At-Limit"), "a value at the limit is kept whole")
	over := r.Header["X-Over-Limit"]
	assert.Equal(t, "short", over[0])
	assert.Equal(t, overLimit[:MaxHeaderValueBytes]+cutMark, over[1], "a value over the limit is clipped")
	assert.Equal(t, overLimit, h["X-Over-Limit"][1], "the answer's own value is not changed")

	r.Header["X-Two"] = append(r.Header["X-Two"], "appended")
	assert.Equal(t, "spare", backing[2], "an append to a kept header never writes into the answer's array")
	assert.Equal(t, []string{"one", "two", "appended"}, r.Header["X-Two"])
	r.Header["X-Two"][0] = "overwritten"
	assert.Equal(t, "one", backing[0], "a write into a kept value never reaches the answer's array")
	for k := range r.Header {
		if k != "X-Two" {
			r.Header[k] = append(r.Header[k], "appended")
		}
	}
	assert.Equal(t, []string{"overwritten", "two", "appended"}, r.Header["X-Two"], "appends to the others leave this one alone")

	assert.Nil(t, responseOf(&answer{status: 204}).Header)
}
