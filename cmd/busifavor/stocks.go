package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// stockCommands create and read stocks and manage their uploaded codes.
var stockCommands = []command{
	{
		name: "stock create", synopsis: "stock create --file stock.json [--json]",
		help: `Creates a coupon stock (商家券批次) from a JSON file holding the request
body of POST /v3/marketing/busifavor/stocks, as WeChat Pay documents it.
The file is checked first: an unknown field, or any broken rule, is listed
with its JSON path, nothing is sent and the exit status is 2. The file's
out_request_no makes running the command again safe: the same number
creates one stock.

WeChat Pay requires coupon_available_time.available_begin_time and
available_end_time. Against WeChat Pay a file without them is refused
(exit status 2, nothing sent) and the command prints the two lines to add:
a window it took from the clock would differ on every run, so a rerun after
a lost answer would send another body under the same out_request_no, which
WeChat Pay refuses, and a new number would create a second stock with its
own budget. In the sandbox, which starts afresh on every run, such a file
gets a window from now for 90 days, said on stderr; the shipped example
leaves them out, so that it runs whatever the date.

example:
  busifavor stock create --file examples/stock/stock.json
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.file, "file", "", "the JSON request body (required; - reads stdin)")
			callFlags(fs, o, 30*time.Second)
		},
		run: createStock,
	},
	{
		name: "stock get", synopsis: "stock get STOCK_ID [--json]", arg: "STOCK_ID",
		help: `Reads a coupon stock: its rules, state, caps and code counts.

example:
  busifavor stock get 1200000001 --json
`,
		flags: func(fs *flag.FlagSet, o *options) { callFlags(fs, o, 30*time.Second) },
		run:   getStock,
	},
	{
		name: "codes upload", synopsis: "codes upload STOCK_ID --file codes.txt [--request-no-prefix P] [--json]", arg: "STOCK_ID",
		help: `Uploads coupon codes to a MERCHANT_UPLOAD stock, one code per line of the
file (blank lines skipped), in batches of 200. Every code is checked first;
a bad one is named with its line and nothing is sent. A progress line goes
to stderr after each batch of a long upload.

Each batch carries upload_request_no PREFIX_N. The prefix defaults to a
digest of the stock id and the codes, so running the same command again
after an interruption finishes the upload without storing a code twice.
A changed file needs a new prefix: WeChat Pay answers a repeated
upload_request_no with its first answer, so a changed list under an old
--request-no-prefix is refused (exit status 1): its codes are UNREPORTED.
An interrupted upload (Ctrl-C, a lost answer, a refusal) exits 1 and says
what became of each batch: a batch sent whose answer was lost is "unknown"
(WeChat Pay may have stored it), the batches after it "not sent"; the same
command run again finishes the job. Lines may be of any length: an
over-long code is refused with its line number and nothing is sent.

example:
  busifavor codes upload 1200000001 --file examples/stock/codes.txt
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.file, "file", "", "the codes, one per line (required; - reads stdin)")
			fs.StringVar(&o.prefix, "request-no-prefix", "", "upload_request_no prefix for the batches (default: a digest of the stock id and codes)")
			callFlags(fs, o, 10*time.Minute)
		},
		run: uploadCodes,
	},
	{
		name: "codes list", synopsis: "codes list STOCK_ID [--status AVAILABLE|DISPATCHED] [--show-openid] [--json]", arg: "STOCK_ID",
		help: `Lists every code uploaded to a stock, page by page, with its state.
Openids are masked unless --show-openid is given.

example:
  busifavor codes list 1200000001 --status AVAILABLE
`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.status, "status", "", "list only codes in this state: AVAILABLE or DISPATCHED")
			fs.BoolVar(&o.showOpenID, "show-openid", false, "print openid and unionid unmasked (personal data)")
			callFlags(fs, o, 2*time.Minute)
		},
		run: listCodes,
	},
}

// readInput reads --file, or stdin for "-".
func readInput(file string) ([]byte, error) {
	if file == "" {
		return nil, errors.New("--file is required")
	}
	if file == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(file)
}

// defaultWindowDays is how long the window stock create suggests (and, in
// the sandbox, sets) for a file without one is open.
const defaultWindowDays = 90

// beijing is WeChat Pay's time zone, in which its pages write times.
var beijing = time.FixedZone("CST", 8*60*60)

// windowLines are the lines stock create asks a file without an available
// time to add: defaultWindowDays from the next full hour after now, in
// WeChat Pay's zone and shape.
func windowLines(now time.Time) string {
	begin := now.In(beijing).Truncate(time.Hour).Add(time.Hour)
	end := begin.AddDate(0, 0, defaultWindowDays)
	return fmt.Sprintf("  Add these lines at the start of \"coupon_available_time\": {…} (%d days from the next full hour; change them as you need):\n"+
		"    \"available_begin_time\": \"%s\",\n    \"available_end_time\": \"%s\",\n",
		defaultWindowDays, begin.Format(time.RFC3339), end.Format(time.RFC3339))
}

