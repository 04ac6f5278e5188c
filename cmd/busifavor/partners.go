package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// partnerOptions are the partner commands' flags.
type partnerOptions struct {
	merchant, appid, partnerType, businessType, key string
	limit                                           int64
}

// partnerFlags are the flags naming a partner and a stock.
func partnerFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.stockID, "stock-id", "", "the stock (required)")
	fs.StringVar(&o.partner.businessType, "business-type", string(busifavor.BusinessTypeBusifavorStock), "BUSIFAVOR_STOCK (商家券) or FAVOR_STOCK (代金券)")
	fs.StringVar(&o.partner.merchant, "partner-merchant", "", "the partner merchant's id (a MERCHANT partner)")
	fs.StringVar(&o.partner.appid, "partner-appid", "", "the partner appid (an APPID partner: its mini program)")
}

// writeFlags are build's and terminate's flags.
func writeFlags(fs *flag.FlagSet, o *options) {
	partnerFlags(fs, o)
	fs.StringVar(&o.partner.key, "idempotency-key", "", "the Idempotency-Key (required): letters, digits and | _ * -, at most 48;\nthe same key again when retrying, a new key for a new build or terminate")
	callFlags(fs, o, 30*time.Second)
}

const partnerKeyHelp = `--idempotency-key is required and nothing makes one up: choose a key for
this build or terminate (1 to 48 letters, digits and | _ * -), keep it, and
when a run fails with no answer or times out, run the same command with the
same key again; use a new key for each new build or terminate. WeChat Pay's
pages ask merchants to keep the key unique and say nothing more about a key
sent twice; the sandbox answers the same key and request with its first
answer, and refuses the same key with another request.`

// partnerCommands build, terminate and list partnerships (委托营销).
var partnerCommands = []command{
	{
		name:     "partner build",
		synopsis: "partner build --stock-id S (--partner-merchant M | --partner-appid A) --idempotency-key K [--business-type T] [--json]",
		help: `Authorizes a partner to send a stock's coupons (委托营销, 建立合作关系): a
merchant (--partner-merchant), which then sends them itself, by SendCoupon
or the send channels signed with its own APIv2 key; or an appid
(--partner-appid), whose mini program then offers them.

` + partnerKeyHelp + `

example:
  busifavor partner build --stock-id 1200000001 --partner-appid wx4e1916a585d1f4e9 --idempotency-key build-20240001
`,
		flags: writeFlags,
		run:   buildPartnership,
	},
	{
		name:     "partner terminate",
		synopsis: "partner terminate --stock-id S (--partner-merchant M | --partner-appid A) --idempotency-key K [--business-type T] [--json]",
		help: `Ends a partnership (终止合作关系): the partner may no longer send the stock's
coupons. The sandbox holds one to end: merchant 1900000109 for 1200000001.

` + partnerKeyHelp + `

example:
  busifavor partner terminate --stock-id 1200000001 --partner-merchant 1900000109 --idempotency-key end-20240001
`,
		flags: writeFlags,
		run:   terminatePartnership,
	},
	{
		name:     "partner list",
		synopsis: "partner list --stock-id S [--partner-merchant M | --partner-appid A | --partner-type T] [--business-type T] [--json]",
		help: `Lists the merchant's partnerships for a stock, every page, one line each
(one JSON object a line with --json): the partner, the stock, and when each
was built and terminated. --stock-id may be left out to list every stock of
--business-type.

example:
  busifavor partner list --stock-id 1200000001
`,
		flags: func(fs *flag.FlagSet, o *options) {
			partnerFlags(fs, o)
			fs.StringVar(&o.partner.partnerType, "partner-type", "", "list only partners of this type: APPID or MERCHANT")
			fs.Int64Var(&o.partner.limit, "limit", 0, "the page size, at most 50 (default WeChat Pay's, 20)")
			callFlags(fs, o, 2*time.Minute)
		},
		run: listPartnerships,
	},
}

// partnerFieldFlags names the partnership request fields by their flags.
var partnerFieldFlags = map[string]string{
	"Idempotency-Key":               "--idempotency-key",
	"partner.type":                  "--partner-merchant or --partner-appid",
	"partner.appid":                 "--partner-appid",
	"partner.merchant_id":           "--partner-merchant",
	"authorized_data.business_type": "--business-type",
	"authorized_data.stock_id":      "--stock-id",
	"limit":                         "--limit",
}

