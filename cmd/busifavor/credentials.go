package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// needs says what a command reads from the credentials. Each command asks
// for what it uses and nothing else.
type needs uint8

const (
	// needClient is signed calls to the API, their answers verified: the
	// merchant's signing credentials and a verification mode.
	needClient needs = 1 << iota
	// needEvents is verifying and decrypting events: a verification mode and
	// the APIv3 key. In public-key mode nothing else; platform-certificate
	// mode downloads the certificates, signed as the merchant.
	needEvents
	// needAPIv2 is signing the front-end channels' parameters: the APIv2 key
	// and the sending merchant.
	needAPIv2
	// needReport is busifavor check's: every setting, read as the other
	// commands read them and reported one by one by the command itself (the
	// APIv2 key optional).
	needReport
)

// mode is how answers and events are verified.
type mode int

const (
	modeNone      mode = iota
	modePublicKey      // a WeChat Pay public key (微信支付公钥)
	modePlatform       // WeChat Pay's platform certificates (平台证书), downloaded
)

// apiV2KeyLen is the length of an APIv2 key: 32 characters (the V2 安全规范;
// busifavor.NewCouponSigner checks the same).
const apiV2KeyLen = 32

func (m mode) String() string {
	switch m {
	case modePublicKey:
		return "public-key mode (微信支付公钥)"
	case modePlatform:
		return "platform-certificate mode (平台证书, downloaded)"
	}
	return "none"
}

// setting is one credential or target setting: a flag's value or, failing
// that, an environment variable's.
type setting struct {
	flag, env, help string
	// keyFile: the flag names a file holding the key, while the variable
	// holds the key itself (the APIv3 and APIv2 keys).
	keyFile bool
	// value is the flag's value or, after fromEnv, the variable's.
	value string
	// fromFlag says the value came from the flag.
	fromFlag bool
}

// name is how a message refers to a setting: its flag and its variable.
func (s *setting) name() string {
	if s.env == "" {
		return "--" + s.flag
	}
	return fmt.Sprintf("--%s / %s", s.flag, s.env)
}

// source is where the value came from: the flag or the variable.
func (s *setting) source() string {
	if s.fromFlag || s.env == "" {
		return "--" + s.flag
	}
	return s.env
}

// credentials are the settings a command reads to reach WeChat Pay: whom
// it signs as, how it verifies, the keys it decrypts and signs with, and
// where it sends.
type credentials struct {
	mchID, serial, privateKeyFile, publicKeyID, publicKeyFile, platform, apiV3Key, apiV2Key, baseURL setting
	sandbox                                                                                          bool
	// registered are the settings the command's needs brought.
	registered []*setting
}

// register adds the flags of the settings n brings, and --sandbox when n
// is not zero.
func (c *credentials) register(fs *flag.FlagSet, n needs) {
	*c = credentials{
		mchID:          setting{flag: "merchant-id", env: "WECHATPAY_MCHID", help: "the merchant that signs requests (商户号)"},
		serial:         setting{flag: "cert-serial", env: "WECHATPAY_CERT_SERIAL", help: "its API certificate's serial (API证书序列号)"},
		privateKeyFile: setting{flag: "private-key-file", env: "WECHATPAY_PRIVATE_KEY_FILE", help: "its API private key file (apiclient_key.pem)"},
		publicKeyID:    setting{flag: "public-key-id", env: "WECHATPAY_PUBLIC_KEY_ID", help: "WeChat Pay public key id (微信支付公钥ID, PUB_KEY_ID_…), public-key mode"},
		publicKeyFile:  setting{flag: "public-key-file", env: "WECHATPAY_PUBLIC_KEY_FILE", help: "WeChat Pay public key file (pub_key.pem), public-key mode"},
		platform:       setting{flag: "platform-certificates", env: "WECHATPAY_PLATFORM_CERTIFICATES", help: "verify with WeChat Pay's platform certificates, downloaded (platform-certificate mode; 1 or true)"},
		apiV3Key:       setting{flag: "apiv3-key-file", env: "WECHATPAY_APIV3_KEY", help: "a file holding the APIv3 key (or set WECHATPAY_APIV3_KEY to the key)", keyFile: true},
		apiV2Key:       setting{flag: "apiv2-key-file", env: "WECHATPAY_APIV2_KEY", help: "a file holding the APIv2 key (or set WECHATPAY_APIV2_KEY to the key)", keyFile: true},
		baseURL: setting{flag: "base-url", env: "WECHATPAY_BASE_URL", help: "send requests (and the platform-certificate download) to this URL instead of\n" +
			"https://api.mch.weixin.qq.com (a proxy, a test server); failover to the backup domain is then off"},
	}
	if n == 0 {
		return
	}
	if n&(needClient|needEvents|needReport) != 0 {
		c.registered = append(c.registered, &c.mchID, &c.serial, &c.privateKeyFile, &c.publicKeyID, &c.publicKeyFile, &c.platform, &c.apiV3Key)
	} else if n&needAPIv2 != 0 {
		c.mchID.flag, c.mchID.help = "send-merchant", "the merchant that sends the coupon (商户号)"
		c.registered = append(c.registered, &c.mchID)
	}
	if n&(needAPIv2|needReport) != 0 {
		c.registered = append(c.registered, &c.apiV2Key)
	}
	if n&(needClient|needEvents|needReport) != 0 {
		c.registered = append(c.registered, &c.baseURL)
	}
	for _, s := range c.registered {
		help := s.help
		if s.env != "" && !s.keyFile {
			help += "; default $" + s.env
		}
		if s == &c.platform {
			fs.BoolFunc(s.flag, help, func(v string) error { s.value = v; return nil })
			continue
		}
		fs.StringVar(&s.value, s.flag, "", help)
	}
	fs.BoolVar(&c.sandbox, "sandbox", false, "run against an in-process fake WeChat Pay (the default when no WECHATPAY_* variable and no credential flag is set)")
}

