package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// linkOptions are coupon link's flags.
type linkOptions struct {
	channel      string
	apiV2KeyFile string
	sendMerchant string
	couponCode   string
	apiV2Env     string // WECHATPAY_APIV2_KEY
}

// channelCommands sign the send channels' parameters and upload images.
var channelCommands = []command{
	{
		name: "coupon link", synopsis: "coupon link --stock-id S --out-request-no N --openid O [--channel h5|miniprogram|jsapi] [--coupon-code C]",
		help: `Signs a coupon for a front end with the APIv2 key (V2 rules, HMAC-SHA256) and
prints what to hand over: for h5 (the default) the URL to redirect the user
to; for miniprogram the JSON the <send-coupon> plugin binds; for jsapi the
cardList for wx.addCard. Nothing is sent to WeChat Pay.

The APIv2 key (not the APIv3 key) comes from --apiv2-key-file or
WECHATPAY_APIV2_KEY, never from a flag value; the sandbox uses its own.
--openid is the user's, for h5; the other channels know the user.

example:
  busifavor coupon link --stock-id 1200000001 --out-request-no order20240001 --openid oUpF8uMuAJO_M2pxb1Q9zNjWeS6o
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.stockID, "stock-id", "", "the stock (required)")
			fs.StringVar(&o.requestNo, "out-request-no", "", "this send's unique number (required)")
			fs.StringVar(&o.openid, "openid", "", "the user (required for h5)")
			fs.StringVar(&o.link.channel, "channel", "h5", "h5, miniprogram or jsapi")
			fs.StringVar(&o.link.couponCode, "coupon-code", "", "the code to give, for MERCHANT_API stocks")
			fs.StringVar(&o.link.sendMerchant, "send-merchant", "", "the sending merchant (default: the signing merchant)")
			fs.StringVar(&o.link.apiV2KeyFile, "apiv2-key-file", "", "a file holding the APIv2 key (or set WECHATPAY_APIV2_KEY)")
			callFlags(fs, o, 30*time.Second)
		},
		run: couponLink,
	},
	{
		name: "image upload", arg: "FILE", synopsis: "image upload FILE [--json]",
		help: `Uploads a JPG, BMP or PNG of at most 2M (图片上传(营销专用)) and prints its
media URL, for a stock's merchant_logo_url, coupon_image_url or
finder_video_cover_image_url.

example:
  busifavor image upload examples/stock/logo.png
`,
		flags: func(fs *flag.FlagSet, o *options) { callFlags(fs, o, time.Minute) },
		run:   uploadImage,
	},
}

// apiV2Key reads the APIv2 key: --apiv2-key-file, else WECHATPAY_APIV2_KEY,
// else the sandbox's.
func apiV2Key(env *environment, o *options) (string, error) {
	if f := o.link.apiV2KeyFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", readError("--apiv2-key-file", f, "the APIv2 key", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if k := o.link.apiV2Env; k != "" {
		return k, nil
	}
	if env.sandbox != nil {
		return env.sandbox.APIv2Key(), nil
	}
	return "", errors.New("no APIv2 key: set WECHATPAY_APIV2_KEY or --apiv2-key-file")
}

func couponLink(_ context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	key, err := apiV2Key(env, o)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor coupon link: %v\n", err)
		return exitUsage
	}
	merchant := o.link.sendMerchant
	if merchant == "" {
		merchant = o.creds.mchID.value
	}
	if merchant == "" && env.sandbox != nil {
		merchant = env.sandbox.MchID()
	}
	signer, err := busifavor.NewCouponSigner(merchant, key)
	if err != nil {
		// A bad merchant is named as the user gave it (--send-merchant); a
		// bad key is said without repeating it. Both may come at once.
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			var ve *busifavor.ValidationError
			if errors.As(e, &ve) {
				report(stderr, ve, o)
			} else {
				fmt.Fprintf(stderr, "busifavor coupon link: %v\n", strings.TrimPrefix(e.Error(), "busifavor: "))
			}
		}
		return exitUsage
	}
	item := busifavor.SendCouponItem{StockID: o.stockID, OutRequestNo: o.requestNo, CouponCode: o.link.couponCode}
	var out any
	switch o.link.channel {
	case "h5":
		out, err = signer.SignH5URL(o.openid, item)
	case "miniprogram":
		out, err = signer.SignMiniProgram(item)
	case "jsapi":
		out, err = signer.SignAddCardList(item)
	default:
		fmt.Fprintf(stderr, "busifavor coupon link: --channel must be h5, miniprogram or jsapi, got %q\n", o.link.channel)
		return exitUsage
	}
	if err != nil {
		return report(stderr, err, o)
	}
	if s, ok := out.(string); ok {
		fmt.Fprintln(stdout, s)
		return exitOK
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return exitOK
}

func uploadImage(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(o.arg)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor image upload: %v\n", readError("FILE", o.arg, "the image", err))
		return exitUsage
	}
	resp, err := env.client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: filepath.Base(o.arg), Data: data})
	if err != nil {
		return report(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintln(stdout, resp.MediaURL)
	return exitOK
}
