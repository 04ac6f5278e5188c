package busifavor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// couponJSON is a user coupon as WeChat Pay lists it, with every field its
// models require.
func couponJSON(code string) string {
	return `{"belong_merchant":"10000098","stock_name":"n","goods_name":"g","stock_type":"NORMAL","stock_id":"1","coupon_code":"` + code + `",` +
		`"coupon_use_rule":{"use_method":"OFF_LINE","coupon_available_time":{"available_begin_time":"2015-05-20T13:29:35+08:00","available_end_time":"2015-06-20T13:29:35+08:00"}}}`
}

// codeJSON is an uploaded code as WeChat Pay lists it.
func codeJSON(code string) string { return `{"code":"` + code + `","code_status":"AVAILABLE"}` }

// pagedList is one of the two paged lists, walked through its iterator.
type pagedList struct {
	path string
	page func(total, limit int64, items ...string) string
	walk func(c *busifavor.Client) ([]string, error)
}

var pagedLists = map[string]pagedList{
	"AllCouponCodes": {
		path: busifavortest.StocksPath + "/1/couponcodes",
		page: func(total, limit int64, items ...string) string {
			data := ""
			for i, it := range items {
				data += map[bool]string{true: ",", false: ""}[i > 0] + codeJSON(it)
			}
			return fmt.Sprintf(`{"stock_id":"1","total_count":%d,"offset":0,"limit":%d,"data":[%s]}`, total, limit, data)
		},
		walk: func(c *busifavor.Client) (got []string, err error) {
			for code, err := range c.AllCouponCodes(ctx, busifavor.ListCouponCodesRequest{StockID: "1"}) {
				if err != nil {
					return got, err
				}
				got = append(got, code.Code)
			}
			return got, nil
		},
	},
	"AllUserCoupons": {
		path: busifavortest.UsersPath + "/" + testOpenid + "/coupons",
		page: func(total, limit int64, items ...string) string {
			data := ""
			for i, it := range items {
				data += map[bool]string{true: ",", false: ""}[i > 0] + couponJSON(it)
			}
			return fmt.Sprintf(`{"total_count":%d,"offset":0,"limit":%d,"data":[%s]}`, total, limit, data)
		},
		walk: func(c *busifavor.Client) (got []string, err error) {
			for uc, err := range c.AllUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid}) {
				if err != nil {
					return got, err
				}
				got = append(got, uc.CouponCode)
			}
			return got, nil
		},
	},
}

// TestPagingEndsOnBrokenPages answers each list iterator with pages that do
// not add up: every walk ends after a page or two, yields each item once,
// and says why with a typed error.
func TestPagingEndsOnBrokenPages(t *testing.T) {
	for name, list := range pagedLists {
		tests := []struct {
			name  string
			pages []string // answered in turn; the last one again and again
			want  []string
			err   error
		}{
			{"one item, total_count 9e18", []string{list.page(9e18, 10, "A")}, []string{"A"}, busifavor.ErrPaging},
			{"offset ignored", []string{list.page(4, 2, "A", "B")}, []string{"A", "B"}, busifavor.ErrPaging},
			{"empty page before the end", []string{list.page(5, 10)}, nil, busifavor.ErrPaging},
			{"negative total_count", []string{list.page(-1, 10, "A")}, nil, busifavor.ErrPaging},
			{"no total_count", []string{`{"stock_id":"1","offset":0,"limit":10,"data":[]}`}, nil, busifavor.ErrMalformedResponse},
			{"empty list", []string{list.page(0, 10)}, nil, nil},
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
				for _, p := range tt.pages[:len(tt.pages)-1] {
					s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: p})
				}
				s.FailOn("GET", list.path, 2000, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: tt.pages[len(tt.pages)-1]})
				got, err := list.walk(c)
				assert.Equal(t, tt.want, got)
				if tt.err == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tt.err)
				}
				assert.LessOrEqual(t, len(s.Requests()), 2, "the walk ends at once")
			})
		}
	}
}

