package busifavor

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzT exercises every kind the decoder reads.
type fuzzT struct {
	S     string            `json:"s"`
	N     int64             `json:"n"`
	I     int32             `json:"i"`
	B     bool              `json:"b"`
	F     float64           `json:"f"`
	T     time.Time         `json:"t"`
	P     *fuzzInner        `json:"p"`
	L     []fuzzInner       `json:"l"`
	SS    []string          `json:"ss"`
	Inner fuzzInner         `json:"inner"`
	M     map[string]string `json:"m"`
}

type fuzzInner struct {
	A string `json:"a"`
	N int64  `json:"n"`
}

// hasDuplicateKeys reports whether an object in body repeats a key (where
// encoding/json merges into what it decoded before, and the decoder starts
// afresh).
func hasDuplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{keys: map[string]bool{}, object: true, key: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				if n := len(stack); n > 0 && stack[n-1].object {
					stack[n-1].key = true
				}
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			top := &stack[n-1]
			if top.key {
				k := strings.ToLower(tok.(string))
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.key = false
			} else {
				top.key = true
			}
		}
	}
}

// FuzzDecodeMatchesEncodingJSON checks the decoder against encoding/json:
// it never panics, and whatever encoding/json reads it reads the same.
func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"s":"a\u00e9\ud83d\ude00","n":-12,"i":7,"b":true,"f":1.5e3,"t":"2019-05-20T13:29:35.120+08:00","p":{"a":"x","n":1},` +
			`"l":[{"a":"y"},{"n":2}],"ss":["p","q"],"inner":{"a":"z","extra":[1,{"k":null}]},"m":{"k":"v"},"unknown":{"deep":[[[]]]}}`,
		`{"S":"case","N":1}`, `{"s":null,"p":null,"l":null,"t":null}`, `{"l":[]}`, `{"s":"\ud800x"}`, "{\"s\":\"\xff\"}",
		`{"n":1e2}`, `{"n":01}`, `{"i":2147483648}`, `{"f":1e400}`, `{} x`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ours fuzzT
		oerr := decodeJSON(body, &ours)
		var want fuzzT
		if json.Unmarshal(body, &want) != nil || hasDuplicateKeys(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return
		}
		if oerr != nil {
			t.Fatalf("encoding/json reads %q, the decoder says %v", body, oerr)
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(ours)
		if !bytes.Equal(a, b) {
			t.Fatalf("%q:\nencoding/json %s\ndecoder       %s", body, a, b)
		}
	})
}

// TestDecodeRefusesBrokenJSON checks that a syntax error anywhere, in a
// known field or a skipped one, is an error naming no value.
func TestDecodeRefusesBrokenJSON(t *testing.T) {
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `{"s":"a"`, `{"s":"a",}`, `{"s" "a"}`, `{s:"a"}`, `{"s":"a"} {}`,
		`{"unknown":[1,]}`, `{"unknown":{"a":1,}}`, `{"unknown":tru}`, `{"unknown":01}`, `{"unknown":1.}`, `{"unknown":-}`,
		`{"unknown":"\x01"}`, `{"unknown":"\q"}`, `{"unknown":"\u12"}`, `{"s":"unterminated`, `{"n":"1"}`, `{"n":1.5}`,
		`{"n":99999999999999999999}`, `{"i":2147483648}`, `{"b":1}`, `{"t":"yesterday"}`, `{"t":1}`, `{"l":{}}`, `{"p":[]}`,
		`{"unknown":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`,
	} {
		var v fuzzT
		err := decodeJSON([]byte(body), &v)
		assert.Error(t, err, "%q", body)
	}
}

