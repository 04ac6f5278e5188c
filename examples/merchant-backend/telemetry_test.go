package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// consoleSpan is what this test reads of a span stdouttrace printed.
type consoleSpan struct {
	Name        string
	SpanContext struct{ SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
	Events []struct{ Name string }
}

func (s consoleSpan) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// TestConsoleTraces runs the backend with OTEL_TRACES_EXPORTER=console
// against busifavortest and delivers one event twice: stdout holds the
// start-up call's span, and per delivery the event's span (handled, then
// duplicate) with the deduplicator's calls; Record's span nests in the
// first; neither the openid nor the coupon code is printed.
func TestConsoleTraces(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
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
		"NOTIFY_URL=https://shop.example.com/wechat/coupons", "ADDR=" + addr, "OTEL_TRACES_EXPORTER=console"}
	for k, v := range creds {
		env = append(env, k+"="+v)
	}
	p := startBackend(t, bin, dir, env)
	const openid, code = "oh-394z-6CGkNoJrsDLTTUKiAnp4", "CONSOLE-CODE-0001"
	_, body := fake.CouponNotification(busifavor.CouponSend{CouponCode: code, StockID: "1200000001", OpenID: openid,
		SendTime: fake.Now(), SendChannel: busifavor.SendChannelAPI, SendMerchant: fake.MchID()})
	for range 2 {
		if status, err := deliver(fake, "http://"+addr+"/wechat/coupons", body); err != nil || status != http.StatusNoContent {
			t.Fatalf("the event: %d %v\n%s", status, err, p.stderr.String())
		}
	}
	p.stop(t) // flushes the spans

	out := p.stdout.String()
	if strings.Contains(out, openid) || strings.Contains(out, code) {
		t.Fatalf("a span holds the openid or the code:\n%s", out)
	}
	var spans []consoleSpan
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s consoleSpan
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		spans = append(spans, s)
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	if want := "busifavor/SetCallbacks record coupon event busifavor/event busifavor/event"; strings.Join(names, " ") != want {
		t.Fatalf("spans %q, want %q:\n%s", names, want, out)
	}
	set, record, handled, duplicate := spans[0], spans[1], spans[2], spans[3]
	if set.attr("url.template") != "/v3/marketing/busifavor/callbacks" || set.attr("http.response.status_code") != float64(200) {
		t.Errorf("the start-up call's span: %+v", set)
	}
	if record.Parent.SpanID != handled.SpanContext.SpanID {
		t.Errorf("Record's span does not nest in the event's: %+v %+v", record, handled)
	}
	for s, want := range map[*consoleSpan]string{&handled: "handled", &duplicate: "duplicate"} {
		if s.attr("busifavor.event.outcome") != want || s.attr("busifavor.event.type") != "COUPON.SEND" || s.attr("http.response.status_code") != float64(204) {
			t.Errorf("the %s event's span: %+v", want, *s)
		}
	}
	if len(handled.Events) != 2 || handled.Events[0].Name != "busifavor.dedup.claim" || handled.Events[1].Name != "busifavor.dedup.complete" {
		t.Errorf("the deduplicator's calls: %+v", handled.Events)
	}
}
