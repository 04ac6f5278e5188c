package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// runCmd runs the command in-process with env as its whole environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env, &out, &errOut)
	return code, out.String(), errOut.String()
}

// credentialsFor writes s's merchant key and WeChat Pay public key to files
// and returns the environment a merchant would set for public-key mode,
// without the APIv3 key.
func credentialsFor(t *testing.T, s *busifavortest.Server) map[string]string {
	t.Helper()
	env, err := s.WriteCredentials(t.TempDir())
	require.NoError(t, err)
	delete(env, "WECHATPAY_APIV3_KEY")
	return env
}

func TestSandboxIsTheDefault(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "set", "--notify-url", "https://example.com/busifavor/notify")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "sandbox")
	assert.Contains(t, out, "notify URL:  https://example.com/busifavor/notify")
	assert.Contains(t, out, "mchid:       "+busifavortest.DefaultMchID)
	assert.Contains(t, out, "updated:")
	assert.Contains(t, out, "request id:  08")

	code, out, errOut = runCmd(t, nil, "get", "--json")
	assert.Equal(t, exitOK, code, errOut)
	var got busifavor.GetCallbacksResponse
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, "https://example.com/busifavor/notify", got.NotifyURL)
	assert.NotEmpty(t, got.RequestID)

	code, _, errOut = runCmd(t, nil, "get", "--sandbox")
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, errOut, "no WECHATPAY_", "an explicit --sandbox needs no notice")
}

func TestSetAndGetWithCredentials(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)

	code, out, errOut := runCmd(t, env, "set", "--notify-url", "https://merchant.example.com/coupons", "--base-url", s.URL, "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	var set busifavor.SetCallbacksResponse
	require.NoError(t, json.Unmarshal([]byte(out), &set))
	assert.Equal(t, "https://merchant.example.com/coupons", set.NotifyURL)
	assert.False(t, set.UpdateTime.IsZero())

	code, out, errOut = runCmd(t, env, "get", "--base-url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "https://merchant.example.com/coupons")
	for _, r := range s.Requests() {
		assert.True(t, r.Verified, r.VerifyError)
	}

	// Flags win over the environment.
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["WECHATPAY_CERT_SERIAL"] = "WRONG"
	_, serial := s.MerchantKey()
	code, _, errOut = runCmd(t, bad, "get", "--base-url", s.URL, "--cert-serial", serial)
	assert.Equal(t, exitOK, code, errOut)
}

func TestValidationFailureExits2AndSendsNothing(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	code, out, errOut := runCmd(t, credentialsFor(t, s), "set", "--notify-url", "http://10.0.0.1/n?x=1", "--mchid", "123", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "nothing was sent")
	assert.Contains(t, errOut, "--mchid: must be 8 to 15 bytes long")
	assert.Contains(t, errOut, "--notify-url: must use https")
	assert.Contains(t, errOut, "query parameters")
	assert.Empty(t, s.Requests())

	code, _, errOut = runCmd(t, nil, "set")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--notify-url: is required")
}

func TestAPIErrorExits1WithSolution(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	s.Fail(1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeNoAuth})
	code, out, errOut := runCmd(t, credentialsFor(t, s), "get", "--base-url", s.URL)
	assert.Equal(t, exitAPI, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "NOAUTH")
	assert.Contains(t, errOut, "解决方案: 查看具体错误信息, 确认是否有权限")
	assert.Equal(t, 1, strings.Count(errOut, "request id"), "the request id once: %s", errOut)
	assert.Len(t, s.Requests(), 1, "NOAUTH is not retried")
}

func TestCredentialErrors(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)

	missing := map[string]string{"WECHATPAY_MCHID": "10000098"}
	code, _, errOut := runCmd(t, missing, "get")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--cert-serial / WECHATPAY_CERT_SERIAL")
	assert.Contains(t, errOut, "--private-key-file / WECHATPAY_PRIVATE_KEY_FILE")

	noKey := map[string]string{}
	for k, v := range env {
		noKey[k] = v
	}
	noKey["WECHATPAY_PRIVATE_KEY_FILE"] = filepath.Join(t.TempDir(), "absent.pem")
	code, _, errOut = runCmd(t, noKey, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--private-key-file / WECHATPAY_PRIVATE_KEY_FILE")

	noPub := map[string]string{}
	for k, v := range env {
		noPub[k] = v
	}
	noPub["WECHATPAY_PUBLIC_KEY_FILE"] = env["WECHATPAY_PRIVATE_KEY_FILE"]
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--public-key-file / WECHATPAY_PUBLIC_KEY_FILE")
	assert.NotContains(t, errOut, "PRIVATE KEY", "no key material in errors")

	delete(noPub, "WECHATPAY_PUBLIC_KEY_FILE")
	delete(noPub, "WECHATPAY_PUBLIC_KEY_ID")
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "WECHATPAY_APIV3_KEY")

	noPub["WECHATPAY_APIV3_KEY"] = "short"
	code, _, errOut = runCmd(t, noPub, "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "32 bytes")
	assert.NotContains(t, errOut, "short", "the key itself is never echoed")
}

