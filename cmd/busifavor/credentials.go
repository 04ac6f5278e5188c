package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// credential is one setting that comes from a flag or, failing that, an
// environment variable.
type credential struct {
	flag, env, help, value string
}

// credentials are what a merchant signs and verifies with.
type credentials struct {
	mchID, serial, privateKeyFile, publicKeyID, publicKeyFile, apiV3KeyFile credential
	apiV3Key                                                                string // from WECHATPAY_APIV3_KEY
}

func (c *credentials) all() []*credential {
	return []*credential{&c.mchID, &c.serial, &c.privateKeyFile, &c.publicKeyID, &c.publicKeyFile, &c.apiV3KeyFile}
}

func (c *credentials) register(fs *flag.FlagSet) {
	c.mchID = credential{flag: "merchant-id", env: "WECHATPAY_MCHID", help: "the merchant that signs requests"}
	c.serial = credential{flag: "cert-serial", env: "WECHATPAY_CERT_SERIAL", help: "its API certificate serial"}
	c.privateKeyFile = credential{flag: "private-key-file", env: "WECHATPAY_PRIVATE_KEY_FILE", help: "its API private key file (apiclient_key.pem)"}
	c.publicKeyID = credential{flag: "public-key-id", env: "WECHATPAY_PUBLIC_KEY_ID", help: "WeChat Pay public key id (PUB_KEY_ID_…)"}
	c.publicKeyFile = credential{flag: "public-key-file", env: "WECHATPAY_PUBLIC_KEY_FILE", help: "WeChat Pay public key file (pub_key.pem)"}
	c.apiV3KeyFile = credential{flag: "apiv3-key-file", help: "file holding the APIv3 key (or set WECHATPAY_APIV3_KEY)"}
	for _, cr := range c.all() {
		help := cr.help
		if cr.env != "" {
			help += "; default $" + cr.env
		}
		fs.StringVar(&cr.value, cr.flag, "", help)
	}
}

// fromEnv fills what the flags left empty.
func (c *credentials) fromEnv(getenv func(string) string) {
	for _, cr := range c.all() {
		if cr.value == "" && cr.env != "" {
			cr.value = strings.TrimSpace(getenv(cr.env))
		}
	}
	c.apiV3Key = getenv("WECHATPAY_APIV3_KEY")
}

// empty reports whether no credential was given: before fromEnv, whether
// no credential flag was.
func (c *credentials) empty() bool {
	for _, cr := range c.all() {
		if cr.value != "" {
			return false
		}
	}
	return c.apiV3Key == ""
}

// name is how an error refers to a credential: its flag and its variable.
func (cr *credential) name() string {
	if cr.env == "" {
		return "--" + cr.flag
	}
	return fmt.Sprintf("--%s / %s", cr.flag, cr.env)
}

// environment is what a command talks to.
type environment struct {
	client *busifavor.Client
	close  func()
	// verifier and apiV3Key check and decrypt notifications (listen);
	// apiV3Key is "" when none was given.
	verifier auth.Verifier
	apiV3Key string
	// sandbox is the in-process fake, nil against the real API.
	sandbox *busifavortest.Server
	// observer is --verbose's, nil without it.
	observer busifavor.Observer
}

// now is the time on the clock the API keeps: the sandbox's, or this
// machine's against WeChat Pay.
func (e *environment) now() time.Time {
	if e.sandbox != nil {
		return e.sandbox.Now()
	}
	return time.Now()
}

// The sandbox's demo data, which the commands' help examples use: a
// MERCHANT_UPLOAD stock with uploaded codes, two coupons of it held by
// sandboxOpenID, one usable and one redeemed, and a MERCHANT partnership
// for it. The fake numbers stocks from
// 1200000001, so the ids are the same on every run.
const (
	sandboxStockID  = "1200000001"
	sandboxOpenID   = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	sandboxAppID    = "wx233544546545989"
	sandboxCoupon   = "SANDBOX0001" // SENDED: use, get, deactivate
	sandboxRedeemed = "SANDBOX0002" // USED: return
	sandboxPartner  = "1900000109"  // a MERCHANT partner of the stock: partner terminate, list
)

// newSandbox starts an in-process fake WeChat Pay with a notify URL set and
// the demo stock, codes and coupons, so that every command's example runs.
// The command's client gets opts; the seeding client does not.
func newSandbox(ctx context.Context, baseURL string, opts ...busifavor.Option) (*environment, error) {
	if baseURL != "" {
		return nil, errors.New("--base-url does not go with the sandbox")
	}
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/busifavor/notify"))
	c, err := s.Client()
	if err == nil {
		err = seed(ctx, c, s)
	}
	if err == nil && len(opts) > 0 {
		c, err = s.Client(opts...)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("starting the sandbox: %v", err)
	}
	return &environment{client: c, close: s.Close, sandbox: s, verifier: s.Verifier(), apiV3Key: s.APIv3Key()}, nil
}