// TestDecodeReadsWhatTheWireHolds checks escapes, unknown fields at every
// level, case-insensitive names, null, the four time shapes and empty times.
func TestDecodeReadsWhatTheWireHolds(t *testing.T) {
	var v fuzzT
	require.NoError(t, decodeJSON([]byte(` {"S":"\u00e9\ud83d\ude00\n\"\\\/","x":{"y":[1,"2",null,true,{"z":-1.5e-3}]},"inner":{"A":"a","x":[]},`+
		`"l":[{"a":"1","x":{}},null,{"n":3}],"p":{"a":"p","x":0},"t":"2019-05-20T13:29:35:120+08:00","n":-9223372036854775808} `), &v))
	assert.Equal(t, "é😀\n\"\\/", v.S)
	assert.Equal(t, "a", v.Inner.A)
	assert.Equal(t, []fuzzInner{{A: "1"}, {}, {N: 3}}, v.L)
	assert.Equal(t, &fuzzInner{A: "p"}, v.P)
	assert.Equal(t, int64(-9223372036854775808), v.N)
	want := time.Date(2019, 5, 20, 5, 29, 35, 120e6, time.UTC)
	for _, shape := range []string{"2019-05-20T13:29:35+08:00", "2019-05-20T13:29:35.120+08:00", "2019-05-20T13:29:35:120+08:00",
		"2019-05-20T05:29:35.12Z", "2019-05-20T05:29:35Z"} {
		var v fuzzT
		require.NoError(t, decodeJSON([]byte(`{"t":"`+shape+`"}`), &v), shape)
		assert.True(t, v.T.Truncate(time.Second).Equal(want.Truncate(time.Second)), shape)
	}
	for _, empty := range []string{`{"t":""}`, `{"t":null}`, `{}`} {
		var v fuzzT
		require.NoError(t, decodeJSON([]byte(empty), &v), empty)
		assert.True(t, v.T.IsZero(), empty)
	}
}

// requiredT has required fields of each kind.
type requiredT struct {
	S    string      `json:"s" required:"page"`
	N    int64       `json:"n" required:"models"`
	T    time.Time   `json:"t" required:"models"`
	L    []requiredI `json:"l"`
	P    *requiredI  `json:"p"`
	Opt  string      `json:"opt"`
	Numb string      `json:"numb" wire:"numstr"`
}

type requiredI struct {
	A string `json:"a" required:"models"`
	B bool   `json:"b" required:"models"`
}

// TestDecodeRequiredFields checks presence for numbers and bools, non-empty
// for strings and times, in nested objects only where they are, and the JSON
// path of what is missing.
func TestDecodeRequiredFields(t *testing.T) {
	ok := `{"s":"x","n":0,"t":"2019-05-20T13:29:35+08:00"`
	for body, missing := range map[string]string{
		ok + `}`: "",
		ok + `,"l":[{"a":"1","b":false}],"p":null}`:          "",
		`{"n":0,"t":"2019-05-20T13:29:35+08:00"}`:            "[s]",
		`{"s":"","n":0,"t":""}`:                              "[s t]",
		`{"s":"x","n":null,"t":"2019-05-20T13:29:35+08:00"}`: "[n]",
		`{}`: "[s n t]",
		ok + `,"l":[{"a":"1","b":true},{"b":false}]}`: "[l[1].a]",
		ok + `,"p":{"a":"","b":null}}`:                "[p.a p.b]",
	} {
		var v requiredT
		err := decodeAnswer(&answer{status: 200, body: []byte(body)}, &v)
		if missing == "" {
			require.NoError(t, err, body)
			assert.Equal(t, "", v.Opt)
			continue
		}
		assert.ErrorIs(t, err, ErrMalformedResponse, body)
		assert.EqualError(t, err, "busifavor: malformed response: required field "+missing+" missing or empty", body)
	}
	var pe *pathError
	var nv requiredT
	err := decodeJSON([]byte(ok+`,"l":[{"a":"1","b":true},null]}`), &nv)
	require.True(t, errors.As(err, &pe), "a null item must not pass for one with required fields: %v", err)
	assert.Equal(t, "l[1]", pe.path)
	var v requiredT
	require.NoError(t, decodeJSON([]byte(ok+`,"numb":1900000109}`), &v))
	assert.Equal(t, "1900000109", v.Numb)
	err = decodeJSON([]byte(ok+`,"l":[{"a":"1","b":true},{"a":2}]}`), &v)
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, "l[1].a", pe.path)
}

// TestDecodeSetsTheResponseFromTheAnswerOnly checks that a body cannot set
// the Response, at the top or through a member named after it or its
// fields.
func TestDecodeSetsTheResponseFromTheAnswerOnly(t *testing.T) {
	var r SetCallbacksResponse
	body := `{"notify_url":"https://a.cn/n","mchid":"1","RequestID":"forged","request_id":"forged","StatusCode":599,` +
		`"Header":{"X":["forged"]},"Response":{"RequestID":"forged","StatusCode":599}}`
	require.NoError(t, decodeAnswer(&answer{status: 200, body: []byte(body), requestID: "08R", header: http.Header{"Request-Id": {"08R"}}}, &r))
	assert.Equal(t, Response{RequestID: "08R", StatusCode: 200, Header: http.Header{"Request-Id": {"08R"}}}, r.Response)
}
