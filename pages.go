package busifavor

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"iter"
	"math"
)

// listPage is what walkPages needs of one page of a list.
type listPage[T any] struct {
	items []T
	// total is the page's total_count: every item of the list. The list
	// types refuse an answer without it (ErrMalformedResponse), so a walk
	// never guesses where a list ends.
	total int64
	// limit is the page size WeChat Pay says it used.
	limit int64
}

// walkPages is the one iterator behind AllCouponCodes and AllUserCoupons. It
// asks get for page after page from offset start, where an offset counts
// items (ListCouponCodes' 分页起始位置) or, when byPage is set, pages
// (ListUserCoupons' 分页页码), and yields each item once. key identifies an
// item; an item it gives "" for (an answer that left the identifying field
// out) is identified by its JSON encoding instead, so every item has a key.
// The keys of every item yielded are remembered for the whole walk, so that
// a page repeating items of any page before (a list that shifted, an
// unstable order, pages A, B, A, B…) yields none of them again; they are
// bounded by the walk's own limit below, one key per item yielded.
//
// It stops after the last item the page's total_count promises, at an error
// (yielded with a zero T), when the caller stops ranging, and with ErrPaging
// when the pages do not add up: an empty page before total_count is reached,
// a page holding nothing new (WeChat Pay ignored the offset, or sent a page
// it had sent before), a short page in the middle of a list paged by page
// number (the items between would be skipped), or more pages than
// total_count and the page size allow. A hostile or broken server therefore
// cannot make it loop: every page must bring an item not yielded before,
// and the pages are bounded by what the server itself claims.
func walkPages[T any](start int64, byPage bool, key func(T) string, get func(offset int64) (listPage[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(format string, args ...any) {
			yield(zero, fmt.Errorf("%w: "+format, append([]any{ErrPaging}, args...)...))
		}
		offset := start
		firstIndex := int64(-1)          // index of the walk's first item
		yielded := make(map[string]bool) // the key of every item yielded
		for pages := int64(1); ; pages++ {
			p, err := get(offset)
			if err != nil {
				yield(zero, err)
				return
			}
			n := int64(len(p.items))
			if p.total < 0 || p.limit < 0 {
				fail("the page at offset %d says total_count %d and limit %d", offset, p.total, p.limit)
				return
			}
			size := max(p.limit, n)
			first := offset // index of the page's first item
			if byPage {
				first = satMul(offset, size)
			}
			if firstIndex < 0 {
				firstIndex = first
			}
			if n == 0 {
				if first < p.total {
					fail("the page at offset %d is empty, but total_count says %d items", offset, p.total)
				}
				return
			}
			fresh := 0
			for _, it := range p.items {
				k := key(it)
				if k == "" {
					k = contentKey(it)
				}
				if yielded[k] {
					continue // yielded from a page before: the list shifted, or the page repeats
				}
				yielded[k] = true
				fresh++
				if !yield(it, nil) {
					return
				}
			}
			if fresh == 0 {
				fail("the page at offset %d brings no item the pages before did not: WeChat Pay did not move on", offset)
				return
			}
			end := satAdd(first, n)
			switch {
			case end >= p.total:
				return
			case byPage && n < size:
				fail("page %d holds %d items of %d, but total_count %d says more follow: the items between would be skipped", offset, n, size, p.total)
				return
			case pages >= pagesAllowed(p.total-firstIndex, size):
				fail("a page %d would be beyond the %d pages that total_count %d at %d a page allows", pages+1, pagesAllowed(p.total-firstIndex, size), p.total, size)
				return
			}
			if byPage {
				offset++
			} else {
				offset = end
			}
		}
	}
}

// contentKey identifies an item whose key field the answer left out by a
// digest of its JSON encoding: items alike in every field are one item.
// "\x00" cannot begin a key field's value (ids and codes are printable), so
// a digest never equals a field's key.
func contentKey(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", v) // not reached: listed types marshal
	}
	sum := sha256.Sum256(b)
	return "\x00" + string(sum[:])
}

// pagesAllowed is how many pages items items fill at size a page (⌈items /
// size⌉, with size > 0), plus one for a list that shifted while it was
// read; 1 when items <= 0.
func pagesAllowed(items, size int64) int64 {
	if items <= 0 {
		return 1
	}
	return items/size + min(items%size, 1) + 1
}

// satAdd and satMul add and multiply non-negative numbers, stopping at
// math.MaxInt64 instead of overflowing.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if b != 0 && a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