// seed creates the sandbox's demo data, its times taken from the fake's
// clock.
func seed(ctx context.Context, c *busifavor.Client, s *busifavortest.Server) error {
	begin := s.Now().Truncate(time.Hour).Add(-24 * time.Hour)
	st, err := c.CreateStock(ctx, busifavor.CreateStockRequest{
		StockName: "沙箱演示券", BelongMerchant: s.MchID(), GoodsName: "全场可用", StockType: busifavor.StockTypeNormal,
		CouponUseRule: busifavor.CouponUseRule{
			CouponAvailableTime: busifavor.AvailableTime{AvailableBeginTime: begin, AvailableEndTime: begin.AddDate(0, 3, 0)},
			FixedNormalCoupon:   &busifavor.FixedNormalCoupon{DiscountAmount: 1000, TransactionMinimum: 10000},
			UseMethod:           busifavor.CouponUseMethodOffline,
		},
		StockSendRule:  busifavor.StockSendRule{MaxCoupons: 1000, MaxCouponsPerUser: 5},
		OutRequestNo:   "sandbox-stock-1",
		CouponCodeMode: busifavor.CouponCodeModeMerchantUpload,
	})
	if err != nil {
		return err
	}
	if st.StockID != sandboxStockID {
		return fmt.Errorf("the demo stock is %s, not %s", st.StockID, sandboxStockID)
	}
	if _, err := c.UploadCouponCodes(ctx, busifavor.UploadCouponCodesRequest{StockID: sandboxStockID,
		CouponCodeList: []string{"SANDBOX0001", "SANDBOX0002", "SANDBOX0003", "SANDBOX0004", "SANDBOX0005"}, UploadRequestNo: "sandbox-upload-1"}); err != nil {
		return err
	}
	for i, code := range []string{sandboxCoupon, sandboxRedeemed} {
		sent, err := c.SendCoupon(ctx, busifavor.SendCouponRequest{StockID: sandboxStockID, OpenID: sandboxOpenID, AppID: sandboxAppID,
			OutRequestNo: fmt.Sprintf("sandbox-send-%d", i+1)})
		if err != nil {
			return err
		}
		if sent.CouponCode != code {
			return fmt.Errorf("the demo coupon is %s, not %s", sent.CouponCode, code)
		}
	}
	_, err = c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sandboxRedeemed, StockID: sandboxStockID, AppID: sandboxAppID,
		UseTime: s.Now(), UseRequestNo: "sandbox-use-1"})
	if err != nil {
		return err
	}
	_, err = c.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "sandbox-partner-1",
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: sandboxPartner},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: sandboxStockID}})
	return err
}

// networkError is a failure to reach WeChat Pay while getting ready (the
// platform-certificate download): exit status 1, not a usage error.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// errIncomplete is a credential set with settings missing (exit status 2):
// run adds what it sees of the WECHATPAY_* variables (envNotes).
var errIncomplete = errors.New("credentials incomplete")

// environment builds a client for the real API (or baseURL) from the
// credentials, with extra, client options.
func (c *credentials) environment(ctx context.Context, baseURL string, extra ...busifavor.Option) (*environment, error) {
	var missing []string
	for _, cr := range []*credential{&c.mchID, &c.serial, &c.privateKeyFile} {
		if cr.value == "" {
			missing = append(missing, cr.name())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: set %s. A WECHATPAY_* variable or a credential flag is set, so WeChat Pay was meant: "+
			"the sandbox runs only when neither is, or with --sandbox", errIncomplete, strings.Join(missing, ", "))
	}
	var base *url.URL
	var opts []busifavor.Option
	if baseURL != "" {
		opts = append(opts, busifavor.WithBaseURL(baseURL))
		var err error
		if base, err = url.Parse(baseURL); err != nil || base.Host == "" {
			return nil, fmt.Errorf("--base-url %q is not an absolute URL such as https://proxy.example.com", baseURL)
		}
	}
	key, err := loadPrivateKey(c.privateKeyFile)
	if err != nil {
		return nil, err
	}
	apiV3Key, err := c.readAPIv3Key()
	if err != nil {
		return nil, err
	}
	env := &environment{close: func() {}, apiV3Key: apiV3Key}
	// Every request, the certificate download included, goes through an
	// HTTP client that follows no redirect and bounds what it reads, and to
	// --base-url when one is given.
	hc := busifavor.NewHTTPClient(&http.Client{Transport: &toBase{base: base}})
	authOpt, err := c.auth(ctx, key, apiV3Key, hc, env)
	if err != nil {
		return nil, err
	}
	cc, err := core.NewClient(ctx, authOpt, option.WithHTTPClient(hc))
	if err != nil {
		env.close()
		return nil, fmt.Errorf("cannot build the WeChat Pay client: %v", err)
	}
	if env.client, err = busifavor.NewClient(cc, append(opts, extra...)...); err != nil {
		env.close()
		return nil, err
	}
	return env, nil
}

