package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// defaultSandboxAddr is where busifavor sandbox listens unless told: a
// loopback address, reachable from this machine only.
const defaultSandboxAddr = "127.0.0.1:8780"

// sandboxCommands serve the fake WeChat Pay for other programs.
var sandboxCommands = []command{
	{
		name: "sandbox", group: groupSetup, summary: "serve the fake WeChat Pay for other programs, until interrupted",
		usage: "[--addr 127.0.0.1:8780] [--dir DIR] [--route NOTIFY_URL=LOCAL_URL]…",
		help: `Serves the fake WeChat Pay (busifavortest) on ADDR until interrupted (SIGINT
or SIGTERM), holding the demo data every command's sandbox holds: stock
1200000001 with uploaded codes, and a user's coupons SANDBOX0001 (usable)
and SANDBOX0002 (redeemed). It signs its answers, verifies every request's
signature, and keeps what programs do to it until it stops.

It writes test keys into DIR, new ones on every start, and DIR/sandbox.env,
one export line for every variable a backend or this command reads:
WECHATPAY_MCHID, WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE,
WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY_FILE, WECHATPAY_APIV3_KEY,
WECHATPAY_APIV2_KEY and WECHATPAY_BASE_URL. So a program under test runs
against it with

  . DIR/sandbox.env

and nothing else, in any language, as long as its WeChat Pay client lets it
change the base URL (https://api.mch.weixin.qq.com). These are test keys of
a fake: they are worth nothing anywhere else, and production never reads
this file. When it is ready the command prints one line on stdout.

Events: a coupon sent through the API (SendCoupon, busifavor coupon send)
makes a COUPON.SEND event for the notify URL its stock's creator set, which
WeChat Pay would POST there. The sandbox reaches no URL of the
internet: --route NOTIFY_URL=LOCAL_URL delivers the events for NOTIFY_URL
to LOCAL_URL, an http or https URL on this machine (127.0.0.1, ::1 or
localhost), signed and encrypted with the keys in DIR, retried as WeChat
Pay retries (an answer within 5 s, 11 deliveries 60 s apart). LOCAL_URL
without a path keeps NOTIFY_URL's path. Give --route again for more notify
URLs, or for more instances of one (each delivery picks one). Each delivery
is printed on stderr. Events for a notify URL without a route go nowhere.

DIR also holds what busifavor event send --keys-dir reads, so that command
signs its sample event as this sandbox signs its own:
  busifavor event send LOCAL_URL --keys-dir DIR
`,
		examples: []string{"sandbox --dir /tmp/busifavor-sandbox --route https://shop.example.com/wechat/coupons=http://127.0.0.1:8080/wechat/coupons"},
		flags: func(fs *flag.FlagSet) action {
			addr := fs.String("addr", defaultSandboxAddr, "host:port to serve on (a port of 0 picks a free one)")
			dir := fs.String("dir", defaultSandboxDir(), "where the test keys and sandbox.env are written")
			rs := routes{}
			fs.Var(rs, "route", "NOTIFY_URL=LOCAL_URL: deliver the events for NOTIFY_URL to LOCAL_URL on this machine (repeatable)")
			return func(ctx context.Context, c *call) int { return serveSandbox(ctx, c, *addr, *dir, rs) }
		},
	},
}

// routes are the --route flags: notify URL -> local URLs.
type routes map[string][]string

// String implements flag.Value.
func (r routes) String() string { return "" }

// Set implements flag.Value: NOTIFY_URL=LOCAL_URL, the notify URL as a
// merchant sets it (SetCallbacks's rules) and a local URL on a loopback
// host.
func (r routes) Set(v string) error {
	notify, local, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not NOTIFY_URL=LOCAL_URL", v)
	}
	if err := (busifavor.SetCallbacksRequest{NotifyURL: notify}).Validate(); err != nil {
		var ve *busifavor.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("NOTIFY_URL %q is not a notify URL WeChat Pay accepts: %s", notify, ve.Fields[0].Reason)
		}
		return err
	}
	u, err := url.Parse(local)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("LOCAL_URL %q is not an http or https URL such as http://127.0.0.1:8080/wechat/coupons", local)
	}
	if !loopbackHost(u.Hostname()) {
		return fmt.Errorf("LOCAL_URL %q is not on this machine: its host must be 127.0.0.1 (or another 127.x address), ::1 or localhost", local)
	}
	r[notify] = append(r[notify], local)
	return nil
}

