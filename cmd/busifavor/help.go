package main

import (
	"fmt"
	"slices"
	"strings"
)

const intro = `busifavor runs WeChat Pay merchant coupons (商家券) from a shell: the notify URL
and its events, stocks and their codes, users' coupons, subsidies, the
front-end send channels and images.

usage: busifavor COMMAND [ARGUMENT] [flags]
`

const outro = `
  busifavor GROUP             a group's commands with their flags (%s)
  busifavor COMMAND --help    a command's flags and an example that runs in the sandbox

Try it now: with nothing configured every command runs against the sandbox,
an in-process fake WeChat Pay (busifavortest) holding a demo stock
(1200000001), its codes, a user's coupons and a subsidy payment, e.g.
  busifavor stock get 1200000001
It runs with no WECHATPAY_* variable set at all (and no credential flag), or
with --sandbox. Any WECHATPAY_* variable, even an empty or misspelt one,
means WeChat Pay was meant: what is missing is exit status 2, each missing or
inconsistent setting named, before anything is sent.

Credentials and target come from flags or the environment; each command
reads only what it uses (busifavor check shows what it finds):
  WECHATPAY_MCHID             --merchant-id       the merchant that signs requests (商户号)
  WECHATPAY_CERT_SERIAL       --cert-serial       its API certificate's serial (API证书序列号)
  WECHATPAY_PRIVATE_KEY_FILE  --private-key-file  its API private key (apiclient_key.pem)
 answers and events are verified in one of two modes, chosen explicitly:
  WECHATPAY_PUBLIC_KEY_ID     --public-key-id     WeChat Pay public key id (微信支付公钥ID, PUB_KEY_ID_…)
  WECHATPAY_PUBLIC_KEY_FILE   --public-key-file   WeChat Pay public key (pub_key.pem)
 or
  WECHATPAY_PLATFORM_CERTIFICATES=1  --platform-certificates
                                                  download WeChat Pay's platform certificates
                                                  (平台证书; needs the three above and the APIv3 key)
  WECHATPAY_APIV3_KEY         --apiv3-key-file    APIv3 key (APIv3密钥, 32 bytes): decrypts events and,
                                                  in platform-certificate mode, the certificates
  WECHATPAY_APIV2_KEY         --apiv2-key-file    APIv2 key (API密钥, 32 bytes): signs coupon link's
                                                  parameters for the front-end channels
  WECHATPAY_BASE_URL          --base-url          send requests to this URL instead of
                                                  https://api.mch.weixin.qq.com (a proxy, a test server)
The key flags name files, so that keys stay out of ps. Calls to the API need
the first three and a mode; listen needs a mode and the APIv3 key (in
public-key mode nothing else); event send at most your APIv3 key; coupon
link the merchant id and the APIv2 key.

Exit status: 0 success, 1 API or network error, 2 usage, credential or
validation error (nothing was sent).
`

// usage is busifavor --help, made from the command table.
func usage() string {
	var b strings.Builder
	b.WriteString(intro)
	for _, g := range groups() {
		fmt.Fprintf(&b, "\n%s:\n", g)
		for i := range commands {
			if c := &commands[i]; c.group == g {
				b.WriteString(listLine(strings.TrimSpace(c.name+" "+c.arg), c.summary))
			}
		}
	}
	fmt.Fprintf(&b, outro, strings.Join(groupNames(), ", "))
	return b.String()
}

// shortUsage is what a command line that names no command gets: how to
// call busifavor and the words a command starts with.
func shortUsage() string {
	return fmt.Sprintf("usage: busifavor COMMAND [ARGUMENT] [flags]\ncommands: %s\nbusifavor --help lists them with what they do; busifavor COMMAND --help shows one.\n",
		strings.Join(topWords(), ", "))
}

// groups are the headings of busifavor --help: groupOrder's, then any
// other a command brings, in table order.
func groups() []string {
	gs := slices.Clone(groupOrder)
	for i := range commands {
		if !slices.Contains(gs, commands[i].group) {
			gs = append(gs, commands[i].group)
		}
	}
	return gs
}

// groupNames are the first words of two-word commands (stock, codes, …).
func groupNames() []string {
	var names []string
	for i := range commands {
		if g := groupOf(&commands[i]); g != "" && !slices.Contains(names, g) {
			names = append(names, g)
		}
	}
	return names
}
