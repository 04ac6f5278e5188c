package busifavor_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// Issue 19's proof that nothing is dropped: every answer field wechatpay-go's
// models know, fed through the real client (signed canned answers, verified)
// with unknown fields at every level and times in every shape ParseTime
// accepts, arrives in our typed response.

// timeShape writes a time as one of the shapes WeChat Pay answers in.
type timeShape struct {
	name   string
	format func(time.Time) string
}

// timeShapes are the four shapes ParseTime accepts.
var timeShapes = []timeShape{
	{"rfc3339", func(t time.Time) string { return t.In(cst).Format("2006-01-02T15:04:05Z07:00") }},
	{"rfc3339-millis", func(t time.Time) string { return t.In(cst).Format("2006-01-02T15:04:05.000Z07:00") }},
	{"utc-z", func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }},
	{"colon-millis", func(t time.Time) string { // 2019-05-20T13:29:35:120+08:00, the pages' prose shape
		t = t.In(cst)
		return t.Format("2006-01-02T15:04:05") + ":" + t.Format(".000")[1:] + t.Format("Z07:00")
	}},
}

// wireTimeOf reads s as a time in any of timeShapes, independently of
// ParseTime; ok is false when s is not a time.
func wireTimeOf(s string) (t time.Time, ok bool) {
	if len(s) > 20 && s[10] == 'T' && s[19] == ':' {
		s = s[:19] + "." + s[20:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// generic decodes JSON into maps, slices and json.Numbers.
func generic(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v), "%s", b)
	return v
}

// deepCopy copies a generic JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// reshapeTimes rewrites every time string in v in shape s. wechatpay-go's
// models write whole seconds: a time without a fraction gets 120 ms, so that
// the shapes with milliseconds carry some.
func reshapeTimes(v any, s timeShape) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = reshapeTimes(x, s)
		}
	case []any:
		for i, x := range v {
			v[i] = reshapeTimes(x, s)
		}
	case string:
		if t, ok := wireTimeOf(v); ok {
			if t.Nanosecond() == 0 {
				t = t.Add(120 * time.Millisecond)
			}
			return s.format(t)
		}
	}
	return v
}

// addUnknown adds fields no model has to every object in v, of every JSON
// kind, as a newer WeChat Pay may send.
func addUnknown(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			addUnknown(x)
		}
		v["x_unknown_object"] = map[string]any{"x_nested": []any{json.Number("1"), "two", map[string]any{"x_deep": nil}}, "x_flag": true}
		v["x_unknown_list"] = []any{map[string]any{"coupon_code": "not ours"}, json.Number("-1.5e3")}
		v["x_unknown_string"] = "2019-05-20T13:29:35+08:00"
		v["x_unknown_number"] = json.Number("12345678901234567890")
		v["x_unknown_null"] = nil
	case []any:
		for _, x := range v {
			addUnknown(x)
		}
	}
}