// flagGiven reports whether a credential or target flag was given; call it
// before fromEnv.
func (c *credentials) flagGiven() bool {
	return slices.ContainsFunc(c.registered, func(s *setting) bool { return s.value != "" })
}

// fromEnv fills what the flags left empty from environ.
func (c *credentials) fromEnv(environ map[string]string) {
	for _, s := range c.registered {
		s.fromFlag = s.value != ""
		if !s.fromFlag && s.env != "" {
			s.value = strings.TrimSpace(environ[s.env])
		}
	}
}

// sandboxMeant reports whether the command runs against the in-process
// sandbox: asked for with --sandbox, or implicit when nothing asks for
// WeChat Pay: no credential flag and no WECHATPAY_* variable, even an empty
// or misspelt one (a job whose environment failed to load must not
// "succeed"). Call it before fromEnv.
func (c *credentials) sandboxMeant(environ map[string]string) (sandbox, implicit bool) {
	implicit = !c.sandbox && !c.flagGiven() && len(wechatPayVars(environ)) == 0
	return c.sandbox || implicit, implicit
}

// finding is what the command found of one setting, never a secret: what
// it holds or, in problem, what does not hold.
type finding struct {
	what    string
	setting *setting
	found   string
	problem string
	// missing says the setting is not set at all.
	missing bool
}

// loaded is what the settings hold, read and parsed.
type loaded struct {
	mode               mode
	key                *rsa.PrivateKey
	pub                *rsa.PublicKey
	apiV3Key, apiV2Key string
	base               *url.URL
}

