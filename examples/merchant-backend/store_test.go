package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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

// crashChildEnv makes the test binary run as a backend that kills itself
// between the commit and the deduplicator's Complete (see crashChild).
const crashChildEnv = "BUSIFAVOR_CRASH_CHILD"

// TestMain runs the tests, then stops the PostgreSQL server they started
// and says which tests were skipped for want of PostgreSQL (go test prints
// it when run in this directory without package arguments, the README's
// command, where a skip would otherwise go unseen). With crashChildEnv set
// it is a crashing backend instead.
func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	code := m.Run()
	stopPostgres()
	if notice := postgresSkipNotice(); notice != "" {
		fmt.Fprint(os.Stderr, notice)
	}
	os.Exit(code)
}

// crashChild runs the backend as main does, configured by the environment,
// except that once an event is committed it dies by SIGKILL: after the
// commit, before the deduplicator's Complete and before any answer, as a
// power cut or an OOM kill would stop it.
func crashChild() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	b, _, err := newBackend(ctx, os.Getenv, logger)
	if err != nil {
		log.Fatal(err)
	}
	record := b.Record
	b.Record = func(ctx context.Context, ev *busifavor.CouponEvent) error {
		if err := record(ctx, ev); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "committed: dying before Complete")
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	log.Fatal(serve(ctx, b, os.Getenv))
}

// forEachDatabase runs f on an empty SQLite file and on an empty
// PostgreSQL database (skipped, or failed under .ci/run, without
// PostgreSQL), with the database's DATABASE_URL.
func forEachDatabase(t *testing.T, f func(t *testing.T, databaseURL string)) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, "sqlite:"+filepath.Join(t.TempDir(), "backend.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, postgresDatabase(t))
	})
}

// openStore opens a Store on databaseURL for the test, logging to logs.
func openStore(t *testing.T, databaseURL string, logs io.Writer) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), databaseURL, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// count returns the number of rows in table.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// deliver posts a notification body to url with a fresh signature, as
// WeChat Pay's redeliveries are signed afresh, and returns the status.
func deliver(fake *busifavortest.Server, url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = fake.SignNotification(body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCrashBetweenCommitAndComplete kills a backend process between the
// commit of an event and the deduplicator's Complete, then delivers the
// event again, as WeChat Pay does when it got no answer, to a new
// instance (the deduplicator's memory died with the process): it is
// answered 204, and the database holds one row.
func TestCrashBetweenCommitAndComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a backend process")
	}
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		fake := busifavortest.NewServer()
		defer fake.Close()
		dir := t.TempDir()
		creds, err := fake.WriteCredentials(dir)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"WECHATPAY_BASE_URL": fake.URL, "NOTIFY_URL": "https://shop.example.com/wechat/coupons",
			"ADDR": freeAddr(t), "DATABASE_URL": databaseURL}
		for k, v := range creds {
			env[k] = v
		}
		store := openStore(t, databaseURL, io.Discard)

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, crashChildEnv + "=1"}
		for k, v := range env {
			child.Env = append(child.Env, k+"="+v)
		}
		var stderr lockedBuffer
		child.Stderr = &stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		defer child.Process.Kill()

		_, body := fake.CouponNotification(busifavor.CouponSend{CouponCode: "C-3001", StockID: "1234567891",
			OpenID: "oh-394z-6CGkNoJrsDLTTUKiAnp4", SendChannel: busifavor.SendChannelAPI})
		url := "http://" + env["ADDR"] + "/wechat/coupons"
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "receiving coupon events"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the backend never listened:\n%s", stderr.String())
			}
		}
		if status, err := deliver(fake, url, body); err == nil {
			t.Fatalf("the crashing backend answered %d:\n%s", status, stderr.String())
		}
		err = child.Wait()
		if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the backend did not die by SIGKILL: %v\n%s", err, stderr.String())
		}
		if n := count(t, store, "coupon_sends"); n != 1 {
			t.Fatalf("after the crash: %d coupon_sends rows, want the 1 committed", n)
		}

		// WeChat Pay got no answer: it delivers again, to a restarted
		// instance whose deduplicator has never seen the event.
		var logs lockedBuffer
		b, restarted, err := newBackend(context.Background(), func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer restarted.Close()
		srv := httptest.NewServer(handlerOf(t, b))
		defer srv.Close()
		for range 2 {
			if status, err := deliver(fake, srv.URL+"/wechat/coupons", body); err != nil || status != http.StatusNoContent {
				t.Fatalf("redelivery: %d %v\n%s", status, err, logs.String())
			}
		}
		sends, inbox := count(t, store, "coupon_sends"), count(t, store, "inbox")
		t.Logf("rows after the crash and two redeliveries: coupon_sends %d, inbox %d", sends, inbox)
		if sends != 1 || inbox != 1 {
			t.Fatalf("coupon_sends %d, inbox %d rows; want 1 and 1", sends, inbox)
		}
		if !strings.Contains(logs.String(), "coupon event already recorded") {
			t.Fatalf("the redelivery was not answered by the inbox:\n%s", logs.String())
		}
	})
}

