package busifavor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/busifavor-go/busifavor"
)

// couponUser is what the till's code needs of the client: the one method it
// calls. *busifavor.Client satisfies it, and so does a fake.
type couponUser interface {
	UseCoupon(ctx context.Context, req busifavor.UseCouponRequest) (*busifavor.UseCouponResponse, error)
}

// redeem is the till's code under test.
func redeem(ctx context.Context, c couponUser, code string) string {
	_, err := c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: code, StockID: "9856000000000001", AppID: "wx1234567890123456",
		UseTime: time.Date(2024, 5, 20, 13, 29, 35, 0, time.FixedZone("CST", 8*3600)), UseRequestNo: "till-1-0001"})
	switch {
	case err == nil:
		return "redeemed"
	case errors.Is(err, busifavor.ErrCouponUsed):
		return "already used"
	case errors.Is(err, busifavor.ErrCouponNotUsable):
		return "not usable now"
	default:
		return "try again later"
	}
}

// fakeCoupons stands in for *busifavor.Client in the till's tests.
type fakeCoupons struct{ err error }

func (f fakeCoupons) UseCoupon(context.Context, busifavor.UseCouponRequest) (*busifavor.UseCouponResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &busifavor.UseCouponResponse{}, nil
}

// Test code that uses the client through an interface of your own, with
// only the methods it calls, and a fake that returns the errors WeChat Pay
// would: an *APIError built with the fields the client sets (StatusCode,
// Code, Operation) matches the sentinels as the client's own does. The
// package exports no Client interface: every new endpoint would break the
// fakes written against it.
func Example_consumerInterface() {
	var _ couponUser = (*busifavor.Client)(nil) // the real client fits

	ctx := context.Background()
	fmt.Println(redeem(ctx, fakeCoupons{}, "C1"))
	used := &busifavor.APIError{StatusCode: 400, Code: busifavor.ErrorCodeResourceAlreadyExists, Operation: "UseCoupon"}
	fmt.Println(redeem(ctx, fakeCoupons{err: used}, "C1"))
	expired := &busifavor.APIError{StatusCode: 403, Code: busifavor.ErrorCodeRuleLimit, Operation: "UseCoupon"}
	fmt.Println(redeem(ctx, fakeCoupons{err: expired}, "C1"))
	fmt.Println(redeem(ctx, fakeCoupons{err: &busifavor.APIError{StatusCode: 500, Code: busifavor.ErrorCodeSystemError, Operation: "UseCoupon"}}, "C1"))
	// Output:
	// redeemed
	// already used
	// not usable now
	// try again later
}
