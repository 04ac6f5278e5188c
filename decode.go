package busifavor

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Every answer and event body is decoded by one mechanism, here: a decoder
// that reads the JSON once, straight into the package's plain Go types, by
// plans built once per type from their struct tags.
//
//   - Fields are matched by their json tag name (case-insensitively when no
//     name matches exactly, as encoding/json does); unknown fields, at any
//     level, are checked for syntax and skipped. Embedded structs without a
//     json name have their fields promoted.
//   - time.Time fields take every shape ParseTime accepts; "" and null leave
//     them zero.
//   - A field tagged required:"<source>" must be in the answer: a string or
//     a time non-empty, anything else present and not null. The tag's value
//     names the source that makes it required (models: wechatpay-go's
//     generated models, where the field has no omitempty; page: the API
//     page's 必填). A nested object's required fields are checked when the
//     object is there.
//   - A string field tagged wire:"numstr" also takes a JSON number, kept as
//     its text (WeChat Pay sends some ids either way).
//   - A response's embedded Response (tagged json:"-") gets the answer's
//     metadata (response.go), never a value from the body.
//
// Errors name the field by its JSON path (data[1].coupon_code); the only
// values they quote are malformed times and numbers, clipped, never a string
// field's value.

// decodeAnswer decodes a verified 2xx answer's body into v, a pointer to a
// response struct, sets its Response from the answer's status and headers,
// and refuses (ErrMalformedResponse) a body that is not the documented JSON
// object or lacks a required field. This is the one place a response's
// Response is filled.
func decodeAnswer(a *answer, v any) error {
	rv := reflect.ValueOf(v).Elem()
	p := planFor(rv.Type())
	if err := decodeObject(a.body, p, rv); err != nil {
		var m *missingError
		if errors.As(err, &m) {
			return fmt.Errorf("%w: %v", ErrMalformedResponse, err)
		}
		return fmt.Errorf("%w: body is not the documented JSON object: %v", ErrMalformedResponse, err)
	}
	if p.response != nil {
		*rv.FieldByIndex(p.response).Addr().Interface().(*Response) = responseOf(a)
	}
	return nil
}

// decodeJSON decodes body, which must hold exactly one JSON object, into v,
// a pointer to a struct, as decodeAnswer does, without a Response.
func decodeJSON(body []byte, v any) error {
	rv := reflect.ValueOf(v).Elem()
	return decodeObject(body, planFor(rv.Type()), rv)
}

// decodeObject decodes body, which must hold exactly one JSON object, into
// rv as p says.
func decodeObject(body []byte, p *decodePlan, rv reflect.Value) error {
	d := decoder{data: body}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return errors.New("body is not a JSON object")
	}
	if err := p.decode(&d, rv); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.syntaxError("data after the JSON object")
	}
	return nil
}

// decodePlan says how to decode one struct type.
type decodePlan struct {
	fields   []fieldPlan
	byName   map[string]int
	required []int // indexes into fields
	response []int // index path of the embedded Response, or nil
}

// fieldPlan says how to decode one field of a struct.
type fieldPlan struct {
	name     string // JSON name
	index    []int  // reflect index path, through promoted embedded structs
	decode   decodeFunc
	required string // the source that makes it required, or ""
	nonEmpty bool   // required means non-empty (strings, times), not only present
}

// decodeFunc decodes the next JSON value into v, which is settable.
type decodeFunc func(d *decoder, v reflect.Value) error

var (
	plansMu sync.Mutex
	plans   sync.Map // reflect.Type → *decodePlan
	timeT   = reflect.TypeOf(time.Time{})
)

// planFor returns the plan for struct type t, building it (and those of the
// types it holds) on first use.
func planFor(t reflect.Type) *decodePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*decodePlan)
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	building := map[reflect.Type]*decodePlan{}
	p := buildPlan(t, building)
	for t, p := range building { // published only once complete
		plans.Store(t, p)
	}
	return p
}

// buildPlan builds t's plan; building maps types whose plan is under
// construction, so that a type holding itself terminates.
func buildPlan(t reflect.Type, building map[reflect.Type]*decodePlan) *decodePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*decodePlan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &decodePlan{byName: map[string]int{}}
	building[t] = p
	if f, ok := t.FieldByName("Response"); ok && f.Anonymous && f.Type == responseType {
		p.response = f.Index
	}
	addFields(p, t, nil, building)
	if len(p.fields) > 64 {
		panic("busifavor: " + t.String() + " has more than 64 JSON fields")
	}
	return p
}