// TestTwoInstancesOneEvent runs two instances on one database, each with
// its own deduplicator (as two instances without a shared Redis), and
// delivers the same event to both at once: both answer 204, and the
// database holds one row.
func TestTwoInstancesOneEvent(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		fake := busifavortest.NewServer()
		defer fake.Close()
		parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier())
		if err != nil {
			t.Fatal(err)
		}

		// The two start together: their schemas run at once too.
		var stores [2]*Store
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				s, err := OpenStore(context.Background(), databaseURL, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(func() { s.Close() })
				stores[i] = s
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}

		// Each instance waits in Record until the other is there too, so
		// that the two transactions run at once.
		var arrived sync.WaitGroup
		arrived.Add(2)
		together := make(chan struct{})
		go func() { arrived.Wait(); close(together) }()
		var urls [2]string
		for i, s := range stores {
			seen, err := busifavor.NewMemoryDeduplicator(100, busifavor.WithDoneTTL(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			b := &Backend{Parser: parser, Seen: seen, NotifyURL: "https://shop.example.com/wechat/coupons", Log: slog.New(slog.DiscardHandler),
				Record: func(ctx context.Context, ev *busifavor.CouponEvent) error {
					arrived.Done()
					select {
					case <-together:
					case <-ctx.Done():
						return errors.New("the other instance never came")
					}
					return s.Record(ctx, ev)
				}}
			srv := httptest.NewServer(handlerOf(t, b))
			defer srv.Close()
			urls[i] = srv.URL + "/wechat/coupons"
		}

		_, body := fake.CouponNotification(busifavor.CouponSend{CouponCode: "C-4001", StockID: "1234567891", SendChannel: busifavor.SendChannelMiniApp})
		var statuses [2]int
		for i, url := range urls {
			wg.Go(func() {
				status, err := deliver(fake, url, body)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = status
			})
		}
		wg.Wait()
		sends, inbox := count(t, stores[0], "coupon_sends"), count(t, stores[0], "inbox")
		t.Logf("answers %v; rows: coupon_sends %d, inbox %d", statuses, sends, inbox)
		if statuses != [2]int{http.StatusNoContent, http.StatusNoContent} {
			t.Fatalf("answers %v, want 204 from both", statuses)
		}
		if sends != 1 || inbox != 1 {
			t.Fatalf("coupon_sends %d, inbox %d rows; want 1 and 1", sends, inbox)
		}
	})
}

