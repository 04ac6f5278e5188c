package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchstatCSV is benchstat -format csv output as benchstat v0.0.0-20260908200009
// prints it for two rows and three impls (two units shown).
const benchstatCSV = `goos: linux
goarch: amd64
pkg: github.com/busifavor-go/busifavor
cpu: Test CPU
,wechatpay-go,,busifavor,,,,rsa-floor,,,
,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P
GetCallbacks-2,0.001,3%,0.00099,2%,-1.00%,p=0.019 n=10,0.00095,1%,-5.00%,p=0.000 n=10
ListUserCoupons/items=100-2,0.004,∞,0.005,∞,~,p=0.100 n=3,0.001,∞,~,p=0.100 n=3
SendCoupon-2,0.001,3%,0.00106,2%,+6.00%,p=0.010 n=10,0.00095,1%,-5.00%,p=0.000 n=10
BuildPartnership-2,,,0.00098,1%,,,0.00096,2%,,
geomean,0.002,,0.0022,,+9.38%,,0.001,,-25.73%,

,wechatpay-go,,busifavor,,,,rsa-floor,,,
,allocs/op,CI,allocs/op,CI,vs base,P,allocs/op,CI,vs base,P
GetCallbacks-2,88,0%,86,0%,-2.27%,p=0.000 n=10,11,0%,-87.50%,p=0.000 n=10
ListUserCoupons/items=100-2,10972,∞,10861,∞,~,p=0.100 n=3,11,∞,~,p=0.100 n=3
geomean,982,,966,,-1%,,11,,-98%,
`

func TestParseCSV(t *testing.T) {
	st, err := parseCSV([]byte(benchstatCSV))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"GetCallbacks-2", "ListUserCoupons/items=100-2", "SendCoupon-2", "BuildPartnership-2"}; strings.Join(st.rows, ",") != strings.Join(want, ",") {
		t.Fatalf("rows %v, want %v", st.rows, want)
	}
	c := st.get("sec/op", "GetCallbacks-2", "busifavor")
	if !c.hasValue || c.median != 0.00099 || c.ci != "2%" || c.vsBase != "-1.00%" || c.p != "p=0.019 n=10" {
		t.Errorf("busifavor GetCallbacks: %+v", c)
	}
	if c := st.get("allocs/op", "ListUserCoupons/items=100-2", "wechatpay-go"); c.median != 10972 || c.vsBase != "" {
		t.Errorf("wechatpay-go allocs: %+v", c)
	}
	var md strings.Builder
	writeCalls(&md, st)
	for _, want := range []string{
		"| GetCallbacks |  | 990 µs ±2% | 1.00 ms ±3% | 0.990 | -1.00% (p=0.019 n=10) | no | 950 µs ±1% | 1.042 | 86 | 88 |",
		"| ListUserCoupons | 100 | 5.00 ms | 4.00 ms | 1.250 | ~ (p=0.100 n=3) | no |", // slower, but not significantly
		"| SendCoupon |  | 1.06 ms ±2% | 1.00 ms ±3% | 1.060 | +6.00% (p=0.010 n=10) | **yes** |",
		"| BuildPartnership |  | 980 µs ±1% | – | – | – | – | 960 µs ±2% | 1.021 |", // beside the floor only
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, md.String())
		}
	}
}

func TestRowName(t *testing.T) {
	for row, want := range map[string][2]string{
		"GetStock-2":                        {"GetStock", ""},
		"ListUserCoupons/items=20-16":       {"ListUserCoupons", "20"},
		"ListSubsidyPayReceipts/items=100":  {"ListSubsidyPayReceipts", "100"},
		"CreateSubsidyReturnReceipt-2":      {"CreateSubsidyReturnReceipt", ""},
		"ParseEvent/impl=busifavor-request": {"ParseEvent", ""},
		"DecodeListUserCoupons/n=100-2":     {"DecodeListUserCoupons", "100"},
	} {
		if e, n := rowName(row); e != want[0] || n != want[1] {
			t.Errorf("rowName(%q) = %q, %q; want %q, %q", row, e, n, want[0], want[1])
		}
	}
}