// loopbackHost reports whether host names this machine: localhost or a
// loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveSandbox is busifavor sandbox. It reads no credential: it makes its
// own.
func serveSandbox(ctx context.Context, c *call, addr, dir string, rs routes) int {
	stdout, stderr := c.stdout, c.stderr
	if why := notAPath(dir); why != "" {
		return c.fail("--dir does not look like a path (%s; the value is not shown): give a directory", why)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return c.fail("--dir %s: %v", dir, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return c.fail("cannot listen on --addr %q: %v", addr, err)
	}
	if host, _, _ := net.SplitHostPort(addr); !loopbackHost(host) {
		fmt.Fprintf(stderr, "busifavor sandbox: warning: --addr %s is reachable from other machines: whoever reaches it can read and change what it holds\n", addr)
	}

	s, keys, err := startSandboxServer(ctx, l)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor sandbox: %v\n", err)
		return exitAPI
	}
	defer s.Close()
	for notify, locals := range rs {
		if err := s.Route(notify, locals...); err != nil {
			fmt.Fprintf(stderr, "busifavor sandbox: --route %s: %v\n", notify, err)
			return exitUsage
		}
	}
	envFile, err := writeSandboxDir(absDir, s, keys)
	if err != nil {
		return c.fail("--dir %s: %v", dir, err)
	}
	for _, notify := range slices.Sorted(maps.Keys(rs)) {
		fmt.Fprintf(stderr, "busifavor sandbox: events for %s go to %s\n", notify, strings.Join(rs[notify], ", "))
	}
	fmt.Fprintf(stdout, "busifavor sandbox: fake WeChat Pay at %s; run . %s to use it (interrupt to stop)\n", baseURLFor(s.URL), shellQuote(envFile))

	printDeliveries(ctx, s, stderr)
	s.Close()
	fmt.Fprintln(stderr, "busifavor sandbox: stopped")
	return exitOK
}

// defaultSandboxDir is where busifavor sandbox writes its keys unless told.
func defaultSandboxDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "busifavor", "sandbox")
	}
	return "busifavor-sandbox"
}

// sandboxKeys are the keys a sandbox is made with, which it writes to DIR.
type sandboxKeys struct {
	platform   *rsa.PrivateKey // WeChat Pay's signing key, in the sandbox a test key
	platformID string          // its public key id
}

// startSandboxServer serves a fake WeChat Pay on l, with new keys and the
// demo data of the commands' sandbox (seed).
func startSandboxServer(ctx context.Context, l net.Listener) (*busifavortest.Server, *sandboxKeys, error) {
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	keys := &sandboxKeys{platform: platform, platformID: fmt.Sprintf("PUB_KEY_ID_01%s%010d", busifavortest.DefaultMchID, n)}
	s := busifavortest.NewServer(busifavortest.WithListener(l), busifavortest.WithPlatformKey(platform, keys.platformID),
		busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/busifavor/notify"))
	c, err := s.Client()
	if err == nil {
		err = seed(ctx, c, s)
	}
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("starting the sandbox: %v", err)
	}
	return s, keys, nil
}

// writeSandboxDir writes the sandbox's keys into dir and dir/sandbox.env,
// and returns the env file's path. The file names are those busifavor
// event send --keys-dir reads: test_wechatpay_key.pem (WeChat Pay's key,
// here a test key), pub_key.pem, public_key_id and apiv3_key.
func writeSandboxDir(dir string, s *busifavortest.Server, keys *sandboxKeys) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	vars, err := s.WriteCredentials(dir) // apiclient_key.pem and pub_key.pem
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(keys.platform)
	if err != nil {
		return "", err
	}
	vars["WECHATPAY_APIV2_KEY"] = s.APIv2Key()
	vars["WECHATPAY_BASE_URL"] = baseURLFor(s.URL)
	var env strings.Builder
	fmt.Fprintf(&env, "# busifavor sandbox, started %s: the test keys of a fake WeChat Pay at %s.\n"+
		"# Load with: . %s   (never in production)\n", time.Now().Format(time.RFC3339), vars["WECHATPAY_BASE_URL"], shellQuote(filepath.Join(dir, "sandbox.env")))
	for _, k := range sandboxVars {
		fmt.Fprintf(&env, "export %s=%s\n", k, shellQuote(vars[k]))
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"test_wechatpay_key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})},
		{"public_key_id", []byte(keys.platformID + "\n")},
		{"apiv3_key", []byte(s.APIv3Key() + "\n")},
		{"sandbox.env", []byte(env.String())},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "sandbox.env"), nil
}