// addFields adds t's fields to p, those of embedded structs without a json
// name promoted (a name already taken by a shallower field stays with it).
func addFields(p *decodePlan, t reflect.Type, index []int, building map[reflect.Type]*decodePlan) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue // unexported, or left out of JSON (the Response: it comes from the answer's headers)
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			embedded = append(embedded, f)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := p.byName[name]; taken {
			continue
		}
		fp := fieldPlan{name: name, index: append(append([]int(nil), index...), i),
			decode: decoderFor(f.Type, f.Tag.Get("wire") == "numstr", building), required: f.Tag.Get("required")}
		fp.nonEmpty = f.Type.Kind() == reflect.String || f.Type == timeT
		if fp.required != "" {
			p.required = append(p.required, len(p.fields))
		}
		p.byName[name] = len(p.fields)
		p.fields = append(p.fields, fp)
	}
	for _, f := range embedded {
		addFields(p, f.Type, append(append([]int(nil), index...), f.Index...), building)
	}
}

// decoderFor returns the decodeFunc for values of type t.
func decoderFor(t reflect.Type, numstr bool, building map[reflect.Type]*decodePlan) decodeFunc {
	switch {
	case t == timeT:
		return decodeTime
	case reflect.PointerTo(t).Implements(reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()):
		return decodeUnmarshaler
	}
	switch t.Kind() {
	case reflect.String:
		if numstr {
			return decodeNumOrString
		}
		return decodeString
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Float32, reflect.Float64:
		return decodeFloat
	case reflect.Struct:
		return buildPlan(t, building).decode
	case reflect.Pointer:
		elem := decoderFor(t.Elem(), numstr, building)
		return func(d *decoder, v reflect.Value) error {
			if d.null() {
				v.SetZero()
				return nil
			}
			p := reflect.New(t.Elem())
			if err := elem(d, p.Elem()); err != nil {
				return err
			}
			v.Set(p)
			return nil
		}
	case reflect.Slice:
		var elemPlan *decodePlan // a null element must not pass for an object with required fields
		if t.Elem().Kind() == reflect.Struct && t.Elem() != timeT {
			elemPlan = buildPlan(t.Elem(), building)
		}
		return decodeSlice(decoderFor(t.Elem(), numstr, building), elemPlan)
	}
	return decodeWithJSON // maps, interfaces, arrays: rare; encoding/json reads them
}

// decode reads a JSON object into v, a struct of p's type, and checks its
// required fields.
func (p *decodePlan) decode(d *decoder, v reflect.Value) error {
	if d.null() {
		return nil
	}
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.depth++; d.depth > maxDepth {
		return d.syntaxError("nested too deep")
	}
	defer func() { d.depth-- }()
	var seen uint64
	d.skipSpace()
	if d.peek() == '}' {
		d.pos++
		return p.check(v, seen)
	}
	for {
		key, err := d.readKey()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		i, ok := p.byName[string(key)]
		if !ok {
			i = p.fold(key)
		}
		if i < 0 {
			if err := d.skipValue(0); err != nil {
				return err
			}
		} else {
			f := &p.fields[i]
			fv := v.Field(f.index[0])
			for _, j := range f.index[1:] {
				fv = fv.Field(j)
			}
			d.skipSpace()
			present := !d.isNull()
			if err := f.decode(d, fv); err != nil {
				return inField(err, f.name)
			}
			if present {
				seen |= 1 << i
			}
		}
		d.skipSpace()
		switch d.next() {
		case ',':
			continue
		case '}':
			return p.check(v, seen)
		}
		return d.syntaxError("expected , or } after an object member")
	}
}

// fold finds a field whose name matches key case-insensitively, or -1.
func (p *decodePlan) fold(key []byte) int {
	for i := range p.fields {
		if strings.EqualFold(p.fields[i].name, unsafe.String(unsafe.SliceData(key), len(key))) {
			return i
		}
	}
	return -1
}

// check returns a *missingError naming the required fields the object
// lacked (seen has a bit per field read and not null).
func (p *decodePlan) check(v reflect.Value, seen uint64) error {
	var missing []string
	for _, i := range p.required {
		f := &p.fields[i]
		if seen&(1<<i) == 0 {
			missing = append(missing, f.name)
			continue
		}
		if f.nonEmpty && v.FieldByIndex(f.index).IsZero() {
			missing = append(missing, f.name)
		}
	}
	if missing != nil {
		return &missingError{fields: missing}
	}
	return nil
}

// decodeSlice reads a JSON array into a slice, each element with elem; a
// null element is refused when elemPlan has required fields.
func decodeSlice(elem decodeFunc, elemPlan *decodePlan) decodeFunc {
	return func(d *decoder, v reflect.Value) error {
		if d.null() {
			v.SetZero()
			return nil
		}
		if err := d.expect('['); err != nil {
			return err
		}
		v.SetLen(0)
		d.skipSpace()
		if d.peek() == ']' {
			d.pos++
			if v.IsNil() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return nil
		}
		for i := 0; ; i++ {
			if i == v.Cap() {
				v.Grow(max(4, i))
			}
			v.SetLen(i + 1)
			e := v.Index(i)
			e.SetZero()
			if d.skipSpace(); elemPlan != nil && len(elemPlan.required) > 0 && d.isNull() {
				return inIndex(errors.New("null where an object with required fields belongs"), i)
			}
			if err := elem(d, e); err != nil {
				return inIndex(err, i)
			}
			d.skipSpace()
			switch d.next() {
			case ',':
				continue
			case ']':
				return nil
			}
			return d.syntaxError("expected , or ] after an array element")
		}
	}
}