// diffJSON lists where got lacks or differs from want, by JSON path. Times
// compare as instants: the shapes differ, the moments must not.
func diffJSON(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %#v", path, got)}
		}
		var out []string
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			gv, ok := g[k]
			if !ok {
				out = append(out, p+": dropped")
				continue
			}
			out = append(out, diffJSON(p, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d items, got %#v", path, len(w), got)}
		}
		var out []string
		for i := range w {
			out = append(out, diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case string:
		if wt, ok := wireTimeOf(w); ok {
			gs, _ := got.(string)
			if gt, ok := wireTimeOf(gs); !ok || !gt.Equal(wt) {
				return []string{fmt.Sprintf("%s: want the time %s, got %#v", path, w, got)}
			}
			return nil
		}
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: want %#v, got %#v", path, want, got)}
	}
	return nil
}

// received is our typed response as JSON in the answer's shape: json.Marshal
// of the response (its JSON names are the wire's; its Response is left out),
// through the endpoint's view.
func received(t *testing.T, e endpoint, resp any) map[string]any {
	t.Helper()
	b, err := json.Marshal(resp)
	require.NoError(t, err)
	m, ok := generic(t, b).(map[string]any)
	require.True(t, ok, "%s", b)
	if e.view != nil {
		m = e.view(m)
	}
	return m
}

// modelAnswer is e's answer with n items as wechatpay-go marshals it, decoded
// generically.
func modelAnswer(t testing.TB, e endpoint, n int) map[string]any {
	t.Helper()
	b, err := json.Marshal(e.answer(n))
	require.NoError(t, err, e.name)
	return generic(t, b).(map[string]any)
}

// TestDecodeEveryField feeds each endpoint's answer, every field of
// wechatpay-go's model set (lists with three items), with unknown fields at
// every level and every time in each of the four shapes, through the client
// on signed canned answers, and checks that every value arrives.
func TestDecodeEveryField(t *testing.T) {
	m := newMockWechat(t)
	for _, e := range endpoints() {
		if e.answer == nil {
			continue
		}
		for _, shape := range timeShapes {
			t.Run(e.name+"/"+shape.name, func(t *testing.T) {
				want := reshapeTimes(modelAnswer(t, e, 3), shape)
				fed := deepCopy(want)
				addUnknown(fed)
				body, err := json.Marshal(fed)
				require.NoError(t, err)
				m.mt.RegisterNoResponder(m.signed(200, string(body)))
				resp, err := e.ours(ctx, m.client)
				require.NoError(t, err, "%s", body)
				for _, d := range diffJSON("", want, received(t, e, resp)) {
					t.Error(d)
				}
			})
		}
	}
}

// TestDecodeFeedsTheNewFields guards the fixtures: the fields added to the
// answers lately (暂未开放 in the models) are among those fed.
func TestDecodeFeedsTheNewFields(t *testing.T) {
	for name, paths := range map[string][]string{
		"GetStock":        {"stock_send_rule.max_amount", "stock_send_rule.max_amount_by_day", "stock_send_rule.transferable", "stock_send_rule.shareable"},
		"GetUserCoupon":   {"transferable", "shareable"},
		"ListUserCoupons": {"data[0].transferable", "data[0].shareable"},
		"GetCouponCode":   {"coupon_information.transferable", "coupon_information.shareable"},
	} {
		answer := modelAnswer(t, endpointNamed(name), 1)
		for _, p := range paths {
			_, ok := lookup(answer, p)
			assert.True(t, ok, "%s answer lacks %s", name, p)
		}
	}
}

// lookup finds the value at a path of the form a.b[0].c.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		key, idx, isIndex := strings.Cut(part, "[")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[key]; !ok {
			return nil, false
		}
		if isIndex {
			var i int
			fmt.Sscanf(idx, "%d]", &i)
			l, ok := v.([]any)
			if !ok || i >= len(l) {
				return nil, false
			}
			v = l[i]
		}
	}
	return v, true
}

// TestEveryEndpointIsBenchmarkedAndDecoded keeps the table complete: every
// endpoint of the busifavor family (spec: busifavor-family.md) is in it,
// has a Benchmark function in bench_test.go, and all but UpdateStock (no
// answer body) have an answer the decode tests feed.
func TestEveryEndpointIsBenchmarkedAndDecoded(t *testing.T) {
	family := []string{"SetCallbacks", "GetCallbacks", "CreateStock", "GetStock", "UpdateStock", "UpdateStockBudget",
		"UploadCouponCodes", "ListCouponCodes", "GetCouponCode", "DeleteCouponCode", "SendCoupon", "UseCoupon", "GetUserCoupon",
		"ListUserCoupons", "AssociateTradeInfo", "DisassociateTradeInfo", "ReturnCoupon", "DeactivateCoupon", "SendGovCard",
		"CreateSubsidyPayReceipt", "GetSubsidyPayReceipt", "ListSubsidyPayReceipts", "CreateSubsidyReturnReceipt", "GetSubsidyReturnReceipt"}
	var names []string
	for _, e := range endpoints() {
		names = append(names, e.name)
		assert.Equal(t, e.name != "UpdateStock", e.answer != nil, e.name)
		assert.Equal(t, strings.HasPrefix(e.name, "List"), e.list, e.name)
		_, ok := reflect.TypeOf(&busifavor.Client{}).MethodByName(e.name)
		assert.True(t, ok, "no method Client.%s", e.name)
	}
	assert.Equal(t, family, names)

	f, err := parser.ParseFile(token.NewFileSet(), "bench_test.go", nil, 0)
	require.NoError(t, err)
	benchmarks := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fn.Name.Name, "Benchmark") {
			benchmarks[strings.TrimPrefix(fn.Name.Name, "Benchmark")] = true
		}
	}
	for _, name := range family {
		assert.True(t, benchmarks[name], "bench_test.go has no Benchmark%s", name)
	}
}

// field is one field of an answer: its JSON path, whether wechatpay-go's
// model requires it (no omitempty), and its JSON value.
type field struct {
	path     string
	required bool
	value    any
}