// sandboxVars are the variables sandbox.env sets, in its order.
var sandboxVars = []string{"WECHATPAY_MCHID", "WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE",
	"WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_APIV3_KEY", "WECHATPAY_APIV2_KEY", "WECHATPAY_BASE_URL"}

// baseURLFor is the URL programs on this machine reach a server listening
// at u with: an address for every interface (0.0.0.0, ::) is reached on
// loopback.
func baseURLFor(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if ip := net.ParseIP(p.Hostname()); ip != nil && ip.IsUnspecified() {
		p.Host = net.JoinHostPort("127.0.0.1", p.Port())
	}
	return p.String()
}

// shellQuote quotes v for a POSIX shell.
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// printDeliveries prints each event delivery the sandbox makes, as it
// makes them, until ctx ends.
func printDeliveries(ctx context.Context, s *busifavortest.Server, w io.Writer) {
	var last busifavortest.Delivery // the last one printed
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		log := s.Deliveries()
		from := 0
		for i := len(log) - 1; i >= 0; i-- {
			if log[i].EventID == last.EventID && log[i].Attempt == last.Attempt {
				from = i + 1
				break
			}
		}
		for _, d := range log[from:] {
			answer := fmt.Sprintf("answered %d", d.Status)
			if d.Status == 0 {
				answer = "no answer: " + d.Error
			}
			fmt.Fprintf(w, "busifavor sandbox: event %s, delivery %d to %s: %s\n", d.EventID, d.Attempt, d.Target, answer)
			last = d
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// printReceiverSettings says what the receiver of event send's sample
// verifies and decrypts it with: the keys of the busifavor sandbox whose
// --dir is keysDir, or the test key pair kept there.
func printReceiverSettings(w io.Writer, keysDir string, keys *testKeys, apiV3Key string) {
	envFile := filepath.Join(keysDir, "sandbox.env")
	if _, err := os.Stat(envFile); err == nil {
		fmt.Fprintf(w, "signed as the busifavor sandbox whose keys are in %s signs: the backend under test runs against that sandbox, after . %s (a test deployment, never production)\n",
			keysDir, shellQuote(envFile))
		if v3, err := os.ReadFile(filepath.Join(keysDir, "apiv3_key")); err == nil && apiV3Key != "" && strings.TrimSpace(string(v3)) != apiV3Key {
			fmt.Fprintln(w, "  but encrypted with the APIv3 key you gave, which is not the sandbox's: a backend that loaded sandbox.env cannot decrypt it")
		}
		return
	}
	fmt.Fprintf(w, "the receiver under test (a test deployment, never production) verifies and decrypts with:\n"+
		"  WECHATPAY_PUBLIC_KEY_ID=%s\n  WECHATPAY_PUBLIC_KEY_FILE=%s\n", keys.keyID, filepath.Join(keysDir, "pub_key.pem"))
	if apiV3Key == "" {
		fmt.Fprintf(w, "  WECHATPAY_APIV3_KEY=the test key in %s\n", filepath.Join(keysDir, "apiv3_key"))
	} else {
		fmt.Fprintln(w, "  WECHATPAY_APIV3_KEY=your APIv3 key, as given")
	}
	fmt.Fprintln(w, "  (a backend that also calls WeChat Pay verifies its answers with that public key too, so it cannot take a test key: "+
		"run it against busifavor sandbox and give the sandbox's --dir as --keys-dir)")
}
