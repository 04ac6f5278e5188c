package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/busifavor-go/busifavor"
)

// notifyCommands set and read the notify URL and receive its events.
var notifyCommands = []command{
	{
		name: "set", group: groupNotify, summary: "set the URL that receives coupon events",
		usage: "--notify-url URL [--mchid ID] [--json]",
		help: `Sets the https URL that WeChat Pay POSTs the merchant's coupon events to.
The URL is checked first (https, 10 to 256 bytes, a public host, no query);
if it breaks a rule nothing is sent and the exit status is 2.`,
		examples: []string{"set --notify-url https://shop.example.com/busifavor/notify"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			notifyURL := fs.String("notify-url", "", "the https URL that receives coupon events (required)")
			mchid, asJSON := mchidFlag(fs), callFlags(fs)
			return func(ctx context.Context, c *call) int {
				resp, err := c.env.client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{MchID: *mchid, NotifyURL: *notifyURL})
				if err != nil {
					return c.report(err)
				}
				return printCallbacks(c.stdout, *asJSON, resp, resp.NotifyURL, resp.MchID, resp.UpdateTime, resp.RequestID)
			}
		},
	},
	{
		name: "get", group: groupNotify, summary: "read the notify URL", usage: "[--mchid ID] [--json]",
		help:     `Reads the notify URL WeChat Pay has for the merchant.`,
		examples: []string{"get --json"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			mchid, asJSON := mchidFlag(fs), callFlags(fs)
			return func(ctx context.Context, c *call) int {
				resp, err := c.env.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{MchID: *mchid})
				if err != nil {
					return c.report(err)
				}
				if c.env.sandbox != nil {
					fmt.Fprintln(c.stderr, "busifavor: the sandbox starts afresh on every run, with an example URL set; what an earlier `set` stored is gone")
				}
				return printCallbacks(c.stdout, *asJSON, resp, resp.NotifyURL, resp.MchID, time.Time{}, resp.RequestID)
			}
		},
	},
	{
		name: "listen", group: groupNotify, summary: "receive events, print them as JSON lines",
		usage: "[--addr ADDR] [--show-openid] [--show-codes]",
		help: `Serves the notification handler on ADDR and prints each verified, decrypted
coupon event as one JSON line on stdout; refusals are logged on stderr.
Openid and unionid (personal data) are masked unless --show-openid is given,
the coupon code and a member card code (bearer credentials: whoever holds
one can redeem it) unless --show-codes is given.

It reads only what verifying and decrypting events need: in public-key mode
WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY_FILE and the APIv3 key
(WECHATPAY_APIV3_KEY or --apiv3-key-file), with which events are encrypted;
no signing credentials. Platform-certificate mode downloads the certificates
signed as the merchant, so it needs those too.

Test events: in the sandbox, listen sends itself a sample COUPON.SEND event
at start. Outside it only WeChat Pay can sign an event the listener
accepts, unless the listener is given a test key: busifavor event send URL
signs a sample with one and prints how to configure it (see busifavor event
send --help). In tests, drive a handler with busifavortest (see its guide).
WeChat Pay only calls https URLs: put TLS in front of ADDR.`,
		examples: []string{"listen --addr 127.0.0.1:8080"},
		needs:    needEvents,
		flags: func(fs *flag.FlagSet) action {
			addr := fs.String("addr", "127.0.0.1:8080", "host:port to receive events on")
			showOpenID := fs.Bool("show-openid", false, "print openid and unionid unmasked (personal data)")
			showCodes := fs.Bool("show-codes", false, "print coupon and member card codes unmasked (bearer credentials)")
			return func(ctx context.Context, c *call) int {
				return listen(ctx, c.env, *addr, *showOpenID, *showCodes, c.stdout, c.stderr)
			}
		},
	},
}

// mchidFlag registers set's and get's --mchid.
func mchidFlag(fs *flag.FlagSet) *string {
	return fs.String("mchid", "", "the merchant whose notify URL this is, when it is not the signing merchant\n(--merchant-id): a service provider acting for a sub-merchant (default: the signing merchant)")
}

// printCallbacks writes a notify URL answer for people or, with asJSON, as
// JSON.
func printCallbacks(w io.Writer, asJSON bool, v any, notifyURL, mchid string, updated time.Time, requestID string) int {
	if asJSON {
		return printJSON(w, v)
	}
	fmt.Fprintf(w, "notify URL:  %s\n", notifyURL)
	fmt.Fprintf(w, "mchid:       %s\n", mchid)
	if !updated.IsZero() {
		fmt.Fprintf(w, "updated:     %s\n", localTime(updated))
	}
	fmt.Fprintf(w, "request id:  %s\n", requestID)
	return exitOK
}
