package busifavor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// metaSecret is in every credential header metaAnswer adds: it must never
// reach a Response, a print or a JSON of a response.
const metaSecret = "s3cr3t-credential"

// metaAnswer answers status with body, signed, with Request-ID id, a
// header of a gateway (X-Gateway) and the credential headers a gateway
// might add, all carrying metaSecret.
func metaAnswer(m *mockWechat, status int, body, id string) httpmock.Responder {
	signed := m.signed(status, body)
	return func(r *http.Request) (*http.Response, error) {
		res, err := signed(r)
		if err != nil {
			return nil, err
		}
		res.Header.Set("Request-ID", id)
		res.Header.Set("X-Gateway", "kept")
		res.Header.Set("Set-Cookie", "session="+metaSecret+"; HttpOnly")
		res.Header.Set("Authorization", "Bearer "+metaSecret)
		res.Header.Set("Proxy-Authorization", "Basic "+metaSecret)
		res.Header["cookie"] = []string{"c=" + metaSecret} // not canonical: still dropped
		return res, nil
	}
}

// metaCall is one call whose response carries a Response: its answer's
// status and body, and the call.
type metaCall struct {
	name   string
	status int
	body   string
	call   func(context.Context, *busifavor.Client) (any, error)
}

// metaCalls are every method that answers with a response type: the
// endpoints of the family table, the partnerships, UploadImage and the Wait
// helpers, each on an answer that settles it at once.
func metaCalls(t *testing.T) []metaCall {
	var calls []metaCall
	for _, e := range endpoints() {
		c := metaCall{name: e.name, status: http.StatusNoContent, call: e.ours}
		if e.answer != nil {
			answer := modelAnswer(t, e, 1)
			b, err := json.Marshal(answer)
			require.NoError(t, err)
			c.status, c.body = http.StatusOK, string(b)
			if e.fit != nil {
				c.call = e.fit(answer)
			}
		}
		calls = append(calls, c)
	}
	for name, answer := range gopayAnswers() {
		b, err := json.Marshal(answer)
		require.NoError(t, err)
		calls = append(calls, metaCall{name: name, status: http.StatusOK, body: string(b)})
	}
	png := logoPNG(t)
	for i, c := range calls {
		switch c.name {
		case "BuildPartnership":
			calls[i].call = func(ctx context.Context, cl *busifavor.Client) (any, error) {
				return cl.BuildPartnership(ctx, validBuild())
			}
		case "TerminatePartnership":
			calls[i].call = func(ctx context.Context, cl *busifavor.Client) (any, error) {
				return cl.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
			}
		case "ListPartnerships":
			calls[i].call = func(ctx context.Context, cl *busifavor.Client) (any, error) {
				return cl.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{AuthorizedData: validBuild().AuthorizedData})
			}
		}
	}
	return append(calls,
		metaCall{name: "UploadImage", status: http.StatusOK, body: `{"media_url":"https://wxpaylogo.qpic.cn/wxpaylogo/abc/0"}`,
			call: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return c.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: png})
			}},
		metaCall{name: "WaitSubsidyPayReceipt", status: http.StatusOK,
			body: fmt.Sprintf(`{"pay_receipt_list":[{"status":"SUCCESS","out_subsidy_no":"pay-1","stock_id":%q}]}`, fxStockID),
			call: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return busifavor.WaitSubsidyPayReceipt(ctx, c, busifavor.WaitSubsidyPayReceiptRequest{StockID: fxStockID, CouponCode: fxCode, OutSubsidyNo: "pay-1"})
			}},
		metaCall{name: "WaitSubsidyReturnReceipt", status: http.StatusOK,
			body: `{"status":"RETURN_RECEIPT_SUCCESS","out_subsidy_return_no":"ret-1","subsidy_return_receipt_id":"1120200119165100000000000001"}`,
			call: func(ctx context.Context, c *busifavor.Client) (any, error) {
				return busifavor.WaitSubsidyReturnReceipt(ctx, c, busifavor.WaitSubsidyReturnReceiptRequest{Created: &busifavor.SubsidyReturnReceipt{SubsidyReturnReceiptID: "1120200119165100000000000001",
					OutSubsidyReturnNo: "ret-1", Status: busifavor.SubsidyReturnReceiptStatusAccepted}})
			}},
	)
}

// metaOf is the Response resp, a pointer to a response type, embeds.
func metaOf(t *testing.T, resp any) busifavor.Response {
	t.Helper()
	f, ok := reflect.TypeOf(resp).Elem().FieldByName("Response")
	require.True(t, ok && f.Anonymous && f.Tag.Get("json") == "-", "%T embeds no Response `json:\"-\"`", resp)
	return reflect.ValueOf(resp).Elem().FieldByIndex(f.Index).Interface().(busifavor.Response)
}

