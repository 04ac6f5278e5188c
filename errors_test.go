package busifavor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// A PARAM_ERROR's detail echoes the value sent, which can be an openid or a
// coupon code: it is masked as the answer is read, so %#v, slog (text and
// JSON, the error as a value or inside a struct) and json.Marshal show it
// masked; field, issue, location and non-string values stay as they came.
func TestAPIErrorDetailValueIsMasked(t *testing.T) {
	body := `{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/body/openid","value":"` + testOpenid +
		`","issue":"openid 与 appid 不匹配 <x>","location":"body","more":[{"field":"coupon_code","value":["` + secretCode +
		`",{"value":"` + secretCode + `"}]},{"field":"amount","value":100,"flag":true}]}}`
	m := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	m.mt.RegisterNoResponder(m.signed(400, body))
	_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)

	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(apiErr.Detail))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&d))
	assert.Equal(t, "/body/openid", d["field"])
	assert.Equal(t, busifavor.MaskCode(testOpenid), d["value"])
	assert.Equal(t, "openid 与 appid 不匹配 <x>", d["issue"])
	assert.Equal(t, "body", d["location"])
	more := d["more"].([]any)
	assert.Equal(t, []any{busifavor.MaskCode(secretCode), map[string]any{"value": busifavor.MaskCode(secretCode)}}, more[0].(map[string]any)["value"])
	assert.Equal(t, map[string]any{"field": "amount", "value": json.Number("100"), "flag": true}, more[1])

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("refused", "err", apiErr, "value", *apiErr)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("refused", "err", apiErr, "value", *apiErr,
		"holder", struct{ Err *busifavor.APIError }{apiErr})
	marshalled, merr := json.Marshal(apiErr)
	require.NoError(t, merr)
	for _, out := range []string{
		string(apiErr.Detail), err.Error(), apiErr.Error(), string(marshalled), text.String(), js.String(),
		fmt.Sprintf("%v %+v %#v %s", apiErr, apiErr, apiErr, apiErr),
		fmt.Sprintf("%v %+v %#v", *apiErr, *apiErr, *apiErr),
		fmt.Sprintf("%s %+v %#v", apiErr.Detail, apiErr.Detail, string(apiErr.Detail)),
	} {
		assert.NotContains(t, out, testOpenid)
		assert.NotContains(t, out, secretCode)
	}
	assert.Contains(t, js.String(), busifavor.MaskCode(testOpenid), "masked, not dropped")
}

// A detail without a value is kept byte for byte.
func TestAPIErrorDetailWithoutValueIsKept(t *testing.T) {
	const detail = `{"location":"body",  "field":"mchid"}`
	m := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	m.mt.RegisterNoResponder(m.signed(400, `{"code":"PARAM_ERROR","message":"x","detail":`+detail+`}`))
	_, err := m.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, detail, string(apiErr.Detail))
}