// TestRecordRollsBackWhole checks both sides of the transaction: a Record
// that fails after its inbox row leaves no inbox row (the event is handled
// at the next delivery, not lost), and one that succeeds writes the row as
// the event had it.
func TestRecordRollsBackWhole(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		s := openStore(t, databaseURL, io.Discard)
		sendTime, err := busifavor.ParseTime("2025-03-25T10:30:00.125+08:00") // as events carry it
		if err != nil {
			t.Fatal(err)
		}
		ev := &busifavor.CouponEvent{ID: "8b33f79f-8869-5ae5-b41b-3c0b59f957d0", EventType: busifavor.EventTypeCouponSend,
			Coupon: &busifavor.CouponSend{CouponCode: "C-5001", StockID: "1234567891", OpenID: "oh-394z-6CGkNoJrsDLTTUKiAnp4",
				SendTime: sendTime, SendChannel: busifavor.SendChannelH5}}

		// The coupon_sends insert fails (its table is gone); the inbox
		// row inserted before it in the transaction goes with it.
		if _, err := s.db.Exec("ALTER TABLE coupon_sends RENAME TO coupon_sends_away"); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "coupon_sends") {
			t.Fatalf("Record without its table: %v", err)
		}
		if n := count(t, s, "inbox"); n != 0 {
			t.Fatalf("a failed Record left %d inbox rows", n)
		}
		if _, err := s.db.Exec("ALTER TABLE coupon_sends_away RENAME TO coupon_sends"); err != nil {
			t.Fatal(err)
		}

		for range 2 {
			if err := s.Record(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		var stock, code, openid, channel string
		var at time.Time
		if err := s.db.QueryRow("SELECT stock_id, coupon_code, openid, send_time, send_channel FROM coupon_sends").
			Scan(&stock, &code, &openid, &at, &channel); err != nil {
			t.Fatal(err)
		}
		if stock != "1234567891" || code != "C-5001" || openid != ev.Coupon.OpenID || !at.Equal(sendTime) || channel != string(busifavor.SendChannelH5) {
			t.Fatalf("row %s %s %s %s %s", stock, code, openid, at, channel)
		}
		if sends, inbox := count(t, s, "coupon_sends"), count(t, s, "inbox"); sends != 1 || inbox != 1 {
			t.Fatalf("coupon_sends %d, inbox %d rows; want 1 and 1", sends, inbox)
		}
	})
}

// TestOtherEventTypesAreNotAcknowledged: an event of a type the store does
// not handle, or a COUPON.SEND without its coupon, is refused (500, so
// WeChat Pay delivers it again) and leaves no inbox row.
func TestOtherEventTypesAreNotAcknowledged(t *testing.T) {
	s := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "backend.db"), io.Discard)
	err := s.Record(context.Background(), &busifavor.CouponEvent{ID: "e-1", EventType: "COUPON.USE"})
	if err == nil || !strings.Contains(err.Error(), `"COUPON.USE" is not handled`) {
		t.Fatalf("Record of COUPON.USE: %v", err)
	}
	if n := count(t, s, "inbox"); n != 0 {
		t.Fatalf("%d inbox rows", n)
	}
	err = s.Record(context.Background(), &busifavor.CouponEvent{ID: "e-2", EventType: busifavor.EventTypeCouponSend})
	if err == nil || !strings.Contains(err.Error(), "without its coupon") {
		t.Fatalf("Record of a COUPON.SEND without its coupon: %v", err)
	}
	if n := count(t, s, "inbox"); n != 0 {
		t.Fatalf("%d inbox rows", n)
	}
}

// TestSchemaRunsAgain opens a database twice: the second start-up finds
// the tables and keeps their rows.
func TestSchemaRunsAgain(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, databaseURL string) {
		s := openStore(t, databaseURL, io.Discard)
		ev := &busifavor.CouponEvent{ID: "e-1", EventType: busifavor.EventTypeCouponSend, Coupon: &busifavor.CouponSend{CouponCode: "C-1", StockID: "1"}}
		if err := s.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		again := openStore(t, databaseURL, io.Discard)
		if n := count(t, again, "coupon_sends"); n != 1 {
			t.Fatalf("%d rows after a second start-up", n)
		}
	})
}

// TestOpenStoreRefusesUnknownURLs names the forms DATABASE_URL takes.
func TestOpenStoreRefusesUnknownURLs(t *testing.T) {
	for _, u := range []string{"mysql://u@h/db", "/tmp/x.db", "sqlite:/tmp/x?.db"} {
		_, err := OpenStore(context.Background(), u, slog.New(slog.DiscardHandler))
		if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_URL: ") {
			t.Errorf("OpenStore(%q): %v", u, err)
		}
	}
}
