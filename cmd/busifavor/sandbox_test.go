package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// runningSandbox is a `busifavor sandbox` running in-process.
type runningSandbox struct {
	out, errOut *syncBuffer
	dir         string
	url         string            // where it serves, from its ready line
	env         map[string]string // what `. DIR/sandbox.env` sets, read by a shell
	stop        func() int
}

// startSandbox runs `busifavor sandbox --addr 127.0.0.1:0 --dir DIR extra…`
// and waits for its ready line.
func startSandbox(t *testing.T, extra ...string) *runningSandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sb := &runningSandbox{out: &syncBuffer{}, errOut: &syncBuffer{}, dir: filepath.Join(t.TempDir(), "sandbox")}
	exit := make(chan int, 1)
	args := append([]string{"sandbox", "--addr", "127.0.0.1:0", "--dir", sb.dir}, extra...)
	go func() { exit <- run(ctx, args, nil, sb.out, sb.errOut) }()
	var once sync.Once
	code := -1
	sb.stop = func() int {
		once.Do(func() {
			cancel()
			code = <-exit
		})
		return code
	}
	t.Cleanup(func() { sb.stop() })
	waitFor(t, sb.out, "\n")
	ready := sb.out.String()
	m := regexp.MustCompile(`^busifavor sandbox: fake WeChat Pay at (http://127\.0\.0\.1:\d+); run \. (\S+) to use it \(interrupt to stop\)\n$`).FindStringSubmatch(ready)
	require.NotNil(t, m, "the ready line: %q", ready)
	sb.url = m[1]
	assert.Equal(t, filepath.Join(sb.dir, "sandbox.env"), m[2])
	sb.env = sourced(t, m[2])
	return sb
}

// sourced is the environment `. file` sets, as sh reads it.
func sourced(t *testing.T, file string) map[string]string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `. "$1" && env`, "sh", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "WECHATPAY_") {
			env[k] = v
		}
	}
	return env
}

// clientFrom builds a Go client from the variables of sandbox.env, as a
// merchant's program configured by them would (WECHATPAY_BASE_URL included).
func clientFrom(t *testing.T, env map[string]string) *busifavor.Client {
	t.Helper()
	key, err := utils.LoadPrivateKeyWithPath(env["WECHATPAY_PRIVATE_KEY_FILE"])
	require.NoError(t, err)
	pub, err := utils.LoadPublicKeyWithPath(env["WECHATPAY_PUBLIC_KEY_FILE"])
	require.NoError(t, err)
	cc, err := core.NewClient(context.Background(), option.WithWechatPayPublicKeyAuthCipher(env["WECHATPAY_MCHID"],
		env["WECHATPAY_CERT_SERIAL"], key, env["WECHATPAY_PUBLIC_KEY_ID"], pub),
		option.WithHTTPClient(busifavor.NewHTTPClient(&http.Client{})))
	require.NoError(t, err)
	c, err := busifavor.NewClient(cc, busifavor.WithBaseURL(env["WECHATPAY_BASE_URL"]))
	require.NoError(t, err)
	return c
}