// load checks and reads every setting n needs, and any other that is set
// and would be used, before anything is sent. It returns what it read and
// a finding per setting: a command runs only when no finding has a
// problem. It never falls into platform-certificate mode: that mode is
// chosen with --platform-certificates (WECHATPAY_PLATFORM_CERTIFICATES).
func (c *credentials) load(n needs) (*loaded, []finding) {
	var l loaded
	var out []finding
	add := func(what string, s *setting, found, problem string) {
		out = append(out, finding{what: what, setting: s, found: found, problem: problem})
	}
	missing := func(what string, s *setting, why string) {
		out = append(out, finding{what: what, setting: s, missing: true,
			problem: fmt.Sprintf("%s is not set: %s%s", s.name(), s.help, why)})
	}
	report := n&needReport != 0
	if report {
		n |= needClient | needEvents
	}

	// The mode first: what it is decides what else is needed. Its finding
	// is listed after the signing credentials'.
	signing := len(out)
	pubSet := c.publicKeyID.value != "" || c.publicKeyFile.value != ""
	platform, badPlatform := false, false
	if v := c.platform.value; v != "" {
		var err error
		if platform, err = strconv.ParseBool(v); err != nil {
			badPlatform = true
			add("mode", &c.platform, "", fmt.Sprintf("%s must be 1 or true (or 0, false), got %q", c.platform.name(), shownValue(v)))
		}
	}
	switch {
	case badPlatform:
	case pubSet && platform:
		add("mode", &c.platform, "", fmt.Sprintf("%s and the public key (%s, %s) are both set: choose one mode",
			c.platform.name(), c.publicKeyID.env, c.publicKeyFile.env))
	case pubSet:
		l.mode = modePublicKey
		add("mode", nil, l.mode.String(), "")
	case platform:
		l.mode = modePlatform
		add("mode", &c.platform, l.mode.String(), "")
	case n&(needClient|needEvents) != 0:
		out = append(out, finding{what: "mode", missing: true, problem: fmt.Sprintf(
			"no verification mode: set %s and %s (public-key mode, 微信支付公钥), or %s=1 with %s (platform-certificate mode, 平台证书); "+
				"the command does not download platform certificates unless told to",
			c.publicKeyID.name(), c.publicKeyFile.name(), c.platform.name(), c.apiV3Key.env)})
	}

	modeFindings := slices.Clone(out[signing:])
	out = out[:signing]
	if n&needClient != 0 || l.mode == modePlatform {
		why := ""
		if n&needClient == 0 {
			why = " (platform-certificate mode downloads the certificates signed as the merchant)"
		}
		for _, m := range []struct {
			what string
			s    *setting
		}{{"merchant id", &c.mchID}, {"certificate serial", &c.serial}} {
			if m.s.value == "" {
				missing(m.what, m.s, why)
			} else {
				add(m.what, m.s, m.s.value, "")
			}
		}
		if c.privateKeyFile.value == "" {
			missing("private key", &c.privateKeyFile, why)
		} else if key, err := loadPrivateKey(c.privateKeyFile); err != nil {
			add("private key", &c.privateKeyFile, "", err.Error())
		} else {
			l.key = key
			add("private key", &c.privateKeyFile, fmt.Sprintf("RSA %d bits, from %s", key.N.BitLen(), shown(c.privateKeyFile.value)), rsa2048(report, key.N.BitLen()))
		}
	}
	out = append(out, modeFindings...)
	if l.mode == modePublicKey {
		if c.publicKeyID.value == "" {
			missing("public key id", &c.publicKeyID, fmt.Sprintf("; public-key mode needs both it and %s", c.publicKeyFile.name()))
		} else {
			add("public key id", &c.publicKeyID, c.publicKeyID.value, "")
		}
		if c.publicKeyFile.value == "" {
			missing("public key", &c.publicKeyFile, fmt.Sprintf("; public-key mode needs both it and %s", c.publicKeyID.name()))
		} else if pub, err := loadPublicKey(c.publicKeyFile); err != nil {
			add("public key", &c.publicKeyFile, "", err.Error())
		} else {
			l.pub = pub
			add("public key", &c.publicKeyFile, fmt.Sprintf("RSA %d bits, from %s", pub.N.BitLen(), shown(c.publicKeyFile.value)), rsa2048(report, pub.N.BitLen()))
		}
	}
	if n&needEvents != 0 || l.mode == modePlatform || c.apiV3Key.value != "" {
		key, f := readKey(&c.apiV3Key, "APIv3 key", 32)
		switch {
		case f.problem != "":
			out = append(out, f)
		case key == "" && (n&needEvents != 0 || l.mode == modePlatform):
			why := "; events are encrypted with it, in either mode"
			if n&needEvents == 0 {
				why = "; platform-certificate mode decrypts the certificates with it"
			}
			missing("APIv3 key", &c.apiV3Key, why)
		case key != "":
			l.apiV3Key = key
			out = append(out, f)
		}
	}
	if n&(needAPIv2|needReport) != 0 || c.apiV2Key.value != "" && slices.Contains(c.registered, &c.apiV2Key) {
		key, f := readKey(&c.apiV2Key, "APIv2 key", apiV2KeyLen)
		switch {
		case f.problem != "":
			out = append(out, f)
		case key == "" && report:
			add("APIv2 key", &c.apiV2Key, "not set: only coupon link (the front-end send channels) needs it", "")
		case key == "":
			missing("APIv2 key", &c.apiV2Key, "; the front-end channels' parameters are signed with it")
		default:
			l.apiV2Key = key
			out = append(out, f)
		}
		if n&(needClient|needEvents|needReport) == 0 && c.mchID.value == "" {
			missing("sending merchant", &c.mchID, "")
		}
	}
	if v := c.baseURL.value; v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			add("base URL", &c.baseURL, "", fmt.Sprintf("%s %q is not an absolute URL such as https://proxy.example.com", c.baseURL.name(), shownValue(v)))
		} else {
			l.base = u
			add("base URL", &c.baseURL, u.Redacted(), "")
		}
	} else if n&(needClient|needEvents) != 0 {
		add("base URL", nil, "https://api.mch.weixin.qq.com (WeChat Pay; "+c.baseURL.env+" not set)", "")
	}
	return &l, out
}