func TestSplitAndCount(t *testing.T) {
	out := "goos: linux\ncpu: X\nBenchmarkGetStock/impl=busifavor-2 \t 10\t 1000 ns/op\n" +
		"BenchmarkGetStock/impl=busifavor-2 \t 10\t 1000 ns/op\nBenchmarkParseEvent/impl=busifavor-2 \t 10\t 100 ns/op\n" +
		"BenchmarkValidate-2 \t 10\t 10 ns/op\nPASS\nok  \tgithub.com/busifavor-go/busifavor\t1.0s\n"
	calls, events, other := split([]byte(out))
	for name, got := range map[string][]byte{"calls": calls, "events": events, "other": other} {
		if !strings.HasPrefix(string(got), "goos: linux\ncpu: X\n") {
			t.Errorf("%s lacks the configuration: %q", name, got)
		}
	}
	if strings.Count(string(calls), "Benchmark") != 2 || strings.Count(string(events), "Benchmark") != 1 || strings.Count(string(other), "Benchmark") != 1 {
		t.Errorf("split: %q %q %q", calls, events, other)
	}
	if n := runsPerBenchmark([]byte(out)); n != 2 {
		t.Errorf("runs %d, want 2", n)
	}
}

func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	doc := "# B\n\n" + beginMarker + "\nold\n" + endMarker + "\n\n## After\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceBetween(path, beginMarker, endMarker, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# B\n\n" + beginMarker + "\n\nnew\n\n" + endMarker + "\n\n## After\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}

// annotateOutput is callgrind_annotate --auto=no output for a run with
// --separate-callers, shortened: signing work (a crypto/ function, or the
// runtime working for one), background work (the collector the framework
// starts, preemption) and the client's own.
const annotateOutput = `--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                 file:function
--------------------------------------------------------------------------------
700,000 (70.00%)  /usr/local/go/src/crypto/internal/fips140/bigmod/nat_amd64.s:crypto/internal/fips140/bigmod.addMulVVW1024.abi0 [/tmp/bench.test]
100,000 (10.00%)  /usr/local/go/src/runtime/memmove_amd64.s:runtime.memmove'crypto/internal/fips140/bigmod.(*Nat).montgomeryMul'crypto/internal/fips140/bigmod.(*Nat).Exp [/tmp/bench.test]
 90,000 ( 9.00%)  /usr/local/go/src/runtime/mgcmark.go:runtime.scanobject'runtime.gcDrain'runtime.gcBgMarkWorker.func2 [/tmp/bench.test]
 10,000 ( 1.00%)  /usr/local/go/src/runtime/proc.go:runtime.findRunnable'runtime.schedule'runtime.goschedImpl'runtime.gopreempt_m [/tmp/bench.test]
 60,000 ( 6.00%)  /usr/local/go/src/runtime/memmove_amd64.s:runtime.memmove'github.com/busifavor-go/busifavor.responseOf [/tmp/bench.test]
 40,000 ( 4.00%)  /work/main/decode.go:github.com/busifavor-go/busifavor.(*decodePlan).decode'github.com/busifavor-go/busifavor.decodeObject [/tmp/bench.test]
`

func TestParseAnnotate(t *testing.T) {
	c, err := parseAnnotate([]byte(annotateOutput))
	if err != nil {
		t.Fatal(err)
	}
	if c.total != 900_000 || c.signing != 800_000 || c.client() != 100_000 {
		t.Errorf("total %.0f, signing %.0f, client %.0f; want 900000, 800000, 100000", c.total, c.signing, c.client())
	}
	// A line lost (the sum no longer the program total) is an error, not a wrong count.
	broken := strings.Replace(annotateOutput, " 40,000 ( 4.00%)", " 40,000 4.00%", 1)
	if _, err := parseAnnotate([]byte(broken)); err == nil {
		t.Error("a table that does not sum to the program total was accepted")
	}
}

func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		ours, ref spread
		want      string
	}{
		{spread{median: 10, low: 9, high: 11}, spread{median: 13, low: 12, high: 14}, "yes"},
		{spread{median: 10, low: 9, high: 12}, spread{median: 13, low: 11, high: 14}, "≈"},
		{spread{median: 13, low: 12, high: 14}, spread{median: 10, low: 9, high: 11}, "**no**"},
		{spread{median: 10, low: 10, high: 10}, spread{median: 10, low: 10, high: 10}, "≈"},
	} {
		if got := verdict(c.ours, c.ref); got != c.want {
			t.Errorf("verdict(%v, %v) = %s, want %s", c.ours, c.ref, got, c.want)
		}
	}
	s := spreadOf([]instrCount{{total: 3}, {total: 1}, {total: 2}}, func(c instrCount) float64 { return c.total })
	if s != (spread{median: 2, low: 1, high: 3}) {
		t.Errorf("spreadOf = %v", s)
	}
}
