package busifavor

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestHasSpaceOrControlMatchesTheRuneCheck holds hasSpaceOrControl's ASCII
// fast path to the rune-by-rune check it stands for: every byte alone, at
// the start, middle and end of a value, Unicode's spaces and controls past
// ASCII, and broken UTF-8.
func TestHasSpaceOrControlMatchesTheRuneCheck(t *testing.T) {
	reference := func(s string) bool {
		return !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
	}
	var cases []string
	for b := 0; b < 256; b++ {
		c := string([]byte{byte(b)})
		cases = append(cases, c, c+"abc", "abc"+c+"def", "abc"+c)
	}
	for _, r := range []rune{0x85, 0xa0, 0x9f, 0x1680, 0x2028, 0x3000, 'é', '券', 0xfeff} {
		c := string(r)
		cases = append(cases, c, "abc"+c, c+"abc", "券"+c)
	}
	cases = append(cases, "", "10000098", "https://example.com/a?b=c", "\xff\xfe", "券\xff", "ok\xc3")
	hits := 0
	for _, s := range cases {
		want := reference(s)
		if got := hasSpaceOrControl(s); got != want {
			t.Errorf("hasSpaceOrControl(%q) = %v, want %v", s, got, want)
		}
		if want {
			hits++
		}
	}
	if hits == 0 || hits == len(cases) {
		t.Fatalf("the cases do not exercise both answers (%d of %d refused)", hits, len(cases))
	}
}
