package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// lockedBuffer collects a process's output safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMainAgainstTheFake builds the backend and runs it as a deployment
// would, configured only through the environment, against busifavortest:
// it sets the notify URL, serves its path, records an event with the openid
// and the coupon code masked, logs no warning on a first start, and stops
// gracefully on SIGTERM.
func TestMainAgainstTheFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	fake := busifavortest.NewServer()
	defer fake.Close()
	dir := t.TempDir()
	env, err := fake.WriteCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	bin := filepath.Join(dir, "merchant-backend")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "WECHATPAY_BASE_URL=" + fake.URL,
		"NOTIFY_URL=https://shop.example.com/wechat/coupons", "ADDR=" + addr}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	const openid, code = "oh-394z-6CGkNoJrsDLTTUKiAnp4", "C-2001-7731-9052"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := fake.SendCouponEvent(context.Background(), "http://"+addr+"/wechat/coupons",
			busifavor.CouponSend{CouponCode: code, StockID: "1234567891", OpenID: openid})
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("event answered %d: %s", resp.StatusCode, stderr.String())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend never listened: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := fake.NotifyURL(fake.MchID()); got != "https://shop.example.com/wechat/coupons" {
		t.Fatalf("notify URL on the fake is %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit status 0)\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "WARN") {
		t.Fatalf("a first start logged a warning:\n%s", stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, openid) || !strings.Contains(out, busifavor.MaskID(openid)) {
		t.Fatalf("stdout should hold the event with a masked openid: %s", out)
	}
	// A coupon code is a bearer credential at a till: masked as the package
	// masks it in logs.
	if strings.Contains(out, code) || !strings.Contains(out, `"coupon_code":"`+busifavor.MaskCode(code)+`"`) {
		t.Fatalf("stdout should hold the event with a masked coupon code: %s", out)
	}
}
