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
	if want := []string{"GetCallbacks-2", "ListUserCoupons/items=100-2", "BuildPartnership-2"}; strings.Join(st.rows, ",") != strings.Join(want, ",") {
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
		"| GetCallbacks |  | 990 µs ±2% | 1.00 ms ±3% | 0.990 | -1.00% (p=0.019 n=10) | yes | 950 µs ±1% | 1.042 | 86 | 88 |",
		"| ListUserCoupons | 100 | 5.00 ms | 4.00 ms | 1.250 | ~ (p=0.100 n=3) | **no** |",
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
