package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/busifavor-go/busifavor"
)

// verbose is the Observer of --verbose: one line on stderr per attempt and,
// for listen, per notification. It prints what busifavor gives an observer
// (path templates, never the path sent; event ids, never their content), so
// it shows no openid and no coupon code.
type verbose struct {
	mu sync.Mutex
	w  io.Writer
}

func (v *verbose) printf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, format, args...)
}

func (v *verbose) StartCall(ctx context.Context, _ busifavor.Call) context.Context { return ctx }
func (v *verbose) EndCall(context.Context, busifavor.CallResult)                   {}
func (v *verbose) StartEvent(ctx context.Context) context.Context                  { return ctx }
func (v *verbose) EndStoreCall(context.Context, busifavor.StoreCall)               {}

// EndAttempt prints, for example,
//
//	busifavor: GetUserCoupon attempt 2 (after server_error, failed over): GET /v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid} → 404 RESOURCE_NOT_EXISTS, request id 08…, 3.1ms
func (v *verbose) EndAttempt(_ context.Context, a busifavor.Attempt) {
	why := ""
	if a.Retry != "" {
		why = " (after " + string(a.Retry)
		if a.FailedOver {
			why += ", failed over"
		}
		why += ")"
	}
	var what []string
	switch {
	case a.StatusCode != 0:
		what = append(what, fmt.Sprint(a.StatusCode))
		if a.ErrorCode != "" {
			what[0] += " " + string(a.ErrorCode)
		}
	case a.Err != nil:
		what = append(what, "no answer")
	}
	if a.RequestID != "" {
		what = append(what, "request id "+a.RequestID)
	}
	what = append(what, a.Duration.Round(10*time.Microsecond).String())
	v.printf("busifavor: %s attempt %d%s: %s %s (%s) → %s\n", a.Operation, a.Number, why, a.Method, a.Path, a.Host, strings.Join(what, ", "))
}

// EndEvent prints, for example,
//
//	busifavor: event 5f3c… COUPON.SEND: handled, 204, 2.1ms
func (v *verbose) EndEvent(_ context.Context, r busifavor.EventResult) {
	outcome := string(r.Outcome)
	if r.Reason != "" {
		outcome += " (" + string(r.Reason) + ")"
	}
	id := ""
	if r.EventID != "" {
		id = " " + r.EventID + " " + string(r.EventType)
	}
	v.printf("busifavor: event%s: %s, %d, %s\n", id, outcome, r.StatusCode, r.Duration.Round(10*time.Microsecond))
}
