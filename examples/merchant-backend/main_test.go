package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	want := strings.Join([]string{stock.StockID, sent.CouponCode, openid, sendTime.Format(time.RFC3339Nano), string(busifavor.SendChannelAPI)}, " ")
	if len(got) != 1 || got[0] != want {
		t.Fatalf("README.md's query shows %q, want the one row %q", got, want)
	}
	t.Logf("README.md's query, after a delivery, a restart and a redelivery: %d row", len(got))
}

// buildBusifavor builds the busifavor command from the clone this example
// sits in (../..) into dir.
func buildBusifavor(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "busifavor")
	build := exec.Command("go", "build", "-o", bin, "./cmd/busifavor")
	build.Dir, build.Stderr = filepath.Join("..", ".."), os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// process is a program the walk-through runs, with its output.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	exited         chan struct{} // closed when it has ended; then err is its Wait's
	err            error
}

// start runs cmd and waits until its stdout or stderr holds ready.
func start(t *testing.T, cmd *exec.Cmd, ready string) *process {
	t.Helper()
	p := &process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
	p.eventually(t, ready)
	return p
}

// eventually waits until the process's output holds want, failing if it
// exits first or a minute passes.
func (p *process) eventually(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(p.output(), want); time.Sleep(10 * time.Millisecond) {
		select {
		case <-p.exited:
			t.Fatalf("%s ended (%v) before printing %q:\n%s", p.cmd.Args, p.err, want, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never printed %q:\n%s", p.cmd.Args, want, p.output())
		}
	}
}

func (p *process) output() string { return p.stdout.String() + p.stderr.String() }

// stop sends SIGTERM and waits for the process to end with exit status 0.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop on SIGTERM", p.cmd.Args)
	}
	if p.err != nil {
		t.Fatalf("%s after SIGTERM: %v (want exit status 0)\n%s", p.cmd.Args, p.err, p.output())
	}
}

// shell runs script with sh -c, its arguments args, in dir with only env.
func shell(dir string, env []string, script string, args ...string) *exec.Cmd {
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	return cmd
}

// couponSendThroughSandbox sends a coupon through the sandbox as an operator
// would: busifavor coupon send, in a shell that ran . sandbox.env.
func couponSendThroughSandbox(t *testing.T, bin, dir string, env []string, envFile, stockID, openid, appid, outRequestNo string) {
	t.Helper()
	out, err := shell(dir, env, `. "$1" && "$2" coupon send --stock-id "$3" --openid "$4" --appid "$5" --out-request-no "$6"`,
		envFile, bin, stockID, openid, appid, outRequestNo).CombinedOutput()
	if err != nil {
		t.Fatalf("busifavor coupon send: %v\n%s", err, out)
	}
	t.Logf("busifavor coupon send:\n%s", out)
}

// TestWalkThroughAgainstBusifavorSandbox runs the walk-through of README.md
// with the built binaries: `busifavor sandbox` with --route; the backend
// started in a shell that ran `. DIR/sandbox.env` and set only NOTIFY_URL
// and ADDR besides; `busifavor event send URL --keys-dir DIR` accepted
// (exit 0); and a coupon sent through the sandbox, whose COUPON.SEND the
// sandbox delivers to the backend, which records it. Both stop on SIGTERM
// with exit status 0.
func TestWalkThroughAgainstBusifavorSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the command")
	}
	work := t.TempDir()
	busifavorBin := buildBusifavor(t, work)
	backendBin := filepath.Join(work, "merchant-backend")
	build := exec.Command("go", "build", "-o", backendBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
	dir := filepath.Join(work, "sandbox")
	const notifyURL = "https://shop.example.com/wechat/coupons"
	addr := freeAddr(t)
	local := "http://" + addr + "/wechat/coupons"

	// busifavor sandbox --dir DIR --route NOTIFY_URL=LOCAL_URL
	sandbox := start(t, shell(work, base, `exec "$1" sandbox --addr 127.0.0.1:0 --dir "$2" --route "$3"`,
		busifavorBin, dir, notifyURL+"="+local), "to use it (interrupt to stop)\n")
	envFile := filepath.Join(dir, "sandbox.env")
	if !strings.Contains(sandbox.stdout.String(), "run . "+envFile+" to use it") {
		t.Fatalf("the ready line does not name %s:\n%s", envFile, sandbox.stdout.String())
	}

	// busifavor check, after . DIR/sandbox.env: every setting holds and the
	// signed call verifies (exit 0); with one variable missing, exit 2.
	if out, err := shell(work, base, `. "$1" && "$2" check`, envFile, busifavorBin).CombinedOutput(); err != nil {
		t.Fatalf("busifavor check against busifavor sandbox: %v\n%s", err, out)
	}
	err := shell(work, base, `. "$1" && unset WECHATPAY_CERT_SERIAL && "$2" check`, envFile, busifavorBin).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("busifavor check without WECHATPAY_CERT_SERIAL: %v, want exit status 2", err)
	}

	// . DIR/sandbox.env; NOTIFY_URL=… ADDR=… merchant-backend
	backend := start(t, shell(work, append(base, "NOTIFY_URL="+notifyURL, "ADDR="+addr), `. "$1" && exec "$2"`, envFile, backendBin),
		"receiving coupon events")
	backend.eventually(t, "notify URL set")

	// busifavor event send URL --keys-dir DIR, from a shell with nothing set.
	out, err := shell(work, base, `"$1" event send "$2" --keys-dir "$3"`, busifavorBin, local, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("busifavor event send: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "answered 204") {
		t.Fatalf("busifavor event send:\n%s", out)
	}
	backend.eventually(t, "coupon_code="+busifavor.MaskCode("SAMPLE-COUPON-0001"))

	// busifavor coupon send --stock-id 1200000001 --openid O --appid A --out-request-no N
	const openid, appid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "wx233544546545989"
	couponSendThroughSandbox(t, busifavorBin, work, base, envFile, "1200000001", openid, appid, "walk-through-0001")
	// The demo stock's next uploaded code; answered 204 once recorded.
	sandbox.eventually(t, "delivery 1 to "+local+": answered 204")
	if logs := backend.stderr.String(); strings.Count(logs, "coupon event recorded") != 2 ||
		!strings.Contains(logs, "coupon_code="+busifavor.MaskCode("SANDBOX0003")+" event.coupon.stock_id=1200000001") {
		t.Fatalf("the backend did not record the sent coupon's COUPON.SEND:\n%s", logs)
	}
	backend.stop(t)
	sandbox.stop(t)

	// What README.md's query shows: the sample and the coupon sent.
	store := openStore(t, "sqlite:"+filepath.Join(work, DefaultSQLiteFile), io.Discard)
	rows, err := store.db.Query(readmeQuery(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var codes []string
	for rows.Next() {
		var stockID, code, who, channel string
		var at time.Time
		if err := rows.Scan(&stockID, &code, &who, &at, &channel); err != nil {
			t.Fatal(err)
		}
		if stockID == "1200000001" {
			codes = append(codes, code+" "+channel)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(codes) != 2 || !slices.Contains(codes, "SANDBOX0003 "+string(busifavor.SendChannelAPI)) {
		t.Fatalf("README.md's query shows %q for stock 1200000001, want the sample event's row and SANDBOX0003's (sent through the API):\n%s", codes, backend.stderr.String())
	}
	t.Logf("the backend's log:\n%s\nthe sandbox's:\n%s%s", backend.stderr.String(), sandbox.stdout.String(), sandbox.stderr.String())
}
