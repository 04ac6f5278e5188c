package busifavor

import (
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
// item ("" when it cannot), so that a page repeating items of the one before
// is noticed.
//
// It stops after the last item the page's total_count promises, at an error
// (yielded with a zero T), when the caller stops ranging, and with ErrPaging
// when the pages do not add up: an empty page before total_count is reached,
// a page holding nothing new (WeChat Pay ignored the offset), a short page
// in the middle of a list paged by page number (the items between would be
// skipped), or more pages than total_count and the page size allow. A
// hostile or broken server therefore cannot make it loop: every page must
// bring a new item, and the pages are bounded by what the server itself
// claims.
func walkPages[T any](start int64, byPage bool, key func(T) string, get func(offset int64) (listPage[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(format string, args ...any) {
			yield(zero, fmt.Errorf("%w: "+format, append([]any{ErrPaging}, args...)...))
		}
		offset := start
		firstIndex := int64(-1) // index of the walk's first item
		var prev map[string]bool
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
			seen := make(map[string]bool, n)
			fresh := 0
			for _, it := range p.items {
				if k := key(it); k != "" {
					if prev[k] {
						continue // yielded from the page before; the list shifted
					}
					seen[k] = true
				}
				fresh++
				if !yield(it, nil) {
					return
				}
			}
			if fresh == 0 {
				fail("the page at offset %d repeats the page before it: WeChat Pay did not move on", offset)
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
			prev = seen
			if byPage {
				offset++
			} else {
				offset = end
			}
		}
	}
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