// rsa2048 says what is wrong with an RSA key of bits bits for check: the
// scheme WeChat Pay's APIv3 signs and verifies with is
// WECHATPAY2-SHA256-RSA2048 (the Authorization header's, and wechatpay-go's
// signer's). Other commands leave the key's size to WeChat Pay.
func rsa2048(report bool, bits int) string {
	if report && bits != 2048 {
		return fmt.Sprintf("is RSA %d bits: WeChat Pay's APIv3 signs with RSA 2048 (WECHATPAY2-SHA256-RSA2048)", bits)
	}
	return ""
}

// readKey reads a symmetric key (the APIv3 or APIv2 key) from its file
// flag or its variable, and checks its length; "" when neither is set.
// The key is never shown.
func readKey(s *setting, what string, size int) (string, finding) {
	f := finding{what: what, setting: s}
	key := s.value
	if s.fromFlag {
		b, err := os.ReadFile(s.value)
		if err != nil {
			f.problem = readError(s.name(), s.value, "the "+what, err).Error()
			return "", f
		}
		key = strings.TrimSpace(string(b))
	}
	switch {
	case key == "":
	case len(key) != size:
		f.problem = fmt.Sprintf("the %s (%s) must be %d bytes, got %d", what, s.source(), size, len(key))
		key = ""
	default:
		f.found = fmt.Sprintf("%d bytes, not shown", size)
	}
	return key, f
}

// shownValue is how a message quotes a setting's value that is not a file:
// as it is, unless it looks like a secret.
func shownValue(v string) string {
	if notAPath(v) != "" {
		return "(not shown)"
	}
	return v
}

// problems are the findings that do not hold.
func problems(fs []finding) []finding {
	var out []finding
	for _, f := range fs {
		if f.problem != "" {
			out = append(out, f)
		}
	}
	return out
}

// environment is what a command talks to.
type environment struct {
	// client calls the API; nil for a command that makes no call.
	client *busifavor.Client
	close  func()
	// verifier and apiV3Key check and decrypt events (listen).
	verifier busifavor.Verifier
	apiV3Key string
	// apiV2Key and mchID sign the front-end channels' parameters.
	apiV2Key, mchID string
	mode            mode
	// certificates lists the platform certificates downloaded in
	// platform-certificate mode.
	certificates func() map[string]string
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

// open makes the environment cmd runs in: the sandbox, or WeChat Pay (or
// --base-url) from the credentials. What is wrong with the credentials is
// listed, each setting by its flag and variable, before any request; then
// exit status 2 (or 1 when the platform-certificate download fails).
func (c *credentials) open(ctx context.Context, cmd *command, environ map[string]string, stderr io.Writer) (*environment, int) {
	if sandbox, implicit := c.sandboxMeant(environ); sandbox {
		env, err := c.openSandbox(ctx, cmd.needs, environ)
		if err != nil {
			fmt.Fprintf(stderr, "busifavor %s: %v\n", cmd.name, err)
			return nil, exitUsage
		}
		if implicit {
			fmt.Fprintln(stderr, "busifavor: no WECHATPAY_* variable is set: using the in-process sandbox (busifavortest), nothing leaves this machine")
		}
		return env, exitOK
	}
	c.fromEnv(environ)
	l, found := c.load(cmd.needs)
	if bad := problems(found); len(bad) > 0 {
		fmt.Fprintf(stderr, "busifavor %s: credentials incomplete or invalid, nothing was sent:\n", cmd.name)
		anyMissing := false
		for _, f := range bad {
			fmt.Fprintf(stderr, "  %s\n", f.problem)
			anyMissing = anyMissing || f.missing
		}
		if anyMissing {
			fmt.Fprintln(stderr, "  A WECHATPAY_* variable or a credential flag is set, so WeChat Pay was meant: the sandbox runs only when neither is, or with --sandbox.")
		}
		for _, note := range envNotes(environ) {
			fmt.Fprintf(stderr, "  %s\n", note)
		}
		return nil, exitUsage
	}
	env, err := c.build(ctx, l, cmd.needs)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor %s: %v\n", cmd.name, err)
		if errors.As(err, new(*networkError)) {
			return nil, exitAPI
		}
		return nil, exitUsage
	}
	return env, exitOK
}

