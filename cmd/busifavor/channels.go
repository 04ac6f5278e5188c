package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// channelCommands sign the send channels' parameters and upload images.
var channelCommands = []command{
	{
		name: "coupon link", group: groupChannels, summary: "sign a coupon for a front end (APIv2 key)",
		usage: "--stock-id S --out-request-no N --openid O [--channel h5|miniprogram|jsapi] [--coupon-code C]",
		help: `Signs a coupon for a front end with the APIv2 key (V2 rules, HMAC-SHA256) and
prints what to hand over: for h5 (the default) the URL to redirect the user
to; for miniprogram the JSON the <send-coupon> plugin binds; for jsapi the
cardList JSON for wx.addCard. Nothing is sent to WeChat Pay, so there is no
--json: the two JSON channels print JSON, h5 a URL.

It reads only the APIv2 key (not the APIv3 key), from --apiv2-key-file or
WECHATPAY_APIV2_KEY, never from a flag value, and the sending merchant
(--send-merchant or WECHATPAY_MCHID); the sandbox has its own. --openid is
the user's, for h5; the other channels know the user.`,
		examples: []string{"coupon link --stock-id 1200000001 --out-request-no order20240001 --openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
		needs:    needAPIv2,
		flags: func(fs *flag.FlagSet) action {
			var item busifavor.SendCouponItem
			fs.StringVar(&item.StockID, "stock-id", "", "the stock (required)")
			fs.StringVar(&item.OutRequestNo, "out-request-no", "", "this send's unique number (required)")
			openid := fs.String("openid", "", "the user (required for h5)")
			channel := &choice{value: "h5", choices: []string{"h5", "miniprogram", "jsapi"}}
			fs.Var(channel, "channel", "the front end (`CHANNEL`): "+orList(channel.choices))
			fs.StringVar(&item.CouponCode, "coupon-code", "", "the code to give, for MERCHANT_API stocks")
			return func(_ context.Context, c *call) int { return couponLink(c, item, *openid, channel.value) }
		},
	},
	{
		name: "image upload", group: groupChannels, summary: "upload a logo or picture, print its URL", arg: "FILE",
		usage: "FILE [--json]",
		help: `Uploads a JPG, BMP or PNG of at most 2M (图片上传(营销专用)) and prints its
media URL, for a stock's merchant_logo_url, coupon_image_url or
finder_video_cover_image_url.`,
		examples: []string{"image upload examples/stock/logo.png"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			timeoutFlag(fs, time.Minute)
			asJSON := jsonFlag(fs)
			return func(ctx context.Context, c *call) int { return uploadImage(ctx, c, *asJSON) }
		},
	},
}

func couponLink(c *call, item busifavor.SendCouponItem, openid, channel string) int {
	signer, err := busifavor.NewCouponSigner(c.env.mchID, c.env.apiV2Key)
	if err != nil {
		// A bad merchant is named as the user gave it (--send-merchant); a
		// bad key is said without repeating it. Both may come at once.
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		code := exitOK
		for _, e := range errs {
			if errors.As(e, new(*busifavor.ValidationError)) {
				code = c.report(e)
			} else {
				code = c.fail("%v", strings.TrimPrefix(e.Error(), "busifavor: "))
			}
		}
		return code
	}
	var out any
	switch channel {
	case "h5":
		out, err = signer.SignH5URL(openid, item)
	case "miniprogram":
		out, err = signer.SignMiniProgram(item)
	default:
		out, err = signer.SignAddCardList(item)
	}
	if err != nil {
		return c.report(err)
	}
	if s, ok := out.(string); ok {
		fmt.Fprintln(c.stdout, s)
		return exitOK
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintln(c.stdout, string(b))
	return exitOK
}

func uploadImage(ctx context.Context, c *call, asJSON bool) int {
	data, err := os.ReadFile(c.arg)
	if err != nil {
		return c.fail("%v", readError("FILE", c.arg, "the image", err))
	}
	resp, err := c.env.client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: filepath.Base(c.arg), Data: data})
	if err != nil {
		return c.report(err)
	}
	if asJSON {
		return printJSON(c.stdout, resp)
	}
	fmt.Fprintln(c.stdout, resp.MediaURL)
	return exitOK
}
