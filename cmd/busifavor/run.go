package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// Exit statuses.
const (
	exitOK    = 0
	exitAPI   = 1 // the API or the network failed
	exitUsage = 2 // bad flags or a request that breaks a rule; nothing was sent
)

const usage = `usage:
  busifavor set --notify-url URL [--mchid ID] [--json] [credentials]
  busifavor get [--mchid ID] [--json] [credentials]
  busifavor listen [--addr ADDR] [credentials]   (prints each verified event as a JSON line)

credentials (flag, or environment variable):
  --merchant-id       WECHATPAY_MCHID             merchant id that signs requests
  --cert-serial       WECHATPAY_CERT_SERIAL       merchant API certificate serial
  --private-key-file  WECHATPAY_PRIVATE_KEY_FILE  merchant API private key (PEM)
 and either WeChat Pay public-key mode:
  --public-key-id     WECHATPAY_PUBLIC_KEY_ID     PUB_KEY_ID_…
  --public-key-file   WECHATPAY_PUBLIC_KEY_FILE   WeChat Pay public key (PEM)
 or platform-certificate mode:
  --apiv3-key-file    WECHATPAY_APIV3_KEY         APIv3 key (the flag names a file,
                                                  so the key stays out of ps;
                                                  listen needs it in both modes)
With no credentials set, or with --sandbox, the command runs against an
in-process fake WeChat Pay (busifavortest).
`

// run is the whole command, callable in-process from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, args := args[0], args[1:]
	if cmd != "set" && cmd != "get" && cmd != "listen" {
		fmt.Fprintf(stderr, "busifavor: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("busifavor "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var (
		creds     credentials
		sandbox   = fs.Bool("sandbox", false, "run against an in-process fake WeChat Pay")
		asJSON    = fs.Bool("json", false, "print the response as JSON")
		mchid     = fs.String("mchid", "", "merchant whose notify URL to set or read (default: the caller)")
		notifyURL = fs.String("notify-url", "", "the https URL that receives coupon events (set)")
		baseURL   = fs.String("base-url", "", "API base URL (default https://api.mch.weixin.qq.com)")
		timeout   = fs.Duration("timeout", 30*time.Second, "give up after this long (set, get)")
		addr      = fs.String("addr", "127.0.0.1:8080", "address to receive events on (listen)")
	)
	creds.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "busifavor %s: unexpected argument %q\n%s", cmd, fs.Arg(0), usage)
		return exitUsage
	}
	creds.fromEnv(getenv)

	var env *environment
	var err error
	if *sandbox || creds.empty() {
		if !*sandbox {
			fmt.Fprintln(stderr, "busifavor: no WECHATPAY_* credentials set: using the in-process sandbox (busifavortest), nothing leaves this machine")
		}
		env, err = newSandbox(*baseURL)
	} else {
		env, err = creds.environment(ctx, *baseURL)
	}
	if err != nil {
		fmt.Fprintf(stderr, "busifavor: %v\n", err)
		return exitUsage
	}
	defer env.close()

	if cmd == "listen" {
		return listen(ctx, env, *addr, stdout, stderr)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if cmd == "set" {
		resp, err := env.client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{Mchid: *mchid, NotifyURL: *notifyURL})
		if err != nil {
			return report(stderr, err)
		}
		return print(stdout, *asJSON, resp, resp.NotifyURL, resp.Mchid, resp.UpdateTime, resp.RequestID)
	}
	resp, err := env.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{Mchid: *mchid})
	if err != nil {
		return report(stderr, err)
	}
	return print(stdout, *asJSON, resp, resp.NotifyURL, resp.Mchid, time.Time{}, resp.RequestID)
}

// print writes a response for people or, with asJSON, as JSON.
func print(w io.Writer, asJSON bool, v any, notifyURL, mchid string, updated time.Time, requestID string) int {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return exitOK
	}
	fmt.Fprintf(w, "notify URL:  %s\n", notifyURL)
	fmt.Fprintf(w, "mchid:       %s\n", mchid)
	if !updated.IsZero() {
		fmt.Fprintf(w, "updated:     %s\n", updated.Local().Format("2006-01-02 15:04:05 MST"))
	}
	fmt.Fprintf(w, "request id:  %s\n", requestID)
	return exitOK
}

// report explains a failed call and picks the exit status.
func report(w io.Writer, err error) int {
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintln(w, "busifavor: invalid request, nothing was sent:")
		for _, f := range ve.Fields {
			fmt.Fprintf(w, "  --%s: %s\n", strings.ReplaceAll(f.Field, "_", "-"), f.Reason)
		}
		return exitUsage
	}
	fmt.Fprintf(w, "busifavor: %v\n", strings.TrimPrefix(err.Error(), "busifavor: "))
	var apiErr *busifavor.APIError
	if errors.As(err, &apiErr) {
		if s := apiErr.Solution(); s != "" {
			fmt.Fprintf(w, "  解决方案: %s\n", s)
		}
		if apiErr.RequestID != "" {
			fmt.Fprintf(w, "  request id: %s\n", apiErr.RequestID)
		}
	}
	return exitAPI
}