// partnerReport is report with the request's fields named by their flags.
func partnerReport(w io.Writer, err error, o *options) int {
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		for i, f := range ve.Fields {
			if name, ok := partnerFieldFlags[f.Field]; ok {
				ve.Fields[i].Field = name
			}
		}
	}
	return report(w, err, o)
}

// partner is the partner the flags name, or a usage message.
func (p *partnerOptions) partner() (busifavor.Partner, string) {
	switch {
	case p.merchant != "" && p.appid != "":
		return busifavor.Partner{}, "give one of --partner-merchant and --partner-appid, not both"
	case p.merchant != "":
		return busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: p.merchant}, ""
	case p.appid != "":
		return busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: p.appid}, ""
	}
	return busifavor.Partner{Type: busifavor.PartnerType(p.partnerType)}, ""
}

// writeRequest is build's and terminate's request, or a usage message.
func writeRequest(o *options) (busifavor.BuildPartnershipRequest, string) {
	p, msg := o.partner.partner()
	return busifavor.BuildPartnershipRequest{IdempotencyKey: o.partner.key, Partner: p,
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessType(o.partner.businessType), StockID: o.stockID}}, msg
}

// partnerName is how a partner prints: its type and id.
func partnerName(p busifavor.Partner) string {
	if p.Type == busifavor.PartnerTypeMerchant {
		return "MERCHANT " + p.MerchantID
	}
	return string(p.Type) + " " + p.AppID
}

func buildPartnership(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	req, msg := writeRequest(o)
	if msg != "" {
		fmt.Fprintf(stderr, "busifavor partner build: %s; nothing was sent\n", msg)
		return exitUsage
	}
	resp, err := env.client.BuildPartnership(ctx, req)
	if err != nil {
		return partnerReport(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "partner:     %s\nstock:       %s %s\nstate:       %s\nbuilt:       %s\nrequest id:  %s\n",
		partnerName(resp.Partner), resp.AuthorizedData.BusinessType, resp.AuthorizedData.StockID, resp.State, localTime(resp.BuildTime), resp.RequestID)
	if resp.State != busifavor.PartnershipStateEstablished {
		fmt.Fprintf(stderr, "busifavor partner build: WeChat Pay answered state %s, not ESTABLISHED: the partner may not send yet\n", resp.State)
		return exitAPI
	}
	return exitOK
}

func terminatePartnership(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	req, msg := writeRequest(o)
	if msg != "" {
		fmt.Fprintf(stderr, "busifavor partner terminate: %s; nothing was sent\n", msg)
		return exitUsage
	}
	resp, err := env.client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(req))
	if err != nil {
		if env.sandbox != nil && busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeResourceNotExists {
			fmt.Fprintln(stderr, "busifavor: the sandbox starts afresh on every run: partnerships built by earlier runs are gone")
		}
		return partnerReport(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "terminated:  %s\nrequest id:  %s\n", localTime(resp.TerminateTime), resp.RequestID)
	return exitOK
}

func listPartnerships(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	p, msg := o.partner.partner()
	if msg != "" {
		fmt.Fprintf(stderr, "busifavor partner list: %s; nothing was sent\n", msg)
		return exitUsage
	}
	req := busifavor.ListPartnershipsRequest{Partner: p, Limit: o.partner.limit,
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessType(o.partner.businessType), StockID: o.stockID}}
	if err := req.Validate(); err != nil {
		return partnerReport(stderr, err, o)
	}
	n := 0
	for pt, err := range env.client.AllPartnerships(ctx, req) {
		if err != nil {
			return partnerReport(stderr, err, o)
		}
		n++
		if o.asJSON {
			_ = printJSONLine(stdout, pt)
			continue
		}
		ended := ""
		if !pt.TerminateTime.IsZero() {
			ended = "  terminated " + localTime(pt.TerminateTime)
		}
		fmt.Fprintf(stdout, "%-28s %s %s  built %s%s\n", partnerName(pt.Partner), pt.AuthorizedData.BusinessType, pt.AuthorizedData.StockID,
			localTime(pt.BuildTime), ended)
		if len(pt.AuthorizedData.Scenarios) > 0 {
			fmt.Fprintf(stdout, "  scenarios: %s\n", strings.Join(pt.AuthorizedData.Scenarios, ", "))
		}
	}
	if !o.asJSON {
		fmt.Fprintf(stderr, "busifavor: %d partnerships\n", n)
	}
	return exitOK
}