func createStock(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	b, err := readInput(o.file)
	if err != nil {
		if errors.As(err, new(*fs.PathError)) {
			err = readError("--file", o.file, "the stock request", err)
		}
		fmt.Fprintf(stderr, "busifavor stock create: %v\n", err)
		return exitUsage
	}
	var req busifavor.CreateStockRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(stderr, "busifavor stock create: %s is not a stock request: %v; nothing was sent\n", shown(o.file), err)
		return exitUsage
	}
	if at := &req.CouponUseRule.CouponAvailableTime; at.AvailableBeginTime.IsZero() && at.AvailableEndTime.IsZero() {
		if env.sandbox == nil {
			fmt.Fprintf(stderr, "busifavor stock create: %s gives no coupon_use_rule.coupon_available_time.available_begin_time "+
				"and available_end_time, which WeChat Pay requires; nothing was sent.\n"+
				"  The command does not take them from the clock: a rerun after a lost answer would then send another body under the same\n"+
				"  out_request_no, which WeChat Pay refuses, and a new number would create a second stock with its own budget.\n%s",
				shown(o.file), windowLines(env.now()))
			return exitUsage
		}
		// The sandbox starts afresh on every run: no rerun can meet an
		// earlier attempt there.
		at.AvailableBeginTime = env.now().Truncate(time.Second)
		at.AvailableEndTime = at.AvailableBeginTime.AddDate(0, 0, defaultWindowDays)
		fmt.Fprintf(stderr, "busifavor stock create: no available time in %s: in the sandbox, available from now for %d days (%s to %s).\n"+
			"  Against WeChat Pay the command refuses such a file, so that a rerun sends the same request.\n%s",
			shown(o.file), defaultWindowDays, localTime(at.AvailableBeginTime), localTime(at.AvailableEndTime), windowLines(env.now()))
	}
	resp, err := env.client.CreateStock(ctx, req)
	if err != nil {
		status := report(stderr, err, o)
		if errors.Is(err, busifavor.ErrResourceAlreadyExists) {
			fmt.Fprintf(stderr, "  out_request_no %s was used before with a different request. If an earlier run lost its answer, that stock\n"+
				"  exists: do not change out_request_no (a new number creates a second stock, with its own budget); run again with\n"+
				"  the file as it was then, which answers with that stock.\n", req.OutRequestNo)
		}
		return status
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	fmt.Fprintf(stdout, "stock id:    %s\ncreated:     %s\nrequest id:  %s\n", resp.StockID, localTime(resp.CreateTime), resp.RequestID)
	return exitOK
}

func getStock(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	resp, err := env.client.GetStock(ctx, busifavor.GetStockRequest{StockID: o.arg})
	if err != nil {
		if env.sandbox != nil {
			fmt.Fprintln(stderr, "busifavor: the sandbox starts afresh on every run: stocks created by earlier runs are gone")
		}
		return report(stderr, err, o)
	}
	if o.asJSON {
		return printJSON(stdout, resp)
	}
	at := resp.CouponUseRule.CouponAvailableTime
	fmt.Fprintf(stdout, "stock id:    %s\nname:        %s\ntype:        %s\nstate:       %s\ncode mode:   %s\navailable:   %s to %s\nmax coupons: %d (%d per user)\n",
		resp.StockID, resp.StockName, resp.StockType, resp.StockState, resp.CouponCodeMode,
		localTime(at.AvailableBeginTime), localTime(at.AvailableEndTime), resp.StockSendRule.MaxCoupons, resp.StockSendRule.MaxCouponsPerUser)
	if n := resp.CouponCodeCount; n != nil {
		fmt.Fprintf(stdout, "codes:       %d uploaded, %d available\n", n.TotalCount, n.AvailableCount)
	}
	fmt.Fprintf(stdout, "request id:  %s\n", resp.RequestID)
	return exitOK
}