// TestPagingIsBoundedByTotalCount answers one new item a page under a page
// size of 10 and total_count 100: the walk stops with ErrPaging after the
// 11 pages that total_count and the page size allow (one of slack for a
// shifting list), not after 100.
func TestPagingIsBoundedByTotalCount(t *testing.T) {
	list := pagedLists["AllCouponCodes"]
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for i := range 100 {
		s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: list.page(100, 10, fmt.Sprint("K", i))})
	}
	got, err := list.walk(c)
	assert.ErrorIs(t, err, busifavor.ErrPaging)
	assert.Len(t, got, 11)
	assert.Len(t, s.Requests(), 11)
}

// TestPagingByPageNumberRefusesAShortPageInTheMiddle answers a page of 1
// item under a page size of 2 while total_count says 4: paging on by page
// number would skip an item, so the walk says so.
func TestPagingByPageNumberRefusesAShortPageInTheMiddle(t *testing.T) {
	list := pagedLists["AllUserCoupons"]
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: list.page(4, 2, "A")})
	got, err := list.walk(c)
	assert.ErrorIs(t, err, busifavor.ErrPaging)
	assert.Equal(t, []string{"A"}, got)
}

// TestPagingSkipsItemsAListShiftedOntoTheNextPage answers a second page
// that starts with the last item of the first (an item was inserted before
// it meanwhile): each item is yielded once and the walk goes on.
func TestPagingSkipsItemsAListShiftedOntoTheNextPage(t *testing.T) {
	for name, list := range pagedLists {
		s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
		for _, p := range []string{list.page(6, 2, "A", "B"), list.page(6, 2, "B", "C"), list.page(6, 2, "D", "E")} {
			s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: p})
		}
		got, err := list.walk(c)
		require.NoError(t, err, name)
		assert.Equal(t, []string{"A", "B", "C", "D", "E"}, got, name)
	}
}

// TestPagingRepeatingPagesYieldEachItemOnce answers pages A, B, A, B… (an
// unstable order, or a lying server) under a total_count that would allow
// fifty pages: each item is yielded once, and the third page, which brings
// nothing new, ends the walk with ErrPaging.
func TestPagingRepeatingPagesYieldEachItemOnce(t *testing.T) {
	for name, list := range pagedLists {
		s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
		for range 50 {
			for _, p := range []string{list.page(100, 2, "A", "B"), list.page(100, 2, "C", "D")} {
				s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: p})
			}
		}
		got, err := list.walk(c)
		assert.ErrorIs(t, err, busifavor.ErrPaging, name)
		assert.Equal(t, []string{"A", "B", "C", "D"}, got, name)
		assert.Equal(t, 3, len(s.Requests()), name)
	}
}

// TestPagingItemsWithoutKeyYieldOnce answers user coupons without a
// coupon_code (the field the walk keys coupons by), in pages that repeat:
// such items are told apart by their content, yielded once, and the
// repeating page ends the walk.
func TestPagingItemsWithoutKeyYieldOnce(t *testing.T) {
	list := pagedLists["AllUserCoupons"]
	noCode := func(name string) string {
		return strings.NewReplacer(`"coupon_code":"X",`, "", `"stock_name":"n"`, `"stock_name":"`+name+`"`).Replace(couponJSON("X"))
	}
	page := func(items ...string) string {
		return fmt.Sprintf(`{"total_count":100,"offset":0,"limit":2,"data":[%s]}`, strings.Join(items, ","))
	}
	s, c := newFake(t, nil, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for range 50 {
		for _, p := range []string{page(noCode("a"), noCode("b")), page(noCode("c"), noCode("d"))} {
			s.FailOn("GET", list.path, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: p})
		}
	}
	var names []string
	var err error
	for uc, e := range c.AllUserCoupons(ctx, busifavor.ListUserCouponsRequest{OpenID: testOpenid, AppID: testAppid}) {
		if err = e; e != nil {
			break
		}
		assert.Empty(t, uc.CouponCode)
		names = append(names, uc.StockName)
	}
	assert.ErrorIs(t, err, busifavor.ErrPaging)
	assert.Equal(t, []string{"a", "b", "c", "d"}, names)
	assert.Equal(t, 3, len(s.Requests()))
}