// TestSandboxServesTheFake starts `busifavor sandbox` and uses it as other
// programs would: sandbox.env sets every variable, its files are private,
// a client configured from it alone reads the demo stock, and so does the
// command itself; an interrupt stops it with exit status 0.
func TestSandboxServesTheFake(t *testing.T) {
	sb := startSandbox(t)
	assert.ElementsMatch(t, sandboxVars, keysOf(sb.env))
	for _, k := range sandboxVars {
		assert.NotEmpty(t, sb.env[k], k)
	}
	assert.Equal(t, sb.url, sb.env["WECHATPAY_BASE_URL"])
	for _, f := range []string{"apiclient_key.pem", "pub_key.pem", "test_wechatpay_key.pem", "public_key_id", "apiv3_key", "sandbox.env"} {
		fi, err := os.Stat(filepath.Join(sb.dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	ctx := context.Background()
	c := clientFrom(t, sb.env)
	st, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: sandboxStockID})
	require.NoError(t, err)
	assert.Equal(t, "沙箱演示券", st.StockName)
	got, err := c.GetUserCoupon(ctx, busifavor.GetUserCouponRequest{CouponCode: sandboxCoupon, OpenID: sandboxOpenID, AppID: sandboxAppID})
	require.NoError(t, err)
	assert.Equal(t, busifavor.CouponStateSent, got.CouponState)

	code, out, errOut := runCmd(t, sb.env, "stock", "get", sandboxStockID, "--base-url", sb.env["WECHATPAY_BASE_URL"], "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"stock_id": "1200000001"`)

	assert.Equal(t, exitOK, sb.stop())
	assert.Contains(t, sb.errOut.String(), "busifavor sandbox: stopped")
	_, err = c.GetStock(ctx, busifavor.GetStockRequest{StockID: sandboxStockID})
	assert.Error(t, err, "stopped")
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// eventSink receives events at /events/coupons, verified and decrypted
// with the keys of a sandbox.env (given by use, once the sandbox has made
// them), and answers 204.
type eventSink struct {
	url    string
	parser atomic.Pointer[busifavor.EventParser]
	events chan *busifavor.CouponEvent
}

func newEventSink(t *testing.T) *eventSink {
	t.Helper()
	sink := &eventSink{events: make(chan *busifavor.CouponEvent, 10)}
	handle := func(_ context.Context, ev *busifavor.CouponEvent) error {
		sink.events <- ev
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := sink.parser.Load()
		if r.URL.Path != "/events/coupons" || p == nil {
			http.NotFound(w, r)
			return
		}
		busifavor.NewEventHandler(p, handle).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sink.url = srv.URL + "/events/coupons"
	return sink
}

// use makes the sink verify and decrypt with the keys env names.
func (s *eventSink) use(t *testing.T, env map[string]string) {
	t.Helper()
	pub, err := utils.LoadPublicKeyWithPath(env["WECHATPAY_PUBLIC_KEY_FILE"])
	require.NoError(t, err)
	p, err := busifavor.NewEventParser(env["WECHATPAY_APIV3_KEY"], verifiers.NewSHA256WithRSAPubkeyVerifier(env["WECHATPAY_PUBLIC_KEY_ID"], *pub))
	require.NoError(t, err)
	s.parser.Store(p)
}

// next waits for the next event.
func (s *eventSink) next(t *testing.T) *busifavor.CouponEvent {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event in a minute")
		return nil
	}
}

// TestSandboxRoutesEvents: with --route, the COUPON.SEND of a coupon sent
// through the sandbox reaches a handler on this machine that verifies with
// sandbox.env's keys, and the sandbox prints the delivery; event send
// --keys-dir DIR signs its sample as the sandbox does, so the same handler
// accepts it.
func TestSandboxRoutesEvents(t *testing.T) {
	const notifyURL = "https://shop.example.com/wechat/coupons"
	sink := newEventSink(t)
	sb := startSandbox(t, "--route", notifyURL+"="+sink.url)
	sink.use(t, sb.env)
	assert.Contains(t, sb.errOut.String(), "busifavor sandbox: events for "+notifyURL+" go to "+sink.url+"\n")
	ctx := context.Background()
	c := clientFrom(t, sb.env)
	_, err := c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: notifyURL})
	require.NoError(t, err)

	sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: sandboxStockID, OpenID: "oTestUser0001", AppID: sandboxAppID, OutRequestNo: "walk-1"})
	require.NoError(t, err)
	ev := sink.next(t)
	assert.Equal(t, busifavor.EventTypeCouponSend, ev.EventType)
	assert.Equal(t, sent.CouponCode, ev.Coupon.CouponCode)
	assert.Equal(t, sandboxStockID, ev.Coupon.StockID)
	assert.Equal(t, busifavor.SendChannelAPI, ev.Coupon.SendChannel)
	waitFor(t, sb.errOut, ", delivery 1 to "+sink.url+": answered 204\n")

	// event send, configured by sandbox.env and given DIR.
	code, out, errOut := runCmd(t, sb.env, "event", "send", sink.url, "--keys-dir", sb.dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "answered 204")
	assert.Contains(t, errOut, "signed as the busifavor sandbox whose keys are in "+sb.dir+" signs: "+
		"the backend under test runs against that sandbox, after . "+filepath.Join(sb.dir, "sandbox.env"))
	assert.NotContains(t, errOut, "not the sandbox's")
	ev = sink.next(t)
	assert.Equal(t, "SAMPLE-COUPON-0001", ev.Coupon.CouponCode)
	// And with nothing configured, from DIR alone.
	code, _, errOut = runCmd(t, nil, "event", "send", sink.url, "--keys-dir", sb.dir)
	require.Equal(t, exitOK, code, errOut)
	sink.next(t)

	// Another APIv3 key than the sandbox's: the receiver cannot decrypt,
	// and the command said why.
	other := maps.Clone(sb.env)
	other["WECHATPAY_APIV3_KEY"] = strings.Repeat("k", 32)
	code, _, errOut = runCmd(t, other, "event", "send", sink.url, "--keys-dir", sb.dir)
	assert.Equal(t, exitAPI, code)
	assert.Contains(t, errOut, "encrypted with the APIv3 key you gave, which is not the sandbox's")
}

