package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// readmeQuery is the query README.md prints to show the recorded coupons:
// its first ```sql block.
func readmeQuery(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```sql\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md prints no ```sql query")
	}
	return string(m[1])
}

// backendProcess is the built backend, running.
type backendProcess struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
}

// startBackend runs bin in dir with env, and waits until it listens.
func startBackend(t *testing.T, bin, dir string, env []string) *backendProcess {
	t.Helper()
	p := &backendProcess{cmd: exec.Command(bin)}
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p.stderr.String(), "receiving coupon events"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			t.Fatalf("the backend never listened:\n%s", p.stderr.String())
		}
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *backendProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit status 0)\n%s", err, p.stderr.String())
	}
}

// TestMainAgainstTheFake builds the backend and runs it as a newcomer
// would, configured only through the environment, with no DATABASE_URL,
// against busifavortest: it starts on SQLite in merchant-backend.db in its
// working directory, sets the notify URL, and records the COUPON.SEND of a
// coupon sent through the fake (SendCoupon) as the row README.md's query
// shows. Restarted, its deduplicator empty, it answers a redelivery of the
// event 204 and adds no row. Its log lines mask the openid and the code,
// it logs no warning on a first start, and it stops gracefully on SIGTERM.
func TestMainAgainstTheFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	ctx := context.Background()
	fake := busifavortest.NewServer()
	defer fake.Close()
	dir := t.TempDir()
	creds, err := fake.WriteCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	bin := filepath.Join(dir, "merchant-backend")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "WECHATPAY_BASE_URL=" + fake.URL,
		"NOTIFY_URL=https://shop.example.com/wechat/coupons", "ADDR=" + addr}
	for k, v := range creds {
		env = append(env, k+"="+v)
	}

	// The operator's side: a stock whose events carry openids, and a
	// coupon of it sent to a user through the API.
	client, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	const appid, openid = "wx233544546545989", "oh-394z-6CGkNoJrsDLTTUKiAnp4"
	begin := fake.Now()
	stock, err := client.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "开业券", BelongMerchant: fake.MchID(), GoodsName: "全场", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 0, 30)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 500, TransactionMinimum: 2000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 100, MaxCouponsPerUser: 1},
		OutRequestNo:   "opening-stock-1",
		CouponCodeMode: busifavor.CouponCodeModeWechatPay,
		NotifyConfig:   &busifavor.NotifyConfig{NotifyAppID: appid},
	})
	if err != nil {
		t.Fatal(err)
	}

	first := startBackend(t, bin, dir, env)
	if got, _ := fake.NotifyURL(fake.MchID()); got != "https://shop.example.com/wechat/coupons" {
		t.Fatalf("notify URL on the fake is %q", got)
	}
	if !strings.Contains(first.stderr.String(), "SQLite file "+filepath.Join(dir, DefaultSQLiteFile)) {
		t.Fatalf("the backend does not name its database file:\n%s", first.stderr.String())
	}
	sent, err := client.SendCoupon(ctx, busifavor.SendCouponRequest{OpenID: openid, AppID: appid, StockID: stock.StockID, OutRequestNo: "send-0001"})
	if err != nil {
		t.Fatal(err)
	}
	// WeChat Pay's COUPON.SEND for that coupon, delivered to the notify URL
	// (its times are written to the millisecond).
	sendTime := fake.Now().Truncate(time.Millisecond)
	_, body := fake.CouponNotification(busifavor.CouponSend{CouponCode: sent.CouponCode, StockID: stock.StockID, OpenID: openid,
		SendTime: sendTime, SendChannel: busifavor.SendChannelAPI, SendMerchant: fake.MchID()})
	url := "http://" + addr + "/wechat/coupons"
	if status, err := deliver(fake, url, body); err != nil || status != http.StatusNoContent {
		t.Fatalf("the event: %d %v\n%s", status, err, first.stderr.String())
	}
	first.stop(t)
	logs := first.stderr.String()
	if strings.Contains(logs, "WARN") {
		t.Fatalf("a first start logged a warning:\n%s", logs)
	}
	// The coupon code is a bearer credential at a till: logged masked, as
	// the openid is.
	if !strings.Contains(logs, "coupon event recorded") || strings.Contains(logs, openid) || strings.Contains(logs, sent.CouponCode) ||
		!strings.Contains(logs, "coupon_code="+busifavor.MaskCode(sent.CouponCode)) || !strings.Contains(logs, "openid="+busifavor.MaskID(openid)) {
		t.Fatalf("the log should say the event was recorded, with the openid and the code masked:\n%s", logs)
	}

	// Restarted on the same file, with an empty deduplicator: a
	// redelivery is answered 204 and adds nothing.
	second := startBackend(t, bin, dir, env)
	if status, err := deliver(fake, url, body); err != nil || status != http.StatusNoContent {
		t.Fatalf("the redelivery: %d %v\n%s", status, err, second.stderr.String())
	}
	second.stop(t)
	if !strings.Contains(second.stderr.String(), "coupon event already recorded") {
		t.Fatalf("the redelivery was not answered by the inbox:\n%s", second.stderr.String())
	}

	// What README.md's query shows.
	store := openStore(t, "sqlite:"+filepath.Join(dir, DefaultSQLiteFile), io.Discard)
	rows, err := store.db.Query(readmeQuery(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var stockID, code, who, channel string
		var at time.Time
		if err := rows.Scan(&stockID, &code, &who, &at, &channel); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{stockID, code, who, at.Format(time.RFC3339Nano), channel}, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{stock.StockID, sent.CouponCode, openid, sendTime.Format(time.RFC3339Nano), busifavor.SendChannelAPI}, " ")
	if len(got) != 1 || got[0] != want {
		t.Fatalf("README.md's query shows %q, want the one row %q", got, want)
	}
	t.Logf("README.md's query, after a delivery, a restart and a redelivery: %d row", len(got))
}
