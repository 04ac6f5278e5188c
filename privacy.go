package busifavor

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
)

// Personal data and bearer codes never reach a log line, an error text or
// fmt's and slog's output. A struct field tagged log:"id" (an openid, a
// unionid) shows as MaskID shows it, one tagged log:"code" (a coupon code,
// or a list of them: bearer credentials at a till) as MaskCode does, and one
// tagged log:"omit" (a decrypted payload) not at all; nested structs,
// pointers and slices are masked too. Every type holding such a field has a
// Format and a LogValue that print it masked (masked, printMasked, logValue);
// json.Marshal is unchanged, for queues and stores that need the data.
// An APIError's detail echoes a value sent, which can be an openid or a
// code: it is masked as the answer is read (maskDetail).
//
// Three ways around the masking remain, all in the caller's hands, because
// fmt and slog offer no hook there:
//   - A struct of the caller's holding one of these types by value in an
//     unexported field (struct{ c busifavor.CouponSend }) prints it raw
//     with fmt (%v, %+v, %#v) and so with slog's text handler: fmt reads an
//     unexported field by reflection and cannot call its Format. Hold a
//     pointer (printed as an address), export the field, or log the value
//     itself.
//   - slog's JSON handler marshals a container of these types (a slice, a
//     map, a struct of the caller's) with json.Marshal, which keeps
//     everything: log the values themselves.
//   - fmt's %p on a value (a bad verb for a struct, which go vet reports)
//     prints the fields plainly.

// MaskID masks a personal identifier (openid, unionid) for logs: the first
// three and last two characters stay, to tell users apart, and the rest becomes
// "***". Identifiers under 8 characters become "***" whole; "" stays "".
func MaskID(id string) string {
	r := []rune(id)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 8:
		return "***"
	}
	return string(r[:3]) + "***" + string(r[len(r)-2:])
}

// MaskCode masks a coupon code for logs and error texts: a code is a bearer
// credential at a till. A quarter of its characters stay, at most six,
// split between its start and end, so that a log line can be matched to a
// code one holds while the code cannot be read back; codes under 8
// characters become "***" whole, "" stays "", and a value already masked
// (holding "***", which no code can) is returned as it is.
func MaskCode(code string) string {
	r := []rune(code)
	switch {
	case len(r) == 0 || strings.Contains(code, "***"):
		return code
	case len(r) < 8:
		return "***"
	}
	keep := min(len(r)/4, 6)
	front := keep / 2
	return string(r[:front]) + "***" + string(r[len(r)-(keep-front):])
}

// logValue is the slog value of a value already masked for logs (see the
// Format methods): a group of its exported, non-zero fields, each named as
// in JSON (or by its Go name where JSON leaves it out). Nested values are
// logged through their own LogValue, or as they are; the masked copy holds
// them masked.
func logValue(masked any) slog.Value {
	v := reflect.ValueOf(masked)
	t := v.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || v.Field(i).IsZero() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			attrs = append(attrs, logValue(v.Field(i).Interface()).Group()...) // embedded: its fields are r's
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		attrs = append(attrs, slog.Any(name, v.Field(i).Interface()))
	}
	return slog.GroupValue(attrs...)
}

// masked returns a copy of v, deep where it holds tagged fields, with every
// field tagged log:"id", log:"code" or log:"omit" masked.
func masked[T any](v T) T {
	maskValue(reflect.ValueOf(&v).Elem())
	return v
}

// maskValue masks the tagged fields in v, which is settable, replacing each
// pointer and slice on the way with a masked copy so that the original is
// untouched.
func maskValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			switch f := v.Field(i); t.Field(i).Tag.Get("log") {
			case "id":
				maskStrings(f, MaskID)
			case "code":
				maskStrings(f, MaskCode)
			case "omit":
				f.SetZero()
			default:
				maskValue(f)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() && v.Elem().Kind() == reflect.Struct {
			cp := reflect.New(v.Type().Elem())
			cp.Elem().Set(v.Elem())
			maskValue(cp.Elem())
			v.Set(cp)
		}
	case reflect.Slice:
		if k := v.Type().Elem().Kind(); !v.IsNil() && (k == reflect.Struct || k == reflect.Pointer) {
			cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(cp, v)
			for i := range cp.Len() {
				maskValue(cp.Index(i))
			}
			v.Set(cp)
		}
	}
}

// maskStrings applies m to a string field, or to each string of a slice.
func maskStrings(f reflect.Value, m func(string) string) {
	switch f.Kind() {
	case reflect.String:
		f.SetString(m(f.String()))
	case reflect.Slice:
		if f.IsNil() {
			return
		}
		cp := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
		for i := range f.Len() {
			cp.Index(i).SetString(m(f.Index(i).String()))
		}
		f.Set(cp)
	}
}

// printMasked prints v, a masked copy of a struct, as fmt prints a struct
// with verb ({a b}, {A:a B:b}, pkg.T{A:a, B:b}), each exported field through
// fmt with the same verb, so that nested types mask themselves. Printing the
// fields one by one keeps the methods of v's own type, and those of any
// embedded type, from running again.
func printMasked(f fmt.State, verb rune, v any) {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	sharp, plus := verb == 'v' && f.Flag('#'), verb == 'v' && f.Flag('+')
	format := fmt.FormatString(f, verb)
	if sharp {
		_, _ = io.WriteString(f, t.String())
	}
	_, _ = io.WriteString(f, "{")
	sep := ""
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			continue
		}
		_, _ = io.WriteString(f, sep)
		if sep = " "; sharp {
			sep = ", "
		}
		if sharp || plus {
			_, _ = io.WriteString(f, t.Field(i).Name+":")
		}
		fmt.Fprintf(f, format, rv.Field(i).Interface())
	}
	_, _ = io.WriteString(f, "}")
}