// TestSandboxRefusesBadFlags: every mistake is exit status 2 with what is
// wrong, before anything is served or written.
func TestSandboxRefusesBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--route", "https://shop.example.com/n"}, "is not NOTIFY_URL=LOCAL_URL"},
		{[]string{"--route", "http://shop.example.com/n=http://127.0.0.1:8080/n"}, "is not a notify URL WeChat Pay accepts"},
		{[]string{"--route", "https://shop.example.com/n?a=1=http://127.0.0.1:8080/n"}, "is not a notify URL WeChat Pay accepts"},
		{[]string{"--route", "https://shop.example.com/n=http://192.0.2.1:8080/n"}, "is not on this machine"},
		{[]string{"--route", "https://shop.example.com/n=http://shop.internal/n"}, "is not on this machine"},
		{[]string{"--route", "https://shop.example.com/n=ftp://127.0.0.1/n"}, "is not an http or https URL"},
		{[]string{"--addr", "127.0.0.1:http-alt-nope"}, "cannot listen on --addr"},
		{[]string{"--dir", "-----BEGIN PRIVATE KEY-----"}, "--dir does not look like a path"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
	} {
		args := append([]string{"sandbox", "--addr", "127.0.0.1:0", "--dir", dir}, tc.args...)
		code, out, errOut := runCmd(t, nil, args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
		assert.Empty(t, out)
		assert.NotContains(t, errOut, "BEGIN PRIVATE KEY")
	}
	_, err := os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing was written")

	// Both sides of the loopback rule: 127.x, ::1 and localhost are this
	// machine.
	for _, local := range []string{"http://127.0.0.2:8080", "http://[::1]:8080/n", "https://localhost:8443/n"} {
		assert.NoError(t, routes{}.Set("https://shop.example.com/n="+local), local)
	}

	code, out, _ := runCmd(t, nil, "sandbox", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: busifavor sandbox [--addr 127.0.0.1:8780] [--dir DIR] [--route NOTIFY_URL=LOCAL_URL]")
	assert.Contains(t, out, "-route value")
}

// needTools skips a test whose tools are missing, saying how to install
// them; in CI (CI set) it fails instead.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (Debian: apt-get install %s)", tool, tool)
			}
			t.Skipf("%s is missing (Debian: apt-get install %s)", tool, tool)
		}
	}
}

// openSSLClient is the README's non-Go client of the sandbox.
const openSSLClient = "../../examples/openssl-client/notify-url.sh"

// runOpenSSLClient runs the script as the README says: `. sandbox.env &&
// sh notify-url.sh`, or with env's variables.
func runOpenSSLClient(t *testing.T, envFile string, env map[string]string) (string, string, error) {
	t.Helper()
	script, err := filepath.Abs(openSSLClient)
	require.NoError(t, err)
	cmd := exec.Command("sh", "-c", `. "$1" && sh "$2"`, "sh", envFile, script)
	if envFile == "" {
		cmd = exec.Command("sh", script)
	}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestOpenSSLClientAgainstTheSandbox runs the README's shell client, which
// signs with openssl and calls with curl, against `busifavor sandbox`: the
// sandbox verifies its signature and it verifies the sandbox's. Against a
// fake whose answer is signed wrongly it fails, so its check is real.
func TestOpenSSLClientAgainstTheSandbox(t *testing.T) {
	needTools(t, "sh", "curl", "openssl", "awk")
	sb := startSandbox(t)
	out, errOut, err := runOpenSSLClient(t, filepath.Join(sb.dir, "sandbox.env"), nil)
	require.NoError(t, err, errOut)
	var got busifavor.GetCallbacksResponse
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, "https://example.com/busifavor/notify", got.NotifyURL)
	assert.Equal(t, busifavortest.DefaultMchID, got.MchID)

	fake := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/n"))
	defer fake.Close()
	env, err := fake.WriteCredentials(t.TempDir())
	require.NoError(t, err)
	env["WECHATPAY_BASE_URL"] = fake.URL
	_, errOut, err = runOpenSSLClient(t, "", env)
	require.NoError(t, err, errOut)
	fake.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultBadSignature})
	_, errOut, err = runOpenSSLClient(t, "", env)
	assert.Error(t, err)
	assert.Contains(t, errOut, "the answer's signature does not verify")
	for _, r := range fake.Requests() {
		assert.True(t, r.Verified, "the fake verified the script's signature: %s", r.VerifyError)
	}
}