// openSandbox starts the in-process sandbox and fills in what n needs
// that the sandbox does not hold: the sending merchant and the APIv2 key
// when given, else the sandbox's.
func (c *credentials) openSandbox(ctx context.Context, n needs, environ map[string]string) (*environment, error) {
	if c.baseURL.value != "" {
		return nil, errors.New("--base-url does not go with the sandbox")
	}
	c.fromEnv(environ)
	env, err := newSandbox(ctx, "")
	if err != nil {
		return nil, err
	}
	env.mchID = c.mchID.value
	if env.mchID == "" {
		env.mchID = env.sandbox.MchID()
	}
	if n&needAPIv2 != 0 {
		key, f := readKey(&c.apiV2Key, "APIv2 key", apiV2KeyLen)
		if f.problem != "" {
			env.close()
			return nil, errors.New(f.problem)
		}
		if env.apiV2Key = key; key == "" {
			env.apiV2Key = env.sandbox.APIv2Key()
		}
	}
	return env, nil
}

// build makes the environment from what load read: the API client when n
// calls the API, the verifier and the APIv3 key when it receives events,
// the APIv2 key and the merchant when it signs for the channels. In
// platform-certificate mode it downloads the certificates first: the only
// request made before the command's own.
func (c *credentials) build(ctx context.Context, l *loaded, n needs) (*environment, error) {
	env := &environment{close: func() {}, apiV3Key: l.apiV3Key, apiV2Key: l.apiV2Key, mchID: c.mchID.value, mode: l.mode}
	if n&(needClient|needEvents|needReport) == 0 {
		return env, nil
	}
	// Every request, the certificate download included, goes through an
	// HTTP client that follows no redirect and bounds what it reads, and to
	// the base URL when one is given.
	hc := busifavor.NewHTTPClient(&http.Client{Transport: &toBase{base: l.base}})
	var authOpt core.ClientOption
	switch l.mode {
	case modePublicKey:
		env.verifier = verifiers.NewSHA256WithRSAPubkeyVerifier(c.publicKeyID.value, *l.pub)
		if l.key != nil {
			authOpt = option.WithWechatPayPublicKeyAuthCipher(c.mchID.value, c.serial.value, l.key, c.publicKeyID.value, l.pub)
		}
	case modePlatform:
		// What option.WithWechatPayAutoAuthCipher does, through hc: the
		// bootstrap client has no validator, as in wechatpay-go; the
		// download is checked by the certificates it yields.
		boot, err := core.NewClient(ctx, option.WithMerchantCredential(c.mchID.value, c.serial.value, l.key),
			option.WithoutValidator(), option.WithHTTPClient(hc))
		if err != nil {
			return nil, fmt.Errorf("cannot build the certificate download client: %v", err)
		}
		mgr := downloader.NewCertificateDownloaderMgr(ctx)
		if err := mgr.RegisterDownloaderWithClient(ctx, boot, c.mchID.value, l.apiV3Key); err != nil {
			mgr.Stop()
			return nil, &networkError{fmt.Errorf("platform-certificate mode (%s): cannot download the platform certificates: %v; "+
				"a merchant that has a WeChat Pay public key (微信支付公钥) sets %s and %s instead",
				c.platform.source(), withoutHeaders(err), c.publicKeyID.env, c.publicKeyFile.env)}
		}
		env.close = mgr.Stop
		env.verifier = verifiers.NewSHA256WithRSAVerifier(mgr.GetCertificateVisitor(c.mchID.value))
		env.certificates = func() map[string]string {
			out := map[string]string{}
			for serial, cert := range mgr.GetCertificateVisitor(c.mchID.value).GetAll(ctx) {
				out[serial] = localTime(cert.NotAfter)
			}
			return out
		}
		authOpt = option.WithWechatPayAutoAuthCipherUsingDownloaderMgr(c.mchID.value, c.serial.value, l.key, mgr)
	}
	if n&(needClient|needReport) == 0 {
		return env, nil
	}
	opts := []busifavor.Option{busifavor.WithLogger(nil)} // the command prints what matters; no attempt lines
	if l.base != nil {
		opts = append(opts, busifavor.WithBaseURL(c.baseURL.value))
	}
	cc, err := core.NewClient(ctx, authOpt, option.WithHTTPClient(hc))
	if err == nil {
		env.client, err = busifavor.NewClient(cc, opts...)
	}
	if err != nil {
		env.close()
		return nil, fmt.Errorf("cannot build the WeChat Pay client: %v", err)
	}
	return env, nil
}