func uploadCodes(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	b, err := readInput(o.file)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor codes upload: %v\n", err)
		return exitUsage
	}
	// Lines of any length: an over-long one is a code the check below
	// refuses by its line number, never the silent end of the list.
	var codes []string
	var lines []int // the file line of each code, for error messages
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			codes, lines = append(codes, line), append(lines, i+1)
		}
	}
	prefix := o.prefix
	if prefix == "" {
		sum := sha256.Sum256([]byte(o.arg + "\n" + strings.Join(codes, "\n")))
		prefix = "codes-" + hex.EncodeToString(sum[:12])
	}
	req := busifavor.BatchUploadCouponCodesRequest{StockID: o.arg, Codes: codes, UploadRequestNoPrefix: prefix}
	if len(codes) > busifavor.MaxCodesPerUpload {
		req.Progress = func(done, total int) { fmt.Fprintf(stderr, "busifavor: %d of %d codes done\n", done, total) }
	}
	resp, err := env.client.BatchUploadCouponCodes(ctx, req)
	var ve *busifavor.ValidationError
	if errors.As(err, &ve) {
		for i, f := range ve.Fields {
			var k int
			if _, scanErr := fmt.Sscanf(f.Field, "codes[%d]", &k); scanErr == nil && k < len(lines) {
				ve.Fields[i].Field = fmt.Sprintf("line %d", lines[k])
			}
		}
	}
	if resp == nil {
		return report(stderr, err, o)
	}
	if o.asJSON {
		printJSON(stdout, resp)
	} else {
		fmt.Fprintf(stdout, "uploaded:    %d\nexisting:    %d\nrepeats:     %d\nfailed:      %d\n",
			resp.Counts[busifavor.UploadOutcomeUploaded], resp.Counts[busifavor.UploadOutcomeExists], resp.Counts[busifavor.UploadOutcomeDuplicate],
			resp.Counts[busifavor.UploadOutcomeFailed])
		if n := resp.Counts[busifavor.UploadOutcomeUnknown]; n > 0 {
			fmt.Fprintf(stdout, "unknown:     %d (sent, answer lost: WeChat Pay may have stored them)\n", n)
		}
		fmt.Fprintf(stdout, "not sent:    %d\n", resp.Counts[busifavor.UploadOutcomeNotSent])
		for _, r := range resp.Results {
			if r.Outcome == busifavor.UploadOutcomeFailed || r.Outcome == busifavor.UploadOutcomeUnreported {
				fmt.Fprintf(stdout, "  %s %s %s %s\n", r.Outcome, r.Code, r.FailCode, r.Reason)
			}
		}
	}
	if err != nil {
		status := report(stderr, err, o)
		if errors.Is(err, busifavor.ErrRequestNoReused) {
			fmt.Fprintf(stderr, "  the codes changed since --request-no-prefix %s was first used: run again with a new --request-no-prefix,\n"+
				"  or without one (the default prefix is a digest of the stock id and the codes, so a changed file gets its own)\n", prefix)
		} else {
			// Interrupted, lost or refused: the batch numbers make a rerun safe.
			advice := "run the same command again to finish the upload: batches already stored are answered again and nothing is stored twice"
			var apiErr *busifavor.APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode < 500 && !busifavor.IsRetryable(err) &&
				!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				advice = "fix what the refusal names, then " + advice
			}
			fmt.Fprintf(stderr, "  %s\n", advice)
		}
		return status
	}
	return exitOK
}

func listCodes(ctx context.Context, env *environment, o *options, stdout, stderr io.Writer) int {
	req := busifavor.ListCouponCodesRequest{StockID: o.arg, Status: busifavor.CouponCodeStatus(o.status)}
	if err := req.Validate(); err != nil {
		return report(stderr, err, o)
	}
	n := 0
	for c, err := range env.client.AllCouponCodes(ctx, req) {
		if err != nil {
			return report(stderr, err, o)
		}
		if !o.showOpenID {
			c = c.Masked()
		}
		n++
		if o.asJSON {
			_ = printJSONLine(stdout, c)
			continue
		}
		fmt.Fprintf(stdout, "%-32s %-10s %s", c.Code, c.CodeStatus, localTime(c.UploadTime))
		if c.CouponCode != "" {
			fmt.Fprintf(stdout, "  coupon %s %s", c.CouponCode, c.OpenID)
		}
		fmt.Fprintln(stdout)
	}
	if !o.asJSON {
		fmt.Fprintf(stderr, "busifavor: %d codes\n", n)
	}
	return exitOK
}

// printJSON writes v as indented JSON, its times in WeChat Pay's shape
// (2026-12-01T10:00:00.000+08:00) whatever the command.
func printJSON(w io.Writer, v any) int {
	b, err := busifavortest.Marshal(v)
	var out bytes.Buffer
	if err == nil {
		err = json.Indent(&out, b, "", "  ")
	}
	if err != nil {
		fmt.Fprintf(w, "busifavor: cannot print the answer as JSON: %v\n", err)
		return exitAPI
	}
	out.WriteByte('\n')
	_, _ = out.WriteTo(w)
	return exitOK
}

// printJSONLine writes v as one line of JSON, its times as printJSON's.
func printJSONLine(w io.Writer, v any) error {
	b, err := busifavortest.Marshal(v)
	if err == nil {
		_, err = w.Write(append(b, '\n'))
	}
	return err
}

// localTime formats t for people, or "-" when it is unset.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}