// TestEveryResponseCarriesItsAnswersMetadata calls every method answering
// with a response type, each on an answer with a Request-ID of its own and
// the credential headers a gateway might add: the response's Response has
// that Request-ID, the status and the other headers, never a credential
// header; and the response's JSON (json.Marshal, and busifavortest.Marshal,
// which the command's --json prints), fmt and slog output hold no
// credential, and the JSON no metadata. Every method of Client that returns
// a type with a Response is in the table.
func TestEveryResponseCarriesItsAnswersMetadata(t *testing.T) {
	m := newMockWechat(t)
	var covered []string
	for i, c := range metaCalls(t) {
		covered = append(covered, c.name)
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("08REQ%04d", i)
			m.mt.RegisterNoResponder(metaAnswer(m, c.status, c.body, id))
			resp, err := c.call(ctx, m.client)
			require.NoError(t, err)
			meta := metaOf(t, resp)
			assert.Equal(t, id, meta.RequestID)
			assert.Equal(t, id, reflect.ValueOf(resp).Elem().FieldByName("RequestID").String(), "promoted")
			assert.Equal(t, c.status, meta.StatusCode)
			assert.Equal(t, []string{"kept"}, meta.Header.Values("X-Gateway"))
			assert.Equal(t, id, meta.Header.Get("Request-Id"))
			for k, vs := range meta.Header {
				assert.NotContains(t, []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}, http.CanonicalHeaderKey(k))
				for _, v := range vs {
					assert.NotContains(t, v, metaSecret, k)
				}
			}
			// Each header's values are its own: appending to one changes no other.
			want := meta.Header.Clone()
			for k := range meta.Header {
				meta.Header[k] = append(meta.Header[k], "appended")
				want[k] = append(want[k], "appended")
			}
			assert.Equal(t, want, meta.Header)

			b, err := json.Marshal(resp)
			require.NoError(t, err)
			w, err := busifavortest.Marshal(resp)
			require.NoError(t, err)
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("answer", "resp", resp)
			slog.New(slog.NewTextHandler(&logs, nil)).Info("answer", "resp", resp)
			for _, out := range []string{string(b), string(w), fmt.Sprintf("%v %+v %#v", resp, resp, reflect.ValueOf(resp).Elem().Interface()), logs.String()} {
				assert.NotContains(t, out, metaSecret)
			}
			for _, js := range []string{string(b), string(w)} {
				for _, meta := range []string{id, `"RequestID"`, `"request_id"`, `"StatusCode"`, `"Header"`, `"Response"`, "X-Gateway"} {
					assert.NotContains(t, js, meta, "a response's JSON is its body's fields only")
				}
			}
		})
	}

	// Every method answering with a type that embeds Response is above.
	var methods []string
	ct := reflect.TypeOf(&busifavor.Client{})
	for i := range ct.NumMethod() {
		mt := ct.Method(i).Type
		if mt.NumOut() == 2 && mt.Out(0).Kind() == reflect.Pointer && mt.Out(0).Elem().Kind() == reflect.Struct {
			if _, ok := mt.Out(0).Elem().FieldByName("Response"); ok {
				methods = append(methods, ct.Method(i).Name)
			}
		}
	}
	// …and the two Wait functions, which are not methods.
	methods = append(methods, "WaitSubsidyPayReceipt", "WaitSubsidyReturnReceipt")
	slices.Sort(methods)
	slices.Sort(covered)
	assert.Equal(t, methods, covered)
}

// TestResponseTypesEmbedOneMetadata reads the package's source: every
// exported type named …Response embeds Response, tagged json:"-", and no
// other struct has a RequestID field but APIError (whose error is itself
// the answer) and Response itself. BatchUploadCouponCodesResponse reports
// several answers and keeps one Response per batch instead.
func TestResponseTypesEmbedOneMetadata(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	require.NoError(t, err)
	var responses int
	for _, f := range pkgs["busifavor"].Files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			var embeds bool
			for _, fld := range st.Fields.List {
				if id, ok := fld.Type.(*ast.Ident); ok && id.Name == "Response" && len(fld.Names) == 0 {
					embeds = fld.Tag != nil && fld.Tag.Value == "`json:\"-\"`"
					assert.True(t, embeds, "%s embeds Response without the tag json:\"-\"", ts.Name.Name)
				}
				for _, name := range fld.Names {
					if name.Name == "RequestID" {
						// APIError is a refusal's; an observer's Attempt and
						// CallResult report an attempt's and a call's.
						assert.Contains(t, []string{"APIError", "Response", "Attempt", "CallResult"}, ts.Name.Name, "%s has a RequestID of its own: embed Response", ts.Name.Name)
					}
				}
			}
			if ts.Name.IsExported() && strings.HasSuffix(ts.Name.Name, "Response") && !slices.Contains([]string{"Response", "BatchUploadCouponCodesResponse"}, ts.Name.Name) {
				responses++
				assert.True(t, embeds, "%s does not embed Response", ts.Name.Name)
			}
			return true
		})
	}
	assert.Greater(t, responses, 25)
}
