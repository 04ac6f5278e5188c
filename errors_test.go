package busifavor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
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

// operationCalls calls every Client method that calls WeChat Pay once, with
// a valid request, by the method's name.
func operationCalls(c *busifavor.Client) map[string]func() (any, error) {
	calls := map[string]func() (any, error){
		"SetCallbacks": func() (any, error) {
			return c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://example.com/notify"})
		},
		"GetCallbacks": func() (any, error) { return c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{}) },
		"UploadImage": func() (any, error) {
			return c.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: examplePNG()})
		},
		"BuildPartnership": func() (any, error) { return c.BuildPartnership(ctx, validBuild()) },
		"TerminatePartnership": func() (any, error) {
			return c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
		},
		"ListPartnerships": func() (any, error) {
			return c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{AuthorizedData: validBuild().AuthorizedData})
		},
	}
	for _, more := range []map[string]func() (any, error){couponCalls(c), stockCalls(c, "98065001"), subsidyCalls(c)} {
		maps.Copy(calls, more)
	}
	return calls
}

// clientOperations are the methods of *Client that call WeChat Pay: those
// taking a context and their own request type (UseCoupon(ctx,
// UseCouponRequest); AssociateTradeInfo's is an alias of TradeInfoRequest)
// and returning a pointer and an error. The helpers built on them take
// other requests (BatchUploadCouponCodes: BatchUploadCouponCodesRequest).
func clientOperations() []string {
	var out []string
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	typ := reflect.TypeFor[*busifavor.Client]()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		f := m.Type // the receiver is In(0)
		if f.NumIn() != 3 || f.In(1) != ctxType || f.NumOut() != 2 || f.Out(0).Kind() != reflect.Pointer || f.Out(1) != errType {
			continue
		}
		if m.Name == "BatchUploadCouponCodes" { // a helper over UploadCouponCodes, not an operation
			continue
		}
		if req, ok := strings.CutSuffix(f.In(2).Name(), "Request"); ok && strings.HasSuffix(m.Name, req) {
			out = append(out, m.Name)
		}
	}
	return out
}

// TestEveryOperationHasOneName: for every Client method that calls WeChat
// Pay, the fake's FailOn takes the method's name and the *APIError the
// method returns carries it in Operation and its text; nothing else tells
// a fault on one method from another's.
func TestEveryOperationHasOneName(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := operationCalls(c)
	methods := clientOperations()
	require.Len(t, methods, 28)
	assert.ElementsMatch(t, methods, slices.Collect(maps.Keys(calls)), "a call for every method")
	assert.ElementsMatch(t, methods, busifavortest.Operations(), "the fake knows every method")
	for _, op := range methods {
		msg := "injected into " + op
		s.FailOn(op, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 400, Body: `{"code":"PARAM_ERROR","message":"` + msg + `"}`})
		resp, err := calls[op]()
		assert.Nil(t, resp, op)
		var apiErr *busifavor.APIError
		if assert.ErrorAs(t, err, &apiErr, op) {
			assert.Equal(t, msg, apiErr.Message, "the fault hit %s", op)
			assert.Equal(t, op, apiErr.Operation)
			assert.Equal(t, busifavor.ErrorCodeParamError, busifavor.ErrorCodeOf(err))
			assert.Contains(t, err.Error(), "busifavor: "+op+": 400 Bad Request PARAM_ERROR")
		}
	}
	assert.Panics(t, func() { s.FailOn("UseCopon", 1, busifavortest.Fault{Kind: busifavortest.FaultDrop}) }, "a misspelt name is a mistake")
}

