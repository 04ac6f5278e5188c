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
	"unicode/utf8"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// stockCommands create, read and change stocks and manage their uploaded
// codes.
var stockCommands = []command{
	{
		name: "stock create", group: groupStocks, summary: "create a coupon stock", usage: "--file stock.json [--json]",
		help: `Creates a coupon stock (商家券批次) from a JSON file holding the request
body of POST /v3/marketing/busifavor/stocks, as WeChat Pay documents it.
The file is checked first: broken JSON is named by line and column, an
unknown field or any broken rule is listed with its JSON path, nothing is
sent and the exit status is 2. The file's out_request_no makes running the
command again safe: the same number creates one stock.

WeChat Pay requires coupon_available_time.available_begin_time and
available_end_time. Against WeChat Pay a file without them is refused
(exit status 2, nothing sent) and the command prints the two lines to add:
a window it took from the clock would differ on every run, so a rerun after
a lost answer would send another body under the same out_request_no, which
WeChat Pay refuses, and a new number would create a second stock with its
own budget. In the sandbox, which starts afresh on every run, such a file
gets a window from now for 90 days, said on stderr once the file is
otherwise valid; the shipped example leaves them out, so that it runs
whatever the date.`,
		examples: []string{"stock create --file examples/stock/stock.json"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			file := fs.String("file", "", "the JSON request body (required; - reads stdin)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int { return createStock(ctx, c, *file, *asJSON) }
		},
	},
	{
		name: "stock get", group: groupStocks, summary: "read a stock", usage: "STOCK_ID [--json]", arg: "STOCK_ID",
		help:     `Reads a coupon stock: its rules, state, caps and code counts.`,
		examples: []string{"stock get 1200000001 --json"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int { return getStock(ctx, c, *asJSON) }
		},
	},
	{
		name: "stock update", group: groupStocks, summary: "change a stock's details", usage: "STOCK_ID --file update.json [--json]", arg: "STOCK_ID",
		help: `Changes a stock's details (修改商家券基本信息) from a JSON file holding the
request body of PATCH /v3/marketing/busifavor/stocks/{stock_id}: the fields
to change and out_request_no, which makes running the command again safe
(the same number changes the stock once). Fields left out stay as they are;
the stock's name, logo and merchant name cannot be changed. The file is
checked as stock create's is; nothing is sent when it breaks a rule.`,
		examples: []string{"stock update 1200000001 --file examples/stock/update.json"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			file := fs.String("file", "", "the JSON request body (required; - reads stdin)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int { return updateStock(ctx, c, *file, *asJSON) }
		},
	},
	{
		name: "stock budget", group: groupStocks, summary: "change a stock's total or daily cap", arg: "STOCK_ID",
		usage: "STOCK_ID --target-max-coupons N --current-max-coupons M --modify-budget-request-no R [--json]",
		help: `Changes a stock's total cap (--target-max-coupons) or its daily cap
(--target-max-coupons-by-day), one of the two per run (修改批次预算). The
cap in effect now is stated too (--current-max-coupons or
--current-max-coupons-by-day, as busifavor stock get shows it), so that a
change made from a stale reading is refused. --modify-budget-request-no
makes running the command again safe: the same number changes the cap once.`,
		examples: []string{"stock budget 1200000001 --target-max-coupons 2000 --current-max-coupons 1000 --modify-budget-request-no budget-0001"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			var req busifavor.UpdateStockBudgetRequest
			fs.Int64Var(&req.TargetMaxCoupons, "target-max-coupons", 0, "the new total cap")
			fs.Int64Var(&req.CurrentMaxCoupons, "current-max-coupons", 0, "the total cap now (required with --target-max-coupons)")
			fs.Int64Var(&req.TargetMaxCouponsByDay, "target-max-coupons-by-day", 0, "the new daily cap")
			fs.Int64Var(&req.CurrentMaxCouponsByDay, "current-max-coupons-by-day", 0, "the daily cap now (required with --target-max-coupons-by-day)")
			fs.StringVar(&req.ModifyBudgetRequestNo, "modify-budget-request-no", "", "this change's unique number (required)")
			asJSON := callFlags(fs)
			return func(ctx context.Context, c *call) int {
				req.StockID = c.arg
				resp, err := c.env.client.UpdateStockBudget(ctx, req)
				if err != nil {
					return c.report(err)
				}
				if *asJSON {
					return printJSON(c.stdout, resp)
				}
				daily := "-"
				if resp.MaxCouponsByDay != 0 {
					daily = fmt.Sprint(resp.MaxCouponsByDay)
				}
				fmt.Fprintf(c.stdout, "max coupons: %d\nper day:     %s\nrequest id:  %s\n", resp.MaxCoupons, daily, resp.RequestID)
				return exitOK
			}
		},
	},
	{
		name: "codes upload", group: groupStocks, summary: "upload coupon codes, in batches", arg: "STOCK_ID",
		usage: "STOCK_ID --file codes.txt [--request-no-prefix P] [--json]",
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
over-long code is refused with its line number and nothing is sent.`,
		examples: []string{"codes upload 1200000001 --file examples/stock/codes.txt"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			file := fs.String("file", "", "the codes, one per line (required; - reads stdin)")
			prefix := fs.String("request-no-prefix", "", "upload_request_no prefix for the batches (default: a digest of the stock id and codes)")
			timeoutFlag(fs, 10*time.Minute)
			asJSON := jsonFlag(fs)
			return func(ctx context.Context, c *call) int { return uploadCodes(ctx, c, *file, *prefix, *asJSON) }
		},
	},
	{
		name: "codes list", group: groupStocks, summary: "list a stock's uploaded codes", arg: "STOCK_ID",
		usage: "STOCK_ID [--status AVAILABLE|DISPATCHED] [--show-openid] [--json]",
		help: `Lists every code uploaded to a stock, page by page, with its state.
Openids are masked unless --show-openid is given. --json prints one JSON
object per line.`,
		examples: []string{"codes list 1200000001 --status AVAILABLE"},
		needs:    needClient,
		flags: func(fs *flag.FlagSet) action {
			status := fs.String("status", "", "list only codes in this state: AVAILABLE or DISPATCHED")
			showOpenID := fs.Bool("show-openid", false, "print openid and unionid unmasked (personal data)")
			timeoutFlag(fs, 2*time.Minute)
			asJSON := jsonFlag(fs)
			return func(ctx context.Context, c *call) int { return listCodes(ctx, c, *status, *showOpenID, *asJSON) }
		},
	},
}

// readInput reads --file, or stdin for "-".
func readInput(file string) ([]byte, error) {
	if file == "" {
		return nil, errors.New("--file is required")
	}
	if file == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(file)
}

// readRequest reads the JSON request body in file (what it holds: "a stock
// request") into v. Unknown fields are refused and broken JSON is named by
// line and column; either way nothing is sent (exit status 2).
func (c *call) readRequest(file, what string, v any) int {
	c.file = file
	b, err := readInput(file)
	if err != nil {
		if errors.As(err, new(*fs.PathError)) {
			err = readError("--file", file, what, err)
		}
		return c.fail("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	problem := ""
	if err = dec.Decode(v); err != nil {
		problem = jsonProblem(b, err)
	} else if rest := bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		problem = lineCol(b, int64(len(b)-len(rest))) + ": more follows the JSON object"
	}
	if problem != "" {
		return c.fail("%s is not %s: %s; nothing was sent", shown(file), what, problem)
	}
	return exitOK
}

// jsonProblem says what is wrong with the JSON b, at which line and column
// when the decoder says where.
func jsonProblem(b []byte, err error) string {
	var offset int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		offset = se.Offset - 1 // the offending byte
	case errors.As(err, &te):
		offset = te.Offset - 1
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		offset = int64(len(b))
		err = errors.New("unexpected end of JSON input")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if offset < 0 {
		return msg
	}
	return lineCol(b, offset) + ": " + msg
}

// lineCol is where byte offset of b is, as an editor counts: "line 3,
// column 16".
func lineCol(b []byte, offset int64) string {
	before := b[:min(max(offset, 0), int64(len(b)))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// defaultWindowDays is how long the window stock create suggests (and, in
// the sandbox, sets) for a file without one is open.
const defaultWindowDays = 90

// beijing is WeChat Pay's time zone (UTC+8), in which its pages and its
// answers write times; the command shows times in it.
var beijing = time.FixedZone("+08:00", 8*60*60)

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

func createStock(ctx context.Context, c *call, file string, asJSON bool) int {
	var req busifavor.CreateStockRequest
	if code := c.readRequest(file, "a stock request", &req); code != exitOK {
		return code
	}
	env, stderr := c.env, c.stderr
	if at := &req.CouponUseRule.CouponAvailableTime; at.AvailableBeginTime.IsZero() && at.AvailableEndTime.IsZero() {
		// The note on the window is for a file that is otherwise valid:
		// check it with the window it would get.
		trial := req
		trial.CouponUseRule.CouponAvailableTime.AvailableBeginTime = env.now().Truncate(time.Second)
		trial.CouponUseRule.CouponAvailableTime.AvailableEndTime = trial.CouponUseRule.CouponAvailableTime.AvailableBeginTime.AddDate(0, 0, defaultWindowDays)
		if err := trial.Validate(); err != nil {
			if env.sandbox == nil {
				err = req.Validate() // the missing window among the rest
			}
			return c.report(err)
		}
		if env.sandbox == nil {
			fmt.Fprintf(stderr, "busifavor stock create: %s gives no coupon_use_rule.coupon_available_time.available_begin_time "+
				"and available_end_time, which WeChat Pay requires; nothing was sent.\n"+
				"  The command does not take them from the clock: a rerun after a lost answer would then send another body under the same\n"+
				"  out_request_no, which WeChat Pay refuses, and a new number would create a second stock with its own budget.\n%s",
				shown(file), windowLines(env.now()))
			return exitUsage
		}
		// The sandbox starts afresh on every run: no rerun can meet an
		// earlier attempt there.
		req = trial
		fmt.Fprintf(stderr, "busifavor stock create: no available time in %s: in the sandbox, available from now for %d days (%s to %s).\n"+
			"  Against WeChat Pay the command refuses such a file, so that a rerun sends the same request.\n%s",
			shown(file), defaultWindowDays, localTime(at.AvailableBeginTime), localTime(at.AvailableEndTime), windowLines(env.now()))
	}
	resp, err := env.client.CreateStock(ctx, req)
	if err != nil {
		status := c.report(err)
		if busifavor.ErrorCodeOf(err) == busifavor.ErrorCodeResourceAlreadyExists {
			fmt.Fprintf(stderr, "  out_request_no %s was used before with a different request. If an earlier run lost its answer, that stock\n"+
				"  exists: do not change out_request_no (a new number creates a second stock, with its own budget); run again with\n"+
				"  the file as it was then, which answers with that stock.\n", req.OutRequestNo)
		}
		return status
	}
	if asJSON {
		return printJSON(c.stdout, resp)
	}
	fmt.Fprintf(c.stdout, "stock id:    %s\ncreated:     %s\nrequest id:  %s\n", resp.StockID, localTime(resp.CreateTime), resp.RequestID)
	return exitOK
}

func updateStock(ctx context.Context, c *call, file string, asJSON bool) int {
	var req busifavor.UpdateStockRequest
	if code := c.readRequest(file, "a stock change", &req); code != exitOK {
		return code
	}
	req.StockID = c.arg
	resp, err := c.env.client.UpdateStock(ctx, req)
	if err != nil {
		return c.report(err)
	}
	if asJSON { // WeChat Pay answers with no body: what was changed, and its request id
		return printJSON(c.stdout, map[string]string{"stock_id": req.StockID, "out_request_no": req.OutRequestNo, "request_id": resp.RequestID})
	}
	fmt.Fprintf(c.stdout, "updated:     stock %s (%s)\nrequest id:  %s\n", req.StockID, req.OutRequestNo, resp.RequestID)
	return exitOK
}

func getStock(ctx context.Context, c *call, asJSON bool) int {
	resp, err := c.env.client.GetStock(ctx, busifavor.GetStockRequest{StockID: c.arg})
	if err != nil {
		if c.env.sandbox != nil {
			fmt.Fprintln(c.stderr, "busifavor: the sandbox starts afresh on every run: stocks created by earlier runs are gone")
		}
		return c.report(err)
	}
	if asJSON {
		return printJSON(c.stdout, resp)
	}
	at := resp.CouponUseRule.CouponAvailableTime
	fmt.Fprintf(c.stdout, "stock id:    %s\nname:        %s\ntype:        %s\nstate:       %s\ncode mode:   %s\navailable:   %s to %s\nmax coupons: %d (%d per user)\n",
		resp.StockID, resp.StockName, resp.StockType, resp.StockState, resp.CouponCodeMode,
		localTime(at.AvailableBeginTime), localTime(at.AvailableEndTime), resp.StockSendRule.MaxCoupons, resp.StockSendRule.MaxCouponsPerUser)
	if n := resp.CouponCodeCount; n != nil {
		fmt.Fprintf(c.stdout, "codes:       %d uploaded, %d available\n", n.TotalCount, n.AvailableCount)
	}
	fmt.Fprintf(c.stdout, "request id:  %s\n", resp.RequestID)
	return exitOK
}

func uploadCodes(ctx context.Context, c *call, file, prefix string, asJSON bool) int {
	stdout, stderr := c.stdout, c.stderr
	b, err := readInput(file)
	if err != nil {
		if errors.As(err, new(*fs.PathError)) {
			err = readError("--file", file, "the codes", err)
		}
		return c.fail("%v", err)
	}
	c.file = file
	// Lines of any length: an over-long one is a code the check below
	// refuses by its line number, never the silent end of the list.
	var codes []string
	var lines []int // the file line of each code, for error messages
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			codes, lines = append(codes, line), append(lines, i+1)
		}
	}
	if prefix == "" {
		sum := sha256.Sum256([]byte(c.arg + "\n" + strings.Join(codes, "\n")))
		prefix = "codes-" + hex.EncodeToString(sum[:12])
	}
	req := busifavor.BatchUploadCouponCodesRequest{StockID: c.arg, Codes: codes, UploadRequestNoPrefix: prefix}
	if len(codes) > busifavor.MaxCodesPerUpload {
		req.Progress = func(done, total int) { fmt.Fprintf(stderr, "busifavor: %d of %d codes done\n", done, total) }
	}
	resp, err := busifavor.BatchUploadCouponCodes(ctx, c.env.client, req)
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
		return c.report(err)
	}
	if asJSON {
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
		status := c.report(err)
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

func listCodes(ctx context.Context, c *call, status string, showOpenID, asJSON bool) int {
	req := busifavor.ListCouponCodesRequest{StockID: c.arg, Status: busifavor.CouponCodeStatus(status)}
	if err := req.Validate(); err != nil {
		return c.report(err)
	}
	n := 0
	for code, err := range c.env.client.AllCouponCodes(ctx, req) {
		if err != nil {
			return c.report(err)
		}
		if !showOpenID {
			code = code.Masked()
		}
		n++
		if asJSON {
			_ = printJSONLine(c.stdout, code)
			continue
		}
		fmt.Fprintf(c.stdout, "%-32s %-10s %s", code.Code, code.CodeStatus, localTime(code.UploadTime))
		if code.CouponCode != "" {
			fmt.Fprintf(c.stdout, "  coupon %s %s", code.CouponCode, code.OpenID)
		}
		fmt.Fprintln(c.stdout)
	}
	if !asJSON {
		fmt.Fprintf(c.stderr, "busifavor: %d codes\n", n)
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

// localTime formats t for people in WeChat Pay's zone (+08:00), as its
// pages and --json write times, whatever this machine's zone; "-" when it
// is unset.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(beijing).Format("2006-01-02 15:04:05 -07:00")
}