// withoutHeaders is err as a message without the answer's headers, which
// wechatpay-go's *core.APIError lists: the status, code and message only.
func withoutHeaders(err error) string {
	var ae *core.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("WeChat Pay answered %d", ae.StatusCode)
		if ae.Code != "" {
			msg += " " + ae.Code
		}
		if ae.Message != "" {
			msg += ": " + ae.Message
		}
		return msg
	}
	return err.Error()
}

// The sandbox's demo data, which the commands' help examples use: a
// MERCHANT_UPLOAD stock with uploaded codes, and two coupons of it held by
// sandboxOpenID, one usable and one redeemed on the order sandboxOrder (tied
// to it with coupon associate) with a subsidy of 5 元 paid for it, and a
// MERCHANT partnership of the stock with sandboxPartner. The fake
// numbers stocks and receipts from 1, so the ids are the same on every run.
const (
	sandboxStockID       = "1200000001"
	sandboxOpenID        = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	sandboxAppID         = "wx233544546545989"
	sandboxCoupon        = "SANDBOX0001" // SENDED: use, get, deactivate, associate
	sandboxRedeemed      = "SANDBOX0002" // USED: return, disassociate, subsidy
	sandboxOrder         = "sandbox-order-1"
	sandboxTransaction   = "4200000000000000000000000001" // the WeChat Pay order the redeemed coupon was used on
	sandboxPayee         = "1900000002"                   // the merchant the subsidy is paid to
	sandboxSubsidyNo     = "sandbox-subsidy-1"
	sandboxSubsidyID     = "1100000000000000000000000001" // WeChat Pay's id of the subsidy payment
	sandboxSubsidyAmount = 500
	sandboxPartner       = "1900000109" // a MERCHANT partner of the stock: partner terminate, list
)

// newSandbox starts an in-process fake WeChat Pay with a notify URL set and
// the demo stock, codes and coupons, so that every command's example runs.
func newSandbox(ctx context.Context, baseURL string) (*environment, error) {
	if baseURL != "" {
		return nil, errors.New("--base-url does not go with the sandbox")
	}
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/busifavor/notify"))
	c, err := s.Client(busifavor.WithLogger(nil)) // the command prints what matters; no attempt lines
	if err == nil {
		err = seed(ctx, c, s)
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
	if _, err := c.UseCoupon(ctx, busifavor.UseCouponRequest{CouponCode: sandboxRedeemed, StockID: sandboxStockID, AppID: sandboxAppID,
		UseTime: s.Now(), UseRequestNo: "sandbox-use-1"}); err != nil {
		return err
	}
	if _, err := c.AssociateTradeInfo(ctx, busifavor.AssociateTradeInfoRequest{StockID: sandboxStockID, CouponCode: sandboxRedeemed,
		OutTradeNo: sandboxOrder, OutRequestNo: "sandbox-associate-1"}); err != nil {
		return err
	}
	paid, err := c.CreateSubsidyPayReceipt(ctx, busifavor.CreateSubsidyPayReceiptRequest{StockID: sandboxStockID, CouponCode: sandboxRedeemed,
		TransactionID: sandboxTransaction, PayerMerchant: s.MchID(), PayeeMerchant: sandboxPayee, Amount: sandboxSubsidyAmount,
		Description: "沙箱演示补差", OutSubsidyNo: sandboxSubsidyNo})
	if err != nil {
		return err
	}
	if paid.SubsidyReceiptID != sandboxSubsidyID {
		return fmt.Errorf("the demo subsidy payment is %s, not %s", paid.SubsidyReceiptID, sandboxSubsidyID)
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

// loadPrivateKey reads the merchant's private key.
func loadPrivateKey(cr setting) (*rsa.PrivateKey, error) {
	return loadKey(cr, "the merchant private key", "PRIVATE KEY", "apiclient_key.pem, PKCS#8 RSA", utils.LoadPrivateKey)
}

// loadKey reads a PEM key file named by cr and parses it, explaining a bad
// file (what, and what a valid one looks like) without echoing it.
func loadKey[K any](cr setting, what, pemType, example string, parse func(string) (K, error)) (K, error) {
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
func loadPublicKey(cr setting) (*rsa.PublicKey, error) {
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
	"WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_PLATFORM_CERTIFICATES", "WECHATPAY_APIV3_KEY",
	"WECHATPAY_APIV2_KEY", "WECHATPAY_BASE_URL"}

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