// toBase sends requests for WeChat Pay's primary domain to base (when set),
// as busifavor.WithBaseURL does for the client's own requests: wechatpay-go's
// certificate downloader always asks https://api.mch.weixin.qq.com.
type toBase struct{ base *url.URL }

// RoundTrip implements http.RoundTripper.
func (t *toBase) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.base != nil && r.URL.Host == "api.mch.weixin.qq.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + r.URL.Path
	}
	return http.DefaultTransport.RoundTrip(r)
}

// readAPIv3Key reads the APIv3 key from --apiv3-key-file or
// WECHATPAY_APIV3_KEY; "" when neither is set.
func (c *credentials) readAPIv3Key() (string, error) {
	key := c.apiV3Key
	if c.apiV3KeyFile.value != "" {
		b, err := os.ReadFile(c.apiV3KeyFile.value)
		if err != nil {
			return "", readError(c.apiV3KeyFile.name(), c.apiV3KeyFile.value, "the APIv3 key", err)
		}
		key = strings.TrimSpace(string(b))
	}
	if key != "" && len(key) != 32 {
		return "", fmt.Errorf("the APIv3 key must be 32 bytes, got %d", len(key))
	}
	return key, nil
}

// auth picks public-key mode, or platform-certificate mode, whose
// certificates it downloads through hc. It sets env's verifier (and, for the
// downloader, its close).
func (c *credentials) auth(ctx context.Context, key *rsa.PrivateKey, apiV3Key string, hc *http.Client, env *environment) (core.ClientOption, error) {
	if c.publicKeyID.value != "" || c.publicKeyFile.value != "" {
		if c.publicKeyID.value == "" || c.publicKeyFile.value == "" {
			return nil, fmt.Errorf("%w: public-key mode needs both %s and %s", errIncomplete, c.publicKeyID.name(), c.publicKeyFile.name())
		}
		pub, err := loadPublicKey(c.publicKeyFile)
		if err != nil {
			return nil, err
		}
		env.verifier = verifiers.NewSHA256WithRSAPubkeyVerifier(c.publicKeyID.value, *pub)
		return option.WithWechatPayPublicKeyAuthCipher(c.mchID.value, c.serial.value, key, c.publicKeyID.value, pub), nil
	}
	if apiV3Key == "" {
		return nil, fmt.Errorf("%w: set %s and %s (WeChat Pay public key), or WECHATPAY_APIV3_KEY / --apiv3-key-file (platform certificates)",
			errIncomplete, c.publicKeyID.name(), c.publicKeyFile.name())
	}
	// What option.WithWechatPayAutoAuthCipher does, through hc: the bootstrap
	// client has no validator, as in wechatpay-go; the download is checked by
	// the certificates it yields.
	boot, err := core.NewClient(ctx, option.WithMerchantCredential(c.mchID.value, c.serial.value, key),
		option.WithoutValidator(), option.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("cannot build the certificate download client: %v", err)
	}
	mgr := downloader.NewCertificateDownloaderMgr(ctx)
	if err := mgr.RegisterDownloaderWithClient(ctx, boot, c.mchID.value, apiV3Key); err != nil {
		mgr.Stop()
		return nil, &networkError{fmt.Errorf("cannot download the platform certificates: %v", err)}
	}
	env.close = mgr.Stop
	env.verifier = verifiers.NewSHA256WithRSAVerifier(mgr.GetCertificateVisitor(c.mchID.value))
	return option.WithWechatPayAutoAuthCipherUsingDownloaderMgr(c.mchID.value, c.serial.value, key, mgr), nil
}

// loadPrivateKey reads the merchant's private key.
func loadPrivateKey(cr credential) (*rsa.PrivateKey, error) {
	return loadKey(cr, "the merchant private key", "PRIVATE KEY", "apiclient_key.pem, PKCS#8 RSA", utils.LoadPrivateKey)
}

// loadKey reads a PEM key file named by cr and parses it, explaining a bad
// file (what, and what a valid one looks like) without echoing it.
func loadKey[K any](cr credential, what, pemType, example string, parse func(string) (K, error)) (K, error) {
	var zero K
	b, err := os.ReadFile(cr.value)
	if err != nil {
		return zero, readError(cr.name(), cr.value, what, err)
	}
	key, err := parse(string(b))
	if err != nil {
		return zero, fmt.Errorf("the file given by %s (%s) is not %s: expected a PEM file starting -----BEGIN %s-----, as downloaded from the merchant platform (%s)",
			cr.name(), shown(cr.value), what, pemType, example)
	}
	return key, nil
}

