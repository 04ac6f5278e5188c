package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// partnerFlags are the partner commands' flags: a partner and a stock, and
// for build and terminate the Idempotency-Key.
type partnerFlags struct {
	stockID, merchant, appid, partnerType, businessType, key string
	limit                                                    int64
}

// register adds the flags naming a partner and a stock to fs.
func (p *partnerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.stockID, "stock-id", "", "the stock (required)")
	fs.StringVar(&p.businessType, "business-type", string(busifavor.BusinessTypeBusifavorStock), "BUSIFAVOR_STOCK (商家券) or FAVOR_STOCK (代金券)")
	fs.StringVar(&p.merchant, "partner-merchant", "", "the partner merchant's id (a MERCHANT partner)")
	fs.StringVar(&p.appid, "partner-appid", "", "the partner appid (an APPID partner: its mini program)")
}

// registerWrite adds build's and terminate's flags to fs.
func (p *partnerFlags) registerWrite(fs *flag.FlagSet) *bool {
	p.register(fs)
	fs.StringVar(&p.key, "idempotency-key", "", "the Idempotency-Key (required): letters, digits and | _ * -, at most 48;\nthe same key again when retrying, a new key for a new build or terminate")
	return callFlags(fs)
}

const partnerKeyHelp = `--idempotency-key is required and nothing makes one up: choose a key for
this build or terminate (1 to 48 letters, digits and | _ * -), keep it, and
when a run fails with no answer or times out, run the same command with the
same key again; use a new key for each new build or terminate. WeChat Pay's
pages ask merchants to keep the key unique and say nothing more about a key
sent twice; the sandbox answers the same key and request with its first
answer, and refuses the same key with another request.`

// groupPartners heads the partner commands in busifavor --help.
const groupPartners = "Partnerships (委托营销)"

// partnerCommands build, terminate and list partnerships (委托营销).
var partnerCommands = []command{
	{
		name: "partner build", group: groupPartners, summary: "let a partner send a stock's coupons",
		usage: "--stock-id S (--partner-merchant M | --partner-appid A) --idempotency-key K [--business-type T] [--json]",
		help: `Authorizes a partner to send a stock's coupons (委托营销, 建立合作关系): a
merchant (--partner-merchant), which then sends them itself, by SendCoupon
or the send channels signed with its own APIv2 key; or an appid
(--partner-appid), whose mini program then offers them.

` + partnerKeyHelp,
		examples: []string{"partner build --stock-id 1200000001 --partner-appid wx4e1916a585d1f4e9 --idempotency-key build-20240001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var p partnerFlags
			asJSON := p.registerWrite(fs)
			return func(ctx context.Context, c *call) int { return buildPartnership(ctx, c, &p, *asJSON) }
		},
	},
	{
		name: "partner terminate", group: groupPartners, summary: "end a partnership",
		usage: "--stock-id S (--partner-merchant M | --partner-appid A) --idempotency-key K [--business-type T] [--json]",
		help: `Ends a partnership (终止合作关系): the partner may no longer send the stock's
coupons. The sandbox holds one to end: merchant 1900000109 for 1200000001.

` + partnerKeyHelp,
		examples: []string{"partner terminate --stock-id 1200000001 --partner-merchant 1900000109 --idempotency-key end-20240001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var p partnerFlags
			asJSON := p.registerWrite(fs)
			return func(ctx context.Context, c *call) int { return terminatePartnership(ctx, c, &p, *asJSON) }
		},
	},
	{
		name: "partner list", group: groupPartners, summary: "list a stock's partnerships",
		usage: "--stock-id S [--partner-merchant M | --partner-appid A | --partner-type T] [--business-type T] [--json]",
		help: `Lists the merchant's partnerships for a stock, every page, one line each
(one JSON object a line with --json): the partner, the stock, and when each
was built and terminated. --stock-id may be left out to list every stock of
--business-type.`,
		examples: []string{"partner list --stock-id 1200000001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var p partnerFlags
			p.register(fs)
			fs.StringVar(&p.partnerType, "partner-type", "", "list only partners of this type: APPID or MERCHANT")
			fs.Int64Var(&p.limit, "limit", 0, "the page size, at most 50 (default WeChat Pay's, 20)")
			timeoutFlag(fs, 2*time.Minute)
			asJSON := jsonFlag(fs)
			return func(ctx context.Context, c *call) int { return listPartnerships(ctx, c, &p, *asJSON) }
		},
	},
}