// answerFields lists every field of answer v, whose model type is typ, depth
// first; of a list, the fields of its first item.
func answerFields(path string, v any, typ reflect.Type) []field {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		if typ.Kind() == reflect.Slice {
			l, ok := v.([]any)
			if !ok || len(l) == 0 {
				return nil
			}
			v, path = l[0], path+"[0]"
		}
		typ = typ.Elem()
	}
	obj, ok := v.(map[string]any)
	if !ok || typ.Kind() != reflect.Struct {
		return nil
	}
	var out []field
	for i := range typ.NumField() {
		sf := typ.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		x, ok := obj[name]
		if !ok {
			continue
		}
		p := strings.TrimPrefix(path+"."+name, ".")
		out = append(out, field{path: p, required: !slices.Contains(strings.Split(opts, ","), "omitempty"), value: x})
		if sf.Type != reflect.TypeOf(&time.Time{}) {
			out = append(out, answerFields(p, x, sf.Type)...)
		}
	}
	return out
}

// edit applies change to the value at path of a copy of answer: a nil
// change deletes the field.
func edit(answer map[string]any, path string, change any) map[string]any {
	out := deepCopy(answer).(map[string]any)
	parent, key := any(out), path
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, _ = lookup(out, path[:i])
		key = path[i+1:]
	}
	m := parent.(map[string]any)
	if change == nil {
		delete(m, key)
	} else {
		m[key] = change
	}
	return out
}

// pageRequired lists the fields the models leave optional but an official
// page makes required (必填), with the page: the client may refuse an answer
// without them. None is listed yet: a check added on a page's word comes
// with its row here.
var pageRequired = map[string]string{
	// "Endpoint field.path": "https://pay.weixin.qq.com/… (必填)",
}

// TestRequiredFieldsFollowTheSources checks the required-field checks
// against wechatpay-go's models and the pages (issue 19): starting from the
// full answer, an answer without a field the models leave optional
// (omitempty) must be accepted unless pageRequired names a page that makes
// it required, and a number or bool that is present is present, even when
// it is 0 or false (UpdateStockBudget's max_coupons: 0 comes from a stock
// capped only per day). Where the client refuses an answer without a field
// the models require, the error is ErrMalformedResponse naming the field;
// the subtests' logs say which required fields are checked.
//
// Some subtests may fail on a decoder that checks more than the sources
// require; they are meant to, and are not skipped.
func TestRequiredFieldsFollowTheSources(t *testing.T) {
	m := newMockWechat(t)
	call := func(t *testing.T, e endpoint, answer map[string]any) (any, error) {
		t.Helper()
		body, err := json.Marshal(answer)
		require.NoError(t, err)
		m.mt.RegisterNoResponder(m.signed(200, string(body)))
		if e.fit != nil {
			return e.fit(answer)(ctx, m.client)
		}
		return e.ours(ctx, m.client)
	}
	for _, e := range endpoints() {
		if e.answer == nil {
			continue
		}
		full := modelAnswer(t, e, 2)
		model := reflect.TypeOf(e.answer(2))
		t.Run(e.name, func(t *testing.T) {
			_, err := call(t, e, full)
			require.NoError(t, err, "the full answer")
			var checked, unchecked []string
			for _, f := range answerFields("", full, model) {
				switch {
				case !f.required:
					if page, ok := pageRequired[e.name+" "+f.path]; ok {
						t.Logf("%s may be refused: required by %s", f.path, page)
						continue
					}
					t.Run("omit/"+f.path, func(t *testing.T) {
						_, err := call(t, e, edit(full, f.path, nil))
						assert.NoError(t, err, "%s is optional in wechatpay-go's model (omitempty) and no page makes it required", f.path)
					})
				default:
					_, err := call(t, e, edit(full, f.path, nil))
					if err == nil {
						unchecked = append(unchecked, f.path)
						break
					}
					checked = append(checked, f.path)
					assert.True(t, errors.Is(err, busifavor.ErrMalformedResponse), "%s: %v", f.path, err)
					leaf := f.path[strings.LastIndexAny(f.path, ".]")+1:]
					assert.Contains(t, err.Error(), leaf, "the error names the missing field")
				}
				switch f.value.(type) {
				case json.Number:
					t.Run("zero/"+f.path, func(t *testing.T) {
						_, err := call(t, e, edit(full, f.path, json.Number("0")))
						assert.NoError(t, err, "%s: 0 is a value, not a missing field", f.path)
					})
				case bool:
					t.Run("false/"+f.path, func(t *testing.T) {
						_, err := call(t, e, edit(full, f.path, false))
						assert.NoError(t, err, "%s: false is a value, not a missing field", f.path)
					})
				}
			}
			t.Logf("required by the models and refused when missing: %v", checked)
			t.Logf("required by the models but accepted when missing: %v", unchecked)
		})
	}
}