// loadPublicKey reads WeChat Pay's public key.
func loadPublicKey(cr credential) (*rsa.PublicKey, error) {
	return loadKey(cr, "the WeChat Pay public key", "PUBLIC KEY", "pub_key.pem, RSA", utils.LoadPublicKey)
}

// maxShownPath is the longest value of a file setting an error quotes.
const maxShownPath = 256

// notAPath says why v, the value of a setting that names a file, does not
// look like a path, or returns "" when it does. Such a value is most likely
// the secret itself, given where its file's name belongs (a container's
// WECHATPAY_PRIVATE_KEY_FILE holding the key, --apiv3-key-file given the
// key), so no message quotes it: one that holds a line break, PEM armour or
// a control character, one longer than maxShownPath, or one shaped like a
// key (see looksLikeKey).
func notAPath(v string) string {
	switch {
	case strings.ContainsAny(v, "\r\n"):
		return "it holds a line break"
	case strings.Contains(v, "-----"):
		return "it looks like a PEM key"
	case len(v) > maxShownPath:
		return fmt.Sprintf("it is %d bytes long", len(v))
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "it holds a control character"
	case looksLikeKey(v):
		return "it looks like a key"
	}
	return ""
}

// looksLikeKey reports whether v has the shape of a key rather than a file
// name: 16 or more letters and digits (base64's + and = allowed), with both
// letters and digits, and no dot, separator or other punctuation. APIv3 and
// APIv2 keys are 32 letters and digits.
func looksLikeKey(v string) bool {
	var letters, digits bool
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters = true
		case r >= '0' && r <= '9':
			digits = true
		case r != '+' && r != '=':
			return false
		}
	}
	return len(v) >= 16 && letters && digits
}

// shown is how a message quotes value, the value of a file setting: as it
// is when it looks like a path, else a note saying why it is not shown.
func shown(value string) string {
	if why := notAPath(value); why != "" {
		return "not shown: " + why
	}
	return value
}

// readError explains that the file setting names (what it holds: "the
// APIv3 key") could not be read. A value that does not look like a path is
// not quoted: the error names the setting and says so.
func readError(setting, value, what string, err error) error {
	if why := notAPath(value); why != "" {
		return fmt.Errorf("%s does not look like a path (%s; the value is not shown): give the path of the file that holds %s",
			setting, why, what)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is quoted once, here
	}
	return fmt.Errorf("cannot read %s from %s (%s): %v", what, setting, value, err)
}

// knownVars are the WECHATPAY_* variables the command reads.
var knownVars = []string{"WECHATPAY_MCHID", "WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE",
	"WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_APIV3_KEY", "WECHATPAY_APIV2_KEY"}

// normalName is a variable's name without case or punctuation:
// WECHATPAY_MCH_ID and wechatpay_mchid are both WECHATPAYMCHID.
func normalName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			return r
		}
		return -1
	}, name)
}

// wechatPayVars returns the names in environ that are, or look meant as,
// WeChat Pay settings (WECHATPAY_… in any case or spelling), sorted. Any
// one of them, even empty, means WeChat Pay was meant, not the sandbox.
func wechatPayVars(environ map[string]string) []string {
	var names []string
	for name := range environ {
		if strings.HasPrefix(normalName(name), "WECHATPAY") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// envNotes says what is wrong with the WECHATPAY_* variables set: those set
// but empty, and those busifavor does not read, with the name each was
// probably meant as. Names only: no value is shown.
func envNotes(environ map[string]string) []string {
	var notes []string
	for _, name := range wechatPayVars(environ) {
		switch {
		case slices.Contains(knownVars, name) && environ[name] == "":
			notes = append(notes, name+" is set but empty")
		case slices.Contains(knownVars, name):
		case nearVar(name) != "":
			notes = append(notes, fmt.Sprintf("%s is set, which busifavor does not read: did you mean %s?", name, nearVar(name)))
		default:
			notes = append(notes, fmt.Sprintf("%s is set, which is not a variable busifavor reads (%s)", name, strings.Join(knownVars, ", ")))
		}
	}
	return notes
}

// nearVar returns the variable busifavor reads that name is closest to, if
// it is a near miss: the same once case and punctuation are dropped, or at
// most four edits away (WECHATPAY_PRIVATE_KEY for …_KEY_FILE); else "".
func nearVar(name string) string {
	best, bestDist := "", 5
	for _, known := range knownVars {
		if d := editDistance(normalName(name), normalName(known)); d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
