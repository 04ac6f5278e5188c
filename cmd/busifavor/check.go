package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/busifavor-go/busifavor"
)

// setupCommands check the credentials and set the shell up.
var setupCommands = []command{
	{
		name: "check", group: groupSetup, summary: "check the credentials, then make one harmless signed call",
		usage: "[credential flags]",
		help: `Reads the credentials as every command would and prints, setting by
setting, what it found: the merchant id and certificate serial, that the
private key loads and is RSA 2048, which verification mode is in use, that
the WeChat Pay public key (or the downloaded platform certificates) loads,
that the APIv3 and APIv2 keys are 32 bytes, and where requests go. Then it
makes one harmless signed call, reading the notify URL, which shows that
WeChat Pay accepts the signature and that its answer verifies. No secret is
printed: keys are shown by size only.

Exit status 0 only when everything holds; 2 when a setting is missing or
does not hold (no call is made); 1 when the call fails. The APIv2 key is
optional: only coupon link uses it. In the sandbox it checks the sandbox's
own credentials, written to files and read back as a merchant's are;
against busifavor sandbox, source its sandbox.env first.`,
		examples: []string{"check"},
		needs:    needReport,
		flags: func(fs *flag.FlagSet) action {
			timeoutFlag(fs, 30*time.Second)
			return runCheck
		},
	},
	{
		name: "completion", group: groupSetup, summary: "print a shell completion script (bash or zsh)", arg: "SHELL",
		usage: "bash|zsh", argChoices: []string{"bash", "zsh"},
		help: `Prints a completion script for bash or zsh: commands, their flags and the
values of flags that take one of a few words. It asks busifavor itself
what completes a word, so it follows the commands of the busifavor on the
PATH. Load it in the current shell, or for every new one:
  bash:  source <(busifavor completion bash)      (or add that line to ~/.bashrc)
  zsh:   source <(busifavor completion zsh)       (or add that line to ~/.zshrc,
         after compinit)`,
		examples: []string{"completion bash", "completion zsh"},
		flags: func(fs *flag.FlagSet) action {
			return func(_ context.Context, c *call) int {
				script, ok := completionScripts[c.arg]
				if !ok {
					return c.fail("SHELL must be bash or zsh, got %q", c.arg)
				}
				fmt.Fprint(c.stdout, script)
				return exitOK
			}
		},
	},
}

// runCheck is busifavor check.
func runCheck(ctx context.Context, c *call) int {
	creds, environ, w := c.creds, c.environ, c.stdout
	sandbox, implicit := creds.sandboxMeant(environ)
	if sandbox {
		// The sandbox's own credentials, written to files and read back as
		// a merchant's are, with requests going to it.
		if creds.baseURL.value != "" {
			return c.fail("--base-url does not go with the sandbox")
		}
		env, err := newSandbox(ctx, "")
		if err != nil {
			return c.fail("%v", err)
		}
		defer env.close()
		dir, err := os.MkdirTemp("", "busifavor-check-")
		if err != nil {
			return c.fail("%v", err)
		}
		defer os.RemoveAll(dir)
		if environ, err = env.sandbox.WriteCredentials(dir); err != nil {
			return c.fail("%v", err)
		}
		environ["WECHATPAY_APIV2_KEY"] = env.sandbox.APIv2Key()
		environ["WECHATPAY_BASE_URL"] = env.sandbox.URL
		if implicit {
			fmt.Fprintln(c.stderr, "busifavor: no WECHATPAY_* variable is set: checking the in-process sandbox (busifavortest), nothing leaves this machine")
		}
		fmt.Fprintln(w, "checking the in-process sandbox's own credentials")
		creds = &credentials{}
		creds.register(flag.NewFlagSet("check", flag.ContinueOnError), needReport)
	}
	creds.fromEnv(environ)
	l, found := creds.load(needReport)
	for _, f := range found {
		status, text := "ok", f.found
		if f.problem != "" {
			status, text = "FAIL", f.problem
		}
		if f.setting != nil && f.problem == "" {
			text += " (" + f.setting.source() + ")"
		}
		fmt.Fprintf(w, "%-4s  %-18s  %s\n", status, f.what, text)
	}
	if !sandbox {
		for _, note := range envNotes(environ) {
			fmt.Fprintf(w, "note  %s\n", note)
		}
	}
	if bad := problems(found); len(bad) > 0 {
		fmt.Fprintf(c.stderr, "busifavor check: %d of the settings do not hold (FAIL above); no call was made\n", len(bad))
		return exitUsage
	}
	env, err := creds.build(ctx, l, needReport)
	if err != nil {
		fmt.Fprintf(w, "FAIL  %-18s  %v\n", "verification", err)
		if errors.As(err, new(*networkError)) {
			return exitAPI
		}
		return exitUsage
	}
	defer env.close()
	if v := c.fs.Lookup("verbose"); v != nil && v.Value.String() == "true" {
		derived, err := env.client.With(busifavor.WithObserver(&verbose{w: c.stderr}))
		if err != nil {
			return c.fail("--verbose: %v", err)
		}
		env.client = derived
	}
	if env.certificates != nil {
		certs := env.certificates()
		serials := make([]string, 0, len(certs))
		for serial := range certs {
			serials = append(serials, serial)
		}
		slices.Sort(serials)
		for _, serial := range serials {
			fmt.Fprintf(w, "ok    %-18s  serial %s, valid until %s\n", "platform cert", serial, certs[serial])
		}
	}
	resp, err := env.client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	if busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeResourceNotExists {
		// WeChat Pay read the request as the merchant's and has no URL for
		// it. A refusal is not verified (wechatpay-go verifies 2xx answers
		// only), so the check is not done.
		fmt.Fprintf(w, "ok    %-18s  GET /v3/marketing/busifavor/callbacks: WeChat Pay accepted the signature and answered RESOURCE_NOT_EXISTS: no notify URL is set (request id %s)\n",
			"signed call", requestID(err))
		fmt.Fprintf(w, "FAIL  %-18s  not checked: only a 2xx answer is verified; set the notify URL (busifavor set --notify-url URL) and run check again\n", "answer")
		return exitAPI
	}
	if err != nil {
		fmt.Fprintf(w, "FAIL  %-18s  GET %s: %v\n", "signed call", "/v3/marketing/busifavor/callbacks", err)
		switch {
		case busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeSignError, errors.Is(err, busifavor.ErrNoAuth):
			fmt.Fprintln(w, "      WeChat Pay did not accept the signature: the merchant id, the certificate serial and the private key must be one merchant's")
		case errors.Is(err, busifavor.ErrResponseSignature):
			fmt.Fprintln(w, "      WeChat Pay's answer did not verify: the public key and its id (or the platform certificates) are not the ones WeChat Pay signs with")
		}
		return exitAPI
	}
	fmt.Fprintf(w, "ok    %-18s  GET /v3/marketing/busifavor/callbacks: WeChat Pay accepted the signature and its answer verified; notify URL %s (request id %s)\n",
		"signed call", resp.NotifyURL, resp.RequestID)
	return exitOK
}

// requestID is the request id an API error carries, or "".
func requestID(err error) string {
	var apiErr *busifavor.APIError
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	return ""
}