func TestUsageErrors(t *testing.T) {
	code, _, _ := runCmd(t, nil)
	assert.Equal(t, exitUsage, code)
	code, _, errOut := runCmd(t, nil, "delete")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "delete"`)
	code, _, _ = runCmd(t, nil, "get", "--no-such-flag")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCmd(t, nil, "get", "extra")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCmd(t, nil, "--help")
	assert.Equal(t, exitOK, code)
}

// syncBuffer is a bytes.Buffer safe for the listener's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until buf holds want, failing after a generous deadline.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %q in %q", want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listening is a `busifavor listen` running in-process.
type listening struct {
	out, errOut *syncBuffer
	url         string // where it receives events, http://127.0.0.1:port/
	stop        func() int
}

// startListen runs `busifavor listen --addr 127.0.0.1:0 extra…` with env as
// its environment and waits until it receives events.
func startListen(t *testing.T, env map[string]string, extra ...string) *listening {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listening{out: &syncBuffer{}, errOut: &syncBuffer{}}
	exit := make(chan int, 1)
	args := append([]string{"listen", "--addr", "127.0.0.1:0"}, extra...)
	go func() { exit <- run(ctx, args, env, l.out, l.errOut) }()
	stopped := false
	l.stop = func() int {
		if stopped {
			return -1
		}
		stopped = true
		cancel()
		return <-exit
	}
	t.Cleanup(func() { l.stop() })
	waitFor(t, l.errOut, "receiving coupon events at ")
	l.url = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(l.errOut.String())
	return l
}

func TestListenInSandboxReceivesTheSampleEvent(t *testing.T) {
	l := startListen(t, nil)
	waitFor(t, l.out, "\n")
	var ev busifavor.CouponEvent
	require.NoError(t, json.Unmarshal([]byte(l.out.String()), &ev))
	assert.Equal(t, busifavor.EventTypeCouponSend, ev.EventType)
	assert.Equal(t, busifavor.MaskCode("sandbox-coupon-0001"), ev.Coupon.CouponCode, "masked unless --show-codes")
	waitFor(t, l.errOut, "answered 204 No Content")

	// A forged event is refused and the reason logged, without the body.
	forger := busifavortest.NewServer()
	defer forger.Close()
	resp, err := forger.SendCouponEvent(context.Background(), l.url, busifavor.CouponSend{CouponCode: "forged-coupon"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	waitFor(t, l.errOut, "notification refused")
	assert.NotContains(t, l.errOut.String(), "forged-coupon")
	assert.Equal(t, 1, strings.Count(l.out.String(), "\n"), "only the genuine event was printed")
	assert.Equal(t, exitOK, l.stop())
}

func TestListenNeedsTheAPIv3Key(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	code, _, errOut := runCmd(t, credentialsFor(t, s), "listen", "--addr", "127.0.0.1:0", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "WECHATPAY_APIV3_KEY")
}

func TestListenWithCredentialsVerifiesWithThePublicKey(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	env["WECHATPAY_APIV3_KEY"] = s.APIv3Key()
	l := startListen(t, env)
	resp, err := s.SendCouponEvent(context.Background(), l.url, busifavor.CouponSend{CouponCode: "real-0001", StockID: "1234567891"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	waitFor(t, l.out, busifavor.MaskCode("real-0001"))
	assert.Equal(t, exitOK, l.stop())
}

// withEnv returns a copy of env with the given changes ("" deletes).
func withEnv(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// closedPort is a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	return u
}

// TestEveryExitStatus walks every error path: 0 success, 1 API or network,
// 2 usage, credentials or validation.
func TestEveryExitStatus(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	cert := busifavortest.NewServer(busifavortest.WithPlatformCertificate("0123456789abcdef0123456789abcdef"))
	defer cert.Close()
	certEnv := withEnv(credentialsFor(t, cert), "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "",
		"WECHATPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef")
	closed := closedPort(t)

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want int
		says string
	}{
		{"no arguments", nil, nil, exitUsage, "usage:"},
		{"unknown command", nil, []string{"delete"}, exitUsage, `unknown command "delete"`},
		{"unknown flag", nil, []string{"get", "--no-such-flag"}, exitUsage, "no-such-flag"},
		{"flag of another command", nil, []string{"get", "--notify-url", "https://a.cn/n"}, exitUsage, "notify-url"},
		{"listen has no --json", nil, []string{"listen", "--json"}, exitUsage, "json"},
		{"extra argument", nil, []string{"get", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"sandbox with --base-url", nil, []string{"get", "--sandbox", "--base-url", s.URL}, exitUsage, "--base-url does not go with the sandbox"},
		{"validation", nil, []string{"set", "--notify-url", "http://a"}, exitUsage, "nothing was sent"},
		{"incomplete credentials", map[string]string{"WECHATPAY_MCHID": "10000098"}, []string{"get"}, exitUsage, "credentials incomplete"},
		{"absent key file", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", filepath.Join(dir, "absent.pem")), []string{"get", "--base-url", s.URL}, exitUsage, "cannot read the merchant private key"},
		{"key file not PEM", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", notPEM), []string{"get", "--base-url", s.URL}, exitUsage, "-----BEGIN PRIVATE KEY-----"},
		{"public key file not PEM", withEnv(env, "WECHATPAY_PUBLIC_KEY_FILE", notPEM), []string{"get", "--base-url", s.URL}, exitUsage, "-----BEGIN PUBLIC KEY-----"},
		{"half of public-key mode", withEnv(env, "WECHATPAY_PUBLIC_KEY_ID", ""), []string{"get", "--base-url", s.URL}, exitUsage, "needs both"},
		{"no verification key", withEnv(env, "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", ""), []string{"get", "--base-url", s.URL}, exitUsage, "WECHATPAY_APIV3_KEY"},
		{"short APIv3 key", withEnv(env, "WECHATPAY_APIV3_KEY", "short"), []string{"get", "--base-url", s.URL}, exitUsage, "32 bytes"},
		{"relative --base-url", env, []string{"get", "--base-url", "proxy"}, exitUsage, "--base-url"},
		{"API error", env, []string{"get", "--base-url", s.URL, "--mchid", "19999999"}, exitAPI, "PARAM_ERROR"},
		{"no network", env, []string{"get", "--base-url", closed}, exitAPI, "no answer"},
		{"certificate download without network", certEnv, []string{"get", "--base-url", closed}, exitAPI, "cannot download the platform certificates"},
		{"listen without the APIv3 key", env, []string{"listen", "--base-url", s.URL}, exitUsage, "WECHATPAY_APIV3_KEY"},
		{"listen on a bogus address", nil, []string{"listen", "--addr", "bogus"}, exitUsage, `--addr "bogus"`},
		{"timeout", env, []string{"get", "--base-url", s.URL, "--timeout", "1ns"}, exitAPI, "deadline exceeded"},
		{"success", env, []string{"set", "--base-url", s.URL, "--notify-url", "https://a.cn/n"}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.env, tc.args...)
			assert.Equal(t, tc.want, code, errOut)
			assert.Contains(t, errOut, tc.says)
		})
	}
}

func TestPlatformCertificateModeFollowsBaseURL(t *testing.T) {
	s := busifavortest.NewServer(busifavortest.WithPlatformCertificate("0123456789abcdef0123456789abcdef"))
	defer s.Close()
	env := withEnv(credentialsFor(t, s), "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "",
		"WECHATPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef")
	code, out, errOut := runCmd(t, env, "set", "--base-url", s.URL, "--notify-url", "https://shop.example.com/n")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "https://shop.example.com/n")
	var paths []string
	for _, r := range s.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
		assert.True(t, r.Verified, r.VerifyError)
	}
	assert.Equal(t, []string{"GET /v3/certificates", "POST " + busifavortest.CallbacksPath}, paths)
}

func TestHelp(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "--help")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "busifavor COMMAND --help")
	seen := map[string]bool{}
	for _, cmd := range []string{"set", "get", "listen"} {
		code, out, errOut := runCmd(t, nil, cmd, "--help")
		assert.Equal(t, exitOK, code, cmd)
		assert.Empty(t, errOut, cmd)
		assert.Contains(t, out, "usage: busifavor "+cmd, cmd)
		assert.Contains(t, out, "example:\n  busifavor "+cmd, cmd)
		assert.Contains(t, out, "-base-url", cmd)
		assert.False(t, seen[out], "%s has its own help", cmd)
		seen[out] = true
	}
	_, out, _ = runCmd(t, nil, "set", "-h")
	assert.Contains(t, out, "-notify-url")
	assert.Contains(t, out, "signing merchant", "--mchid is told apart from --merchant-id")
	assert.Contains(t, out, "-timeout")
	_, out, _ = runCmd(t, nil, "listen", "--help")
	assert.Contains(t, out, "-addr")
	assert.Contains(t, out, "APIv3 key")
	assert.Contains(t, out, "busifavortest")
	assert.NotContains(t, out, "-notify-url")
}

func TestSandboxGetSaysItForgets(t *testing.T) {
	code, _, errOut := runCmd(t, nil, "get", "--sandbox")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, "starts afresh on every run")
}

// listen masks openids and unionids unless --show-openid, and the codes an
// event holds (the coupon code, a member card code: bearer credentials at a
// till) unless --show-codes; each flag shows only its own.
func TestListenMasksOpenIDsAndCodesUnlessAsked(t *testing.T) {
	const openid, unionid = "oh-394z-6CGkNoJrsDLTTUKiAnp4", "o3wHE5qUbkT0C2KJ_Uq7Y8LoNcNk"
	const code, cardCode = "1000000000000000000000000000019", "8032832983"
	for _, flags := range [][]string{nil, {"--show-openid"}, {"--show-codes"}, {"--show-openid", "--show-codes"}} {
		t.Run(strings.Join(append([]string{"listen"}, flags...), " "), func(t *testing.T) {
			s := busifavortest.NewServer()
			defer s.Close()
			env := credentialsFor(t, s)
			env["WECHATPAY_APIV3_KEY"] = s.APIv3Key()
			l := startListen(t, env, flags...)
			resp, err := s.SendCouponEvent(context.Background(), l.url, busifavor.CouponSend{CouponCode: code, StockID: "1234567891",
				OpenID: openid, UnionID: unionid, AttachInfo: &busifavor.AttachInfo{Code: cardCode, CardID: "pY7ji5S2yFmLkTv3nYHGDSzkAuQ8"}})
			require.NoError(t, err)
			resp.Body.Close()
			waitFor(t, l.out, "\n")
			out := l.out.String()
			showIDs, showCodes := slices.Contains(flags, "--show-openid"), slices.Contains(flags, "--show-codes")
			for clear, masked := range map[string]string{openid: busifavor.MaskID(openid), unionid: busifavor.MaskID(unionid)} {
				if showIDs {
					assert.Contains(t, out, clear)
				} else {
					assert.NotContains(t, out, clear)
					assert.Contains(t, out, masked)
				}
			}
			for clear, masked := range map[string]string{code: busifavor.MaskCode(code), cardCode: busifavor.MaskCode(cardCode)} {
				if showCodes {
					assert.Contains(t, out, clear)
				} else {
					assert.NotContains(t, out, clear)
					assert.Contains(t, out, masked)
				}
			}
			assert.Contains(t, out, "1234567891", "the rest as it came")
			assert.Equal(t, exitOK, l.stop())
		})
	}
}

// The listener's code masking covers every field the package tags as a
// code (log:"code") in an event: a new one fails here until listen masks it.
func TestListenMasksEveryCodeFieldOfAnEvent(t *testing.T) {
	var tagged []string
	var walk func(reflect.Type, string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[busifavor.CouponEvent]().PkgPath() {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Tag.Get("log") == "code" {
				tagged = append(tagged, path+f.Name)
			}
			walk(f.Type, path+f.Name+".")
		}
	}
	walk(reflect.TypeFor[busifavor.CouponEvent](), "")
	assert.ElementsMatch(t, []string{"Coupon.CouponCode", "Coupon.AttachInfo.Code"}, tagged)
}

// TestSIGTERMStopsListenGracefully builds the command and stops it as a
// container runtime would.
func TestSIGTERMStopsListenGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "busifavor")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	var errOut syncBuffer
	cmd := exec.Command(bin, "listen", "--addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Stderr = &errOut
	require.NoError(t, cmd.Start())
	waitFor(t, &errOut, "answered 204")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	assert.NoError(t, err, "exit status 0 after SIGTERM, not 143: %s", errOut.String())
}

// TestListenCutsOffADrippingBody sends a notification one byte at a time,
// slower than the read timeout allows: the server must close the connection
// instead of waiting the body out.
func TestListenCutsOffADrippingBody(t *testing.T) {
	defer func(d time.Duration) { readTimeout = d }(readTimeout)
	readTimeout = 300 * time.Millisecond
	l := startListen(t, nil)
	waitFor(t, l.errOut, "answered 204") // the sample event, before the drip
	addr := strings.TrimSuffix(strings.TrimPrefix(l.url, "http://"), "/")
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	body := strings.Repeat("x", 200)
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	require.NoError(t, err)
	var writeErr error
	for i := 0; i < len(body) && writeErr == nil; i++ {
		_, writeErr = conn.Write([]byte{body[i]})
		time.Sleep(20 * time.Millisecond) // 200 bytes would take 4 s; the timeout is far shorter
		if i%10 == 0 {
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			var one [1]byte
			if _, rerr := conn.Read(one[:]); rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
				writeErr = rerr // the server closed the connection
			}
		}
	}
	assert.Error(t, writeErr, "the server waited out a body dripping for 4 s")
	assert.Equal(t, exitOK, l.stop())
}

// TestFileSettingsNeverEchoASecret gives each file setting the secret itself,
// as a container whose secret was mounted as a value rather than a file
// does: the error names the setting and says the value does not look like a
// path, and no part of the value is printed. A real path that is missing is
// still quoted, so that the operator sees which file.
func TestFileSettingsNeverEchoASecret(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	env := credentialsFor(t, s)
	keyPEM, err := os.ReadFile(env["WECHATPAY_PRIVATE_KEY_FILE"])
	require.NoError(t, err)
	pubPEM, err := os.ReadFile(env["WECHATPAY_PUBLIC_KEY_FILE"])
	require.NoError(t, err)
	keyLines := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")
	require.Greater(t, len(keyLines), 20)
	const apiKey = "Zx8Kq2Lm4Np6Rt0Vw1Ys3Ua5Cd7Fg9Hj"
	oneLine := strings.ReplaceAll(strings.TrimSpace(string(keyPEM)), "\n", `\n`)     // an env file's escaped newlines
	long := strings.Repeat("MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ/", 8) // no newline, no armour: too long for a path

	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		setting string
		secret  []string
	}{
		{"private key contents in WECHATPAY_PRIVATE_KEY_FILE", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", string(keyPEM)),
			[]string{"get", "--base-url", s.URL}, "WECHATPAY_PRIVATE_KEY_FILE", keyLines},
		{"private key on one line", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", oneLine),
			[]string{"get", "--base-url", s.URL}, "WECHATPAY_PRIVATE_KEY_FILE", keyLines},
		{"a long value", withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", long),
			[]string{"get", "--base-url", s.URL}, "WECHATPAY_PRIVATE_KEY_FILE", []string{long[:40]}},
		{"private key contents in --private-key-file", env,
			[]string{"get", "--base-url", s.URL, "--private-key-file", string(keyPEM)}, "--private-key-file", keyLines},
		{"public key contents in WECHATPAY_PUBLIC_KEY_FILE", withEnv(env, "WECHATPAY_PUBLIC_KEY_FILE", string(pubPEM)),
			[]string{"get", "--base-url", s.URL}, "WECHATPAY_PUBLIC_KEY_FILE", strings.Split(strings.TrimSpace(string(pubPEM)), "\n")},
		{"the APIv3 key in --apiv3-key-file", env,
			[]string{"get", "--base-url", s.URL, "--apiv3-key-file", apiKey}, "--apiv3-key-file", []string{apiKey}},
		{"the APIv3 key in event send's --apiv3-key-file", nil,
			[]string{"event", "send", "http://127.0.0.1:1/", "--sandbox", "--apiv3-key-file", apiKey, "--keys-dir", t.TempDir()}, "--apiv3-key-file", []string{apiKey}},
		{"the APIv2 key in --apiv2-key-file", nil,
			[]string{"coupon", "link", "--stock-id", "1212", "--out-request-no", "o1", "--openid", "oUser", "--sandbox", "--apiv2-key-file", apiKey},
			"--apiv2-key-file", []string{apiKey}},
		{"a key in --keys-dir", nil,
			[]string{"event", "send", "http://127.0.0.1:1/", "--sandbox", "--keys-dir", string(keyPEM)}, "--keys-dir", keyLines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // where a --keys-dir made of key lines would be created
			code, out, errOut := runCmd(t, tc.env, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, tc.setting)
			assert.Contains(t, errOut, "does not look like a path")
			for _, line := range tc.secret {
				if len(line) > 8 && !strings.HasPrefix(line, "-----") {
					require.NotContains(t, out+errOut, line, "a secret was printed")
				}
			}
			assert.NotContains(t, errOut, "KEY-----")
			entries, err := os.ReadDir(".")
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing was made of the value")
		})
	}

	absent := filepath.Join(t.TempDir(), "apiclient_key.pem")
	code, _, errOut := runCmd(t, withEnv(env, "WECHATPAY_PRIVATE_KEY_FILE", absent), "get", "--base-url", s.URL)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, absent, "a path is quoted")
	assert.NotContains(t, errOut, "does not look like a path")
}

// TestImplicitSandboxOnlyWithoutAnyWECHATPAYVariable: the sandbox is implicit
// only when no WECHATPAY_* variable is set at all. A misspelt name, an empty
// value or a partial set means production was meant (a cron job whose
// environment failed to load): exit status 2 before anything runs, naming
// what is missing and any near-miss name.
func TestImplicitSandboxOnlyWithoutAnyWECHATPAYVariable(t *testing.T) {
	s := busifavortest.NewServer()
	defer s.Close()
	full := credentialsFor(t, s)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		says []string
	}{
		{"misspelt merchant id", map[string]string{"WECHATPAY_MCH_ID": "1900000001"},
			[]string{"set", "--notify-url", "https://shop.example.com/n"},
			[]string{"WECHATPAY_MCHID", "WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE", "WECHATPAY_MCH_ID", "did you mean WECHATPAY_MCHID"}},
		{"misspelt in a full set", withEnv(full, "WECHATPAY_MCHID", "", "WECHATPAY_MCH_ID", full["WECHATPAY_MCHID"]),
			[]string{"stock", "create", "--file", stockFile(t, nil), "--base-url", s.URL},
			[]string{"--merchant-id / WECHATPAY_MCHID", "did you mean WECHATPAY_MCHID"}},
		{"lower case", map[string]string{"wechatpay_mchid": "1900000001"},
			[]string{"get"}, []string{"wechatpay_mchid", "did you mean WECHATPAY_MCHID"}},
		{"a key name without _FILE", map[string]string{"WECHATPAY_PRIVATE_KEY": "x"},
			[]string{"get"}, []string{"WECHATPAY_PRIVATE_KEY is set", "did you mean WECHATPAY_PRIVATE_KEY_FILE"}},
		{"empty value", map[string]string{"WECHATPAY_MCHID": ""},
			[]string{"get"}, []string{"WECHATPAY_MCHID is set but empty"}},
		{"only some", map[string]string{"WECHATPAY_MCHID": "1900000001", "WECHATPAY_CERT_SERIAL": "ABC"},
			[]string{"image", "upload", "../../examples/stock/logo.png"}, []string{"WECHATPAY_PRIVATE_KEY_FILE"}},
		{"only the APIv2 key", map[string]string{"WECHATPAY_APIV2_KEY": "Zx8Kq2Lm4Np6Rt0Vw1Ys3Ua5Cd7Fg9Hj"},
			[]string{"coupon", "link", "--stock-id", "1212", "--out-request-no", "o1", "--openid", "oUser"}, []string{"WECHATPAY_MCHID"}},
		{"an unknown variable alone", map[string]string{"WECHATPAY_ENV": "prod"},
			[]string{"get"}, []string{"WECHATPAY_ENV is set", "not a variable busifavor reads"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.env, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.NotContains(t, errOut, "sandbox (busifavortest)")
			assert.Contains(t, errOut, "credentials incomplete")
			for _, w := range tc.says {
				assert.Contains(t, errOut, w)
			}
		})
	}
	assert.Empty(t, s.Requests(), "nothing was sent")

	// No WECHATPAY_* variable at all: the sandbox, and the notice is true.
	code, _, errOut := runCmd(t, map[string]string{"HOME": t.TempDir(), "MCHID": "1900000001"}, "get")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "no WECHATPAY_* variable is set")
	// --sandbox is asked for: it wins over the environment.
	code, _, errOut = runCmd(t, map[string]string{"WECHATPAY_MCH_ID": "1900000001"}, "get", "--sandbox")
	assert.Equal(t, exitOK, code, errOut)
	// A full set with another program's WECHATPAY_* variable beside it runs.
	code, _, errOut = runCmd(t, withEnv(full, "WECHATPAY_BASE_URL", "https://proxy.example.com"),
		"set", "--notify-url", "https://shop.example.com/n", "--base-url", s.URL)
	assert.Equal(t, exitOK, code, errOut)
}