func decodeString(d *decoder, v reflect.Value) error {
	if d.null() {
		return nil
	}
	s, err := d.readString()
	if err != nil {
		return err
	}
	v.SetString(s)
	return nil
}

// decodeNumOrString reads a string, or a number as its text.
func decodeNumOrString(d *decoder, v reflect.Value) error {
	d.skipSpace()
	if c := d.peek(); c == '-' || c >= '0' && c <= '9' {
		lit, err := d.readNumber()
		if err != nil {
			return err
		}
		v.SetString(string(lit))
		return nil
	}
	return decodeString(d, v)
}

func decodeBool(d *decoder, v reflect.Value) error {
	switch {
	case d.null():
	case d.literal("true"):
		v.SetBool(true)
	case d.literal("false"):
		v.SetBool(false)
	default:
		return d.typeError("a boolean")
	}
	return nil
}

func decodeInt(d *decoder, v reflect.Value) error {
	if d.null() {
		return nil
	}
	lit, err := d.readNumber()
	if err != nil {
		return err
	}
	n, ok := parseInt(lit)
	if !ok || v.OverflowInt(n) {
		return fmt.Errorf("%s is not an integer of %s", clip(string(lit), 32), v.Type())
	}
	v.SetInt(n)
	return nil
}

// parseInt parses a JSON integer literal without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false // a fraction or an exponent
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

func decodeFloat(d *decoder, v reflect.Value) error {
	if d.null() {
		return nil
	}
	lit, err := d.readNumber()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(lit), v.Type().Bits())
	if err != nil {
		return fmt.Errorf("%s is not a number of %s", clip(string(lit), 32), v.Type())
	}
	v.SetFloat(f)
	return nil
}

// decodeTime reads a time in any shape ParseTime accepts; "" and null leave
// it zero.
func decodeTime(d *decoder, v reflect.Value) error {
	if d.null() {
		return nil
	}
	b, err := d.readStringBytes()
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	t, err := ParseTime(unsafe.String(unsafe.SliceData(b), len(b))) // not kept: ParseTime's error quotes a copy
	if err != nil {
		return err
	}
	*(*time.Time)(v.Addr().UnsafePointer()) = t
	return nil
}

// decodeUnmarshaler hands the value's bytes to the type's own UnmarshalJSON
// (json.RawMessage keeps them as they came).
func decodeUnmarshaler(d *decoder, v reflect.Value) error {
	b, err := d.rawValue()
	if err != nil {
		return err
	}
	return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
}

// decodeWithJSON hands the value's bytes to encoding/json.
func decodeWithJSON(d *decoder, v reflect.Value) error {
	b, err := d.rawValue()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v.Addr().Interface())
}

// missingError names the required fields an object lacked.
type missingError struct {
	path   string // where the object is, "" at the top
	fields []string
}

func (e *missingError) Error() string {
	names := e.fields
	if e.path != "" {
		names = make([]string, len(e.fields))
		for i, f := range e.fields {
			names[i] = e.path + "." + f
		}
	}
	return fmt.Sprintf("required field %v missing or empty", names)
}

// pathError is an error at a JSON path.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// inField puts err under the object member name.
func inField(err error, name string) error { return under(err, name) }

// inIndex puts err under the array index i.
func inIndex(err error, i int) error { return under(err, "["+strconv.Itoa(i)+"]") }

// under puts err one step (a member name, or "[i]") further from the top.
func under(err error, step string) error {
	join := func(p string) string {
		switch {
		case p == "":
			return step
		case p[0] == '[':
			return step + p
		}
		return step + "." + p
	}
	var m *missingError
	var p *pathError
	switch {
	case errors.As(err, &m):
		m.path = join(m.path)
		return m
	case errors.As(err, &p):
		p.path = join(p.path)
		return p
	}
	return &pathError{path: step, err: err}
}

// decoder reads JSON from data, starting at pos.
type decoder struct {
	data    []byte
	pos     int
	depth   int    // objects being read into types
	scratch []byte // unescaped strings
}

// maxDepth bounds how deep a skipped value may nest.
const maxDepth = 1000

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// next consumes and returns the next byte, or 0 at the end.
func (d *decoder) next() byte {
	c := d.peek()
	if c != 0 {
		d.pos++
	}
	return c
}

