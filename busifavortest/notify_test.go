package busifavortest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestSendCouponEventFollowsNoRedirect: WeChat Pay does not follow a
// redirect, and neither does SendCouponEvent: the 3xx comes back as the
// answer and its target never sees the event.
func TestSendCouponEventFollowsNoRedirect(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()
	redirecting := httptest.NewServer(http.RedirectHandler(target.URL+"/login", http.StatusFound))
	defer redirecting.Close()
	s := busifavortest.NewServer()
	defer s.Close()
	resp, err := s.SendCouponEvent(context.Background(), redirecting.URL, busifavor.CouponSend{CouponCode: "C1", StockID: "S1"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, target.URL+"/login", resp.Header.Get("Location"))
	assert.Zero(t, targetHits.Load(), "the redirect was followed")
}