// partner is the partner the flags name, or a usage message.
func (p *partnerFlags) partner() (busifavor.Partner, string) {
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
func writeRequest(f *partnerFlags) (busifavor.BuildPartnershipRequest, string) {
	p, msg := f.partner()
	return busifavor.BuildPartnershipRequest{IdempotencyKey: f.key, Partner: p,
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessType(f.businessType), StockID: f.stockID}}, msg
}

// partnerName is how a partner prints: its type and id.
func partnerName(p busifavor.Partner) string {
	if p.Type == busifavor.PartnerTypeMerchant {
		return "MERCHANT " + p.MerchantID
	}
	return string(p.Type) + " " + p.AppID
}

func buildPartnership(ctx context.Context, c *call, f *partnerFlags, asJSON bool) int {
	req, msg := writeRequest(f)
	if msg != "" {
		return c.fail("%s; nothing was sent", msg)
	}
	resp, err := c.env.client.BuildPartnership(ctx, req)
	if err != nil {
		return c.report(err)
	}
	if asJSON {
		return printJSON(c.stdout, resp)
	}
	fmt.Fprintf(c.stdout, "partner:     %s\nstock:       %s %s\nstate:       %s\nbuilt:       %s\nrequest id:  %s\n",
		partnerName(resp.Partner), resp.AuthorizedData.BusinessType, resp.AuthorizedData.StockID, resp.State, localTime(resp.BuildTime), resp.RequestID)
	if resp.State != busifavor.PartnershipStateEstablished {
		fmt.Fprintf(c.stderr, "busifavor partner build: WeChat Pay answered state %s, not ESTABLISHED: the partner may not send yet\n", resp.State)
		return exitAPI
	}
	return exitOK
}

func terminatePartnership(ctx context.Context, c *call, f *partnerFlags, asJSON bool) int {
	req, msg := writeRequest(f)
	if msg != "" {
		return c.fail("%s; nothing was sent", msg)
	}
	resp, err := c.env.client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(req))
	if err != nil {
		if c.env.sandbox != nil && busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeResourceNotExists {
			fmt.Fprintln(c.stderr, "busifavor: the sandbox starts afresh on every run: partnerships built by earlier runs are gone")
		}
		return c.report(err)
	}
	if asJSON {
		return printJSON(c.stdout, resp)
	}
	fmt.Fprintf(c.stdout, "terminated:  %s\nrequest id:  %s\n", localTime(resp.TerminateTime), resp.RequestID)
	return exitOK
}

func listPartnerships(ctx context.Context, c *call, f *partnerFlags, asJSON bool) int {
	p, msg := f.partner()
	if msg != "" {
		return c.fail("%s; nothing was sent", msg)
	}
	req := busifavor.ListPartnershipsRequest{Partner: p, Limit: f.limit,
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessType(f.businessType), StockID: f.stockID}}
	if err := req.Validate(); err != nil {
		return c.report(err)
	}
	n := 0
	for pt, err := range c.env.client.AllPartnerships(ctx, req) {
		if err != nil {
			return c.report(err)
		}
		n++
		if asJSON {
			_ = printJSONLine(c.stdout, pt)
			continue
		}
		ended := ""
		if !pt.TerminateTime.IsZero() {
			ended = "  terminated " + localTime(pt.TerminateTime)
		}
		fmt.Fprintf(c.stdout, "%-28s %s %s  built %s%s\n", partnerName(pt.Partner), pt.AuthorizedData.BusinessType, pt.AuthorizedData.StockID,
			localTime(pt.BuildTime), ended)
		if len(pt.AuthorizedData.Scenarios) > 0 {
			fmt.Fprintf(c.stdout, "  scenarios: %s\n", strings.Join(pt.AuthorizedData.Scenarios, ", "))
		}
	}
	if !asJSON {
		fmt.Fprintf(c.stderr, "busifavor: %d partnerships\n", n)
	}
	return exitOK
}