func (d *decoder) expect(c byte) error {
	d.skipSpace()
	if d.peek() != c {
		return d.syntaxError("expected " + strconv.QuoteRune(rune(c)))
	}
	d.pos++
	return nil
}

// literal consumes lit if it comes next, after white space.
func (d *decoder) literal(lit string) bool {
	d.skipSpace()
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// null consumes a null if it comes next.
func (d *decoder) null() bool { return d.literal("null") }

// isNull reports whether a null comes next, without consuming it.
func (d *decoder) isNull() bool {
	return len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null"
}

func (d *decoder) syntaxError(msg string) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", d.pos, msg)
}

func (d *decoder) typeError(want string) error {
	return fmt.Errorf("expected %s at byte %d", want, d.pos)
}

// readKey reads an object member's name; the bytes are valid until the next
// read.
func (d *decoder) readKey() ([]byte, error) {
	d.skipSpace()
	if d.peek() != '"' {
		return nil, d.syntaxError("expected a member name")
	}
	return d.readStringBytes()
}

// readString reads a JSON string.
func (d *decoder) readString() (string, error) {
	b, err := d.readStringBytes()
	return string(b), err
}

// rawValue skips the next value, checking its syntax, and returns its bytes
// (a slice of data).
func (d *decoder) rawValue() ([]byte, error) {
	d.skipSpace()
	start := d.pos
	if err := d.skipValue(0); err != nil {
		return nil, err
	}
	return d.data[start:d.pos], nil
}

// readStringBytes reads a JSON string, the next byte being its quote, and
// returns its unescaped bytes: a slice of data when it has no escape, else
// of scratch, valid until the next read. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func (d *decoder) readStringBytes() ([]byte, error) {
	d.skipSpace()
	if d.peek() != '"' {
		return nil, d.typeError("a string")
	}
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if plainByte[c] {
			continue
		}
		switch {
		case c == '"':
			d.pos = i + 1
			b := d.data[start:i]
			if !ascii && !utf8.Valid(b) {
				b = replaceInvalid(nil, b)
			}
			return b, nil
		case c == '\\':
			return d.readEscaped(start)
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxError("control character in a string")
		case c >= 0x80:
			ascii = false
		}
	}
	d.pos = len(d.data)
	return nil, d.syntaxError("unterminated string")
}

// plainByte marks the bytes readStringBytes passes over without a second
// look, most of any answer: 0x20 to 0x7f (ASCII from the space up, DEL
// included, which JSON allows in a string) but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// readEscaped reads a string with escapes, from start (after the quote).
func (d *decoder) readEscaped(start int) ([]byte, error) {
	out := d.scratch[:0]
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if !utf8.Valid(out) {
				out = replaceInvalid(nil, out)
			}
			d.scratch = out
			return out, nil
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxError("control character in a string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		switch e := d.data[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := d.hex4(i + 2)
			if n < 0 {
				d.pos = i
				return nil, d.syntaxError("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, n2 := d.hex4(i + 4)
				if n2 >= 0 && d.data[i+2] == '\\' && d.data[i+3] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			d.pos = i
			return nil, d.syntaxError("invalid escape")
		}
		i += 2
	}
	d.pos = len(d.data)
	return nil, d.syntaxError("unterminated string")
}

// replaceInvalid appends b to dst with each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as encoding/json does.
func replaceInvalid(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// hex4 reads four hex digits at i; n is -1 when they are not there.
func (d *decoder) hex4(i int) (r rune, n int) {
	if i+4 > len(d.data) {
		return 0, -1
	}
	for _, c := range d.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, -1
		}
	}
	return r, 4
}

// readNumber reads a JSON number literal, checking its grammar.
func (d *decoder) readNumber() ([]byte, error) {
	d.skipSpace()
	start, i := d.pos, d.pos
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case digits() == 0:
		return nil, d.typeError("a number")
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return nil, d.syntaxError("a fraction without digits")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, d.syntaxError("an exponent without digits")
		}
	}
	d.pos = i
	return d.data[start:i], nil
}

// skipValue skips one JSON value, checking its syntax.
func (d *decoder) skipValue(depth int) error {
	if depth > maxDepth {
		return d.syntaxError("nested too deep")
	}
	d.skipSpace()
	switch c := d.peek(); {
	case c == '"':
		_, err := d.readStringBytes()
		return err
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		d.pos++
		d.skipSpace()
		if d.peek() == closer {
			d.pos++
			return nil
		}
		for {
			if c == '{' {
				if _, err := d.readKey(); err != nil {
					return err
				}
				if err := d.expect(':'); err != nil {
					return err
				}
			}
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			switch d.next() {
			case ',':
				continue
			case closer:
				return nil
			}
			return d.syntaxError("expected , or " + string(closer))
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.readNumber()
		return err
	case d.literal("true"), d.literal("false"), d.literal("null"):
		return nil
	}
	return d.syntaxError("expected a value")
}
