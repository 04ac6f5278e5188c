package busifavortest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/busifavor-go/busifavor/busifavortest"
)

// TestPagingParametersMustBeIntegers sends signed list requests whose
// offset or limit is not a number: the fake answers PARAM_ERROR naming it.
func TestPagingParametersMustBeIntegers(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	for _, path := range []string{busifavortest.StocksPath + "/1/couponcodes", busifavortest.UsersPath + "/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/coupons"} {
		for _, name := range []string{"offset", "limit"} {
			q := url.Values{"appid": {"wx1"}, name: {"ten"}}
			_, err := cc.Request(ctx, http.MethodGet, s.URL+path, nil, q, nil, "application/json")
			var apiErr *core.APIError
			require.ErrorAs(t, err, &apiErr, path)
			assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
			assert.Equal(t, "PARAM_ERROR", apiErr.Code)
			assert.Contains(t, apiErr.Message, name)
		}
	}
}
