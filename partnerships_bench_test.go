package busifavor_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/busifavor-go/busifavor"
)

// The partnership calls, each beside the RSA floor (impl=rsa-floor, one
// signature and one verification): wechatpay-go has no partnership service
// to compare with, and gopay, which has, is not a dependency. The answers
// are gopay's models with every field set (partnerships_test.go); the list
// runs at 20 (WeChat Pay's default page) and 50 (the largest) items.

func BenchmarkBuildPartnership(b *testing.B) {
	benchBesideFloor(b, gopayAnswers()["BuildPartnership"], func(c *busifavor.Client) error {
		_, err := c.BuildPartnership(ctx, validBuild())
		return err
	})
}

func BenchmarkTerminatePartnership(b *testing.B) {
	benchBesideFloor(b, gopayAnswers()["TerminatePartnership"], func(c *busifavor.Client) error {
		_, err := c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
		return err
	})
}

func BenchmarkListPartnerships(b *testing.B) {
	req := busifavor.ListPartnershipsRequest{Limit: 50, AuthorizedData: validBuild().AuthorizedData}
	for _, n := range []int{20, busifavor.MaxPartnershipsPerPage} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			benchBesideFloor(b, gopayList(n), func(c *busifavor.Client) error {
				_, err := c.ListPartnerships(ctx, req)
				return err
			})
		})
	}
}

// benchBesideFloor runs ours on a canned, signed answer (benchCore) as
// impl=busifavor, and the RSA floor as impl=rsa-floor.
func benchBesideFloor(b *testing.B, answer any, ours func(*busifavor.Client) error) {
	body, err := json.Marshal(answer)
	if err != nil {
		b.Fatal(err)
	}
	cc := benchCore(b, string(body))
	b.Run("impl=busifavor", func(b *testing.B) {
		c, err := busifavor.NewClient(cc)
		if err != nil {
			b.Fatal(err)
		}
		benchLoop(b, func() error { return ours(c) })
	})
	b.Run("impl=rsa-floor", rsaFloor)
}
