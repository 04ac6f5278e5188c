package busifavortest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Marshal encodes v as WeChat Pay writes its answers: as encoding/json
// would, except that every time.Time, however deep, is written by
// FormatTime (yyyy-MM-DDTHH:mm:ss.sss+08:00) and a zero one is left out.
// Every answer of the fake goes through it, so no Go time shape
// (2026-11-30T11:03:44.401612114Z) reaches a client; cmd/busifavor prints
// --json with it too.
func Marshal(v any) ([]byte, error) { return json.Marshal(wire(reflect.ValueOf(v))) }

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

// wire is v with its times formatted, ready for json.Marshal: structs
// become objects in field order, following the json tags.
func wire(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch {
	case t == timeType:
		if tm := v.Interface().(time.Time); !tm.IsZero() {
			return FormatTime(tm)
		}
		return nil
	case t.Implements(marshalerType):
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return wire(v.Elem())
	case reflect.Struct:
		var o object
		o.add(v, map[string]bool{})
		return o
	case reflect.Slice:
		if v.IsNil() || t.Elem().Kind() == reflect.Uint8 {
			return v.Interface()
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = wire(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() || t.Key().Kind() != reflect.String {
			return v.Interface()
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = wire(it.Value())
		}
		return out
	}
	return v.Interface()
}

// object is a JSON object whose members keep their order.
type object []member

type member struct {
	name  string
	value any
}

// add appends v's fields as encoding/json names them: tags, omitempty,
// omitzero, "-", and the fields of embedded structs promoted unless an
// outer field has the name. taken holds the names already given.
func (o *object) add(v reflect.Value, taken map[string]bool) {
	t := v.Type()
	type field struct {
		name  string
		value reflect.Value
		embed bool
	}
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct && fv.Type() != timeType {
				fields = append(fields, field{value: fv, embed: true})
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if omitted(fv, opts) {
			taken[name] = true // an omitted field still hides an embedded one
			continue
		}
		fields = append(fields, field{name: name, value: fv})
	}
	inner := map[string]bool{}
	for k := range taken {
		inner[k] = true
	}
	for _, f := range fields {
		if !f.embed {
			inner[f.name] = true
		}
	}
	for _, f := range fields {
		switch {
		case f.embed:
			o.add(f.value, inner)
		case !taken[f.name]:
			if w := wire(f.value); w != nil || !isTimeLike(f.value) {
				*o = append(*o, member{f.name, w})
			}
			taken[f.name] = true
		}
	}
}

// isTimeLike reports whether v holds a time.Time (or a pointer to one),
// which is left out when zero.
func isTimeLike(v reflect.Value) bool {
	t := v.Type()
	return t == timeType || t.Kind() == reflect.Pointer && t.Elem() == timeType
}

// omitted applies the omitempty and omitzero options.
func omitted(v reflect.Value, opts string) bool {
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "omitzero":
			if z, ok := v.Interface().(interface{ IsZero() bool }); ok && v.Kind() != reflect.Pointer {
				if z.IsZero() {
					return true
				}
			} else if v.IsZero() {
				return true
			}
		case "omitempty":
			switch v.Kind() {
			case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
				if v.Len() == 0 {
					return true
				}
			case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
				reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
				if v.IsZero() {
					return true
				}
			}
		}
	}
	return false
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.name)
		val, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