// TestAPIErrorBuiltByHandMatchesAsTheClientsOwn: a test double of a user's
// can build the errors users branch on. For each code of the table, on
// each endpoint that gives a code a state's meaning (and two that give
// none), the *APIError the client returns and one built from its exported
// fields (StatusCode, Code, Operation) match the same sentinels and carry
// the same code.
func TestAPIErrorBuiltByHandMatchesAsTheClientsOwn(t *testing.T) {
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	calls := operationCalls(c)
	sentinels := []error{busifavor.ErrCouponUsed, busifavor.ErrCouponNotUsable, busifavor.ErrCouponNotFound,
		busifavor.ErrReceiptExists, busifavor.ErrReceiptNotFound, busifavor.ErrNoAuth, busifavor.ErrFrequencyLimited}
	for _, op := range []string{"UseCoupon", "GetUserCoupon", "ReturnCoupon", "DeactivateCoupon", "AssociateTradeInfo", "DisassociateTradeInfo",
		"CreateSubsidyPayReceipt", "CreateSubsidyReturnReceipt", "GetSubsidyPayReceipt", "GetSubsidyReturnReceipt", "CreateStock", "SendCoupon"} {
		for _, code := range busifavor.ErrorCodes() {
			s.FailOn(op, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: code})
			_, err := calls[op]()
			var real *busifavor.APIError
			require.ErrorAs(t, err, &real, "%s %s", op, code)
			built := &busifavor.APIError{StatusCode: code.HTTPStatus(), Code: code, Operation: op}
			assert.Equal(t, real.StatusCode, built.StatusCode, "%s %s", op, code)
			assert.Equal(t, real.Operation, built.Operation, "%s %s", op, code)
			assert.Equal(t, busifavor.ErrorCodeOf(real), busifavor.ErrorCodeOf(built), "%s %s", op, code)
			assert.Equal(t, real.Retryable(), built.Retryable(), "%s %s", op, code)
			for _, sentinel := range sentinels {
				assert.Equal(t, errors.Is(real, sentinel), errors.Is(built, sentinel), "%s %s %v", op, code, sentinel)
			}
		}
	}

	// The case, spelled out: the operation gives the code its meaning.
	used := &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists, Operation: "UseCoupon"}
	assert.ErrorIs(t, fmt.Errorf("till: %w", used), busifavor.ErrCouponUsed)
	assert.NotErrorIs(t, &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists, Operation: "CreateStock"}, busifavor.ErrCouponUsed)
	assert.NotErrorIs(t, &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists}, busifavor.ErrCouponUsed,
		"without an operation no state sentinel matches")
}

// TestErrorCodeOf: the code of the *APIError anywhere in the chain, the
// last one a call that gave up got, and "" for every other error.
func TestErrorCodeOf(t *testing.T) {
	s, c := newFake(t, nil, fast)
	assert.Equal(t, busifavor.ErrorCode(""), busifavor.ErrorCodeOf(nil))
	_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: "1"})
	require.ErrorIs(t, err, busifavor.ErrValidation)
	assert.Equal(t, busifavor.ErrorCode(""), busifavor.ErrorCodeOf(err))
	assert.NotContains(t, err.Error(), "invalid request", "not to be read as WeChat Pay's INVALID_REQUEST")
	assert.Contains(t, err.Error(), "busifavor: request refused before sending: mchid: ")

	s.FailOn("GetCallbacks", 3, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.ErrorIs(t, err, busifavor.ErrTransport)
	assert.Equal(t, busifavor.ErrorCode(""), busifavor.ErrorCodeOf(err))

	s.FailOn("GetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 502, Body: "<html>bad gateway"})
	s.FailOn("GetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	s.FailOn("GetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	require.ErrorIs(t, err, busifavor.ErrTransport)
	assert.Equal(t, busifavor.ErrorCodeSystemError, busifavor.ErrorCodeOf(err), "the last answer's code, after a transport error")

	s.FailOn("GetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 502, Body: "<html>bad gateway"})
	s.FailOn("GetCallbacks", 2, busifavortest.Fault{Kind: busifavortest.FaultGarbled})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.Equal(t, busifavor.ErrorCode(""), busifavor.ErrorCodeOf(err), "an answer without a JSON error has no code")

	s.FailOn("GetCallbacks", 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: "SOMETHING_NEW"})
	_, err = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	assert.Equal(t, busifavor.ErrorCode("SOMETHING_NEW"), busifavor.ErrorCodeOf(fmt.Errorf("wrapped: %w", err)), "unknown codes as they came")
}
