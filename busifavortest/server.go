package busifavortest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/busifavor-go/busifavor"
)

// DefaultMchID is the merchant id a Server uses unless WithMchID says
// otherwise; it is the API page's example.
const DefaultMchID = "10000098"

// CallbacksPath is the notify URL's resource.
const CallbacksPath = "/v3/marketing/busifavor/callbacks"

// maxRequestBody is what the fake reads of a request body.
const maxRequestBody = 1 << 20

// How the fake serves HTTP. It may listen on a port that others can reach
// (busifavor sandbox, WithListener), so no client can hold a connection, a
// goroutine or memory for long: headers must arrive whole within
// ReadHeaderTimeout and within MaxHeaderBytes, a request (an image upload is
// the largest, about 2 MiB) within ReadTimeout, and an answer must be
// written within WriteTimeout. Close waits at most shutdownTimeout for the
// requests under way, then closes their connections.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 5 * time.Second
)

// Server is a fake WeChat Pay on loopback for the merchant-coupon API. It
// verifies every request's signature the way WeChat Pay does, enforces the
// API's rules, keeps the merchant's state (notify URL, stocks, codes,
// coupons, subsidies), signs every answer, delivers coupon events, records
// what arrived, and fails on demand (see Fail). Start one with NewServer and
// stop it with Close.
type Server struct {
	// URL is the base URL of the server, http://127.0.0.1:port, for
	// busifavor.WithBaseURL.
	URL string

	// Everything else sits behind a pointer, so that printing a Server value
	// cannot reach its keys even through fmt's reflection.
	*server
}

// String names the server by its URL; no key is ever shown.
func (s *Server) String() string { return "busifavortest.Server{URL: " + s.URL + "}" }

// Format prints String for every verb (%v, %+v, %#v, %s, …), on a value as on
// a pointer. It is the one method on the value, so that a value prints this
// way too.
func (s Server) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// server is a Server's state.
type server struct {
	srv        *http.Server
	served     chan struct{}   // closed when srv.Serve has returned
	closeOnce  sync.Once       // Close's work, done once
	transport  *http.Transport // the connections of httpClient
	httpClient *http.Client    // sends WeChat Pay's domains to srv
	cfg        config

	reqSeq atomic.Uint64

	mgrOnce sync.Once // platform-certificate mode's downloader, made on first use
	mgr     *downloader.CertificateDownloaderMgr
	mgrErr  error

	mu       sync.Mutex
	state    map[string]stored    // mchid -> what the last SET stored
	nonces   map[string]time.Time // request nonces seen, with their timestamps
	prunedAt time.Time            // when nonces older than clockSkew were last dropped
	faults   []*pendingFault
	requests []Request // the most recent, within maxRecorded and maxRecordedBytes
	recorded int       // the bytes requests holds (Request.size)

	dl deliveries // ClaimCoupon's event deliveries

	stocks         map[string]*stock // stock_id -> stock
	stockByRequest map[string]string // caller + "\x00" + out_request_no -> stock_id
	stockSeq       int

	coupons     map[string]*userCoupon   // couponKey(stock_id, coupon_code) -> coupon
	byCode      map[string][]*userCoupon // coupon_code -> its coupons, one per stock holding the code
	couponOrder []*userCoupon            // coupons in the order they were issued
	sends       map[string]string        // a send's or gov card's idempotency key -> coupon_code
	couponSeq   int

	payReceipts    map[string]*payReceipt    // caller + "\x00" + out_subsidy_no -> payment
	payOrder       []*payReceipt             // payments, oldest first
	returnReceipts map[string]*returnReceipt // caller + "\x00" + out_subsidy_return_no -> return
	receiptSeq     int

	ch channelState // the send channels' claims and uploaded images (channels.go, image.go)
	pt partnerState // partnerships and their Idempotency-Keys (partnerships.go)
}

// stored is one merchant's notify URL.
type stored struct {
	notifyURL  string
	updateTime time.Time
}

// merchant is a caller the server knows.
type merchant struct {
	serial string
	key    *rsa.PublicKey
	actFor map[string]bool
}

// config is what the options set.
type config struct {
	mchID          string
	merchantKey    *rsa.PrivateKey
	merchantSerial string
	platformKey    *rsa.PrivateKey
	publicKeyID    string
	clock          func() time.Time
	merchants      map[string]*merchant
	delegates      map[string][]string
	apiV3Key       string
	apiV2Key       string            // the send channels' signing key (WithAPIv2Key)
	apiV2Keys      map[string]string // other merchants' APIv2 keys (WithMerchantAPIv2Key)
	certMode       bool              // WithPlatformCertificate was given
	platformCert   *platformCert     // made in NewServer when certMode
	preset         map[string]string // mchid -> notify URL set before start
	maxRecorded    int
	maxBytes       int          // WithMaxRecordedBytes
	listener       net.Listener // WithListener; nil: a new one on 127.0.0.1
	timeouts       serveTimeouts
	delivery       DeliveryPolicy
	settlement     SubsidySettlement
	spelling       StatusSpelling
}

// serveTimeouts are the HTTP server's limits (see readHeaderTimeout).
type serveTimeouts struct {
	readHeader, read, write, idle, shutdown time.Duration
}

// Option configures a Server in NewServer.
type Option func(*config)

// WithMchID sets the calling merchant's id (default DefaultMchID).
func WithMchID(mchID string) Option { return func(c *config) { c.mchID = mchID } }

// WithMerchantKey fixes the calling merchant's private key and certificate
// serial instead of generating them.
func WithMerchantKey(key *rsa.PrivateKey, serial string) Option {
	return func(c *config) { c.merchantKey, c.merchantSerial = key, serial }
}

// WithPlatformKey fixes WeChat Pay's signing key and its public key id
// (PUB_KEY_ID_…) instead of generating them.
func WithPlatformKey(key *rsa.PrivateKey, publicKeyID string) Option {
	return func(c *config) { c.platformKey, c.publicKeyID = key, publicKeyID }
}

// WithClock sets the server's clock: request timestamps are checked against
// it, answers are stamped with it, and update_time comes from it.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithMerchant lets another merchant call the server with its own
// certificate serial and public key.
func WithMerchant(mchID, serial string, key *rsa.PublicKey) Option {
	return func(c *config) {
		if c.merchants == nil {
			c.merchants = map[string]*merchant{}
		}
		c.merchants[mchID] = &merchant{serial: serial, key: key}
	}
}

// WithDelegation lets caller set and read the notify URL of each of mchIDs,
// as a service provider may for its sub-merchants. Without it a request
// naming another merchant's mchid answers 400 PARAM_ERROR.
func WithDelegation(caller string, mchIDs ...string) Option {
	return func(c *config) {
		if c.delegates == nil {
			c.delegates = map[string][]string{}
		}
		c.delegates[caller] = append(c.delegates[caller], mchIDs...)
	}
}

// WithNotifyURL starts the server with notifyURL already set for mchID, as if
// an earlier SET had stored it.
func WithNotifyURL(mchID, notifyURL string) Option {
	return func(c *config) {
		if c.preset == nil {
			c.preset = map[string]string{}
		}
		c.preset[mchID] = notifyURL
	}
}

// WithListener serves the fake on l (which Close closes) instead of a new
// listener on a free port of 127.0.0.1. It is for running the fake as a
// server of its own (busifavor sandbox): listen on a loopback address unless
// others must reach it, since whoever reaches it can read what it holds.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// NewServer starts a fake WeChat Pay on loopback (or on WithListener's
// listener). Keys are generated per server unless fixed with options. It
// panics if it cannot listen, like httptest.NewServer.
func NewServer(opts ...Option) *Server {
	cfg := config{mchID: DefaultMchID, clock: time.Now, maxRecorded: DefaultMaxRecorded, maxBytes: DefaultMaxRecordedBytes,
		delivery: DefaultDeliveryPolicy, timeouts: serveTimeouts{readHeader: readHeaderTimeout, read: readTimeout,
			write: writeTimeout, idle: idleTimeout, shutdown: shutdownTimeout}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.merchantKey == nil {
		cfg.merchantKey, cfg.merchantSerial = mustKey(), randomSerial()
	}
	if cfg.platformKey == nil {
		cfg.platformKey, cfg.publicKeyID = mustKey(), "PUB_KEY_ID_0110000098"+randomDigits(10)
	}
	if cfg.merchants == nil {
		cfg.merchants = map[string]*merchant{}
	}
	cfg.merchants[cfg.mchID] = &merchant{serial: cfg.merchantSerial, key: &cfg.merchantKey.PublicKey}
	for caller, ids := range cfg.delegates {
		if m := cfg.merchants[caller]; m != nil {
			m.actFor = map[string]bool{}
			for _, id := range ids {
				m.actFor[id] = true
			}
		}
	}
	if cfg.apiV3Key == "" {
		cfg.apiV3Key = randomHex(16)
	}
	if len(cfg.apiV3Key) != 32 {
		panic("busifavortest: the APIv3 key must be 32 bytes")
	}
	if cfg.apiV2Key == "" {
		cfg.apiV2Key = randomHex(16)
	}
	if cfg.certMode {
		cfg.platformCert = newPlatformCert(cfg.platformKey, cfg.clock())
	}
	s := &Server{server: &server{cfg: cfg, state: map[string]stored{}, nonces: map[string]time.Time{},
		stocks: map[string]*stock{}, stockByRequest: map[string]string{},
		coupons: map[string]*userCoupon{}, byCode: map[string][]*userCoupon{}, sends: map[string]string{},
		payReceipts: map[string]*payReceipt{}, returnReceipts: map[string]*returnReceipt{}}}
	s.dl.ctx, s.dl.cancel = context.WithCancel(context.Background())
	s.dl.routes, s.dl.events = map[string][]*url.URL{}, map[string]*delivery{}
	s.dl.client = &http.Client{CheckRedirect: busifavor.RefuseRedirect} // WeChat Pay follows no redirect either
	for id, u := range cfg.preset {
		s.state[id] = stored{notifyURL: u, updateTime: cfg.clock()}
	}
	l := cfg.listener
	if l == nil {
		l = listenLoopback()
	}
	t := cfg.timeouts
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: t.readHeader, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle,
		MaxHeaderBytes: maxHeaderBytes,
		// Requests end with the server: Close cancels their contexts, so a
		// delayed answer (FaultDelay) does not hold Close up.
		BaseContext: func(net.Listener) context.Context { return s.dl.ctx },
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(l)
	}()
	s.URL = "http://" + l.Addr().String()
	s.transport = &http.Transport{} // no proxy: the fake is reached directly
	s.httpClient = busifavor.NewHTTPClient(&http.Client{Transport: &rewriter{host: l.Addr().String(), next: s.transport}})
	return s
}

// listenLoopback listens on a free port of 127.0.0.1, or of [::1] where
// there is no IPv4, as httptest.NewServer does.
func listenLoopback() net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if l, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic("busifavortest: cannot listen on a loopback port: " + err.Error())
		}
	}
	return l
}

// Close stops delivering events and shuts the server down: it stops
// listening, lets the requests under way finish for at most a few seconds,
// then closes every connection, a slow client's too. It returns once the
// server has stopped. Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.dl.cancel()
		s.dl.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeouts.shutdown)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.srv.Close()
		}
		<-s.served
		s.transport.CloseIdleConnections()
		if s.mgr != nil {
			s.mgr.Stop()
		}
	})
}

// MchID returns the calling merchant's id.
func (s *Server) MchID() string { return s.cfg.mchID }

// MerchantKey returns the calling merchant's private key and certificate
// serial, for building a core.Client by hand.
func (s *Server) MerchantKey() (*rsa.PrivateKey, string) {
	return s.cfg.merchantKey, s.cfg.merchantSerial
}

// PublicKey returns WeChat Pay's public key and its id, which verify the
// server's answers.
func (s *Server) PublicKey() (*rsa.PublicKey, string) {
	return &s.cfg.platformKey.PublicKey, s.cfg.publicKeyID
}

// HTTPClient returns an HTTP client that sends requests for WeChat Pay's
// domains (api.mch.weixin.qq.com, api2.mch.weixin.qq.com) to the server, so
// code that hard-wires them, such as wechatpay-go's generated services and
// certificate downloader, reaches the fake. Other hosts are left alone. It is
// built with busifavor.NewHTTPClient: it follows no redirect and reads at
// most busifavor.MaxResponseBytes of an answer.
func (s *Server) HTTPClient() *http.Client { return s.httpClient }

// rewriter sends requests for WeChat Pay's domains to host over plain HTTP.
// The request signature covers the path and query, not the host, so it
// still verifies.
type rewriter struct {
	host string
	next http.RoundTripper
}

// CloseIdleConnections closes the underlying transport's idle connections.
func (t *rewriter) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *rewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.URL.Hostname(); h != "api.mch.weixin.qq.com" && h != "api2.mch.weixin.qq.com" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", t.host, ""
	return t.next.RoundTrip(r)
}

// ClientOptions returns everything core.NewClient needs to call this server
// as its merchant: the merchant key and serial, WeChat Pay's public key id
// and key (or, in platform-certificate mode, a certificate downloader), and
// the HTTP client.
func (s *Server) ClientOptions() []core.ClientOption {
	var auth core.ClientOption
	if s.cfg.platformCert != nil {
		auth = s.certAuthOption()
	} else {
		pub, id := s.PublicKey()
		auth = option.WithWechatPayPublicKeyAuthCipher(s.cfg.mchID, s.cfg.merchantSerial, s.cfg.merchantKey, id, pub)
	}
	return []core.ClientOption{auth, option.WithHTTPClient(s.HTTPClient())}
}

// Client returns a busifavor.Client wired to this server. opts come after
// busifavor.WithBaseURL(s.URL), so they may override it. As for any base URL
// other than WeChat Pay's, failover is off unless
// busifavor.WithBackupBaseURL names a backup (busifavor.DefaultBackupBaseURL
// reaches this server too, through HTTPClient).
func (s *Server) Client(opts ...busifavor.Option) (*busifavor.Client, error) {
	c, err := core.NewClient(context.Background(), s.ClientOptions()...)
	if err != nil {
		return nil, err
	}
	return busifavor.NewClient(c, append([]busifavor.Option{busifavor.WithBaseURL(s.URL)}, opts...)...)
}

// NotifyURL returns what the last SET stored for mchID, and whether there was
// one.
func (s *Server) NotifyURL(mchID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.state[mchID]
	return st.notifyURL, ok
}

// now reads the server's clock.
func (s *Server) now() time.Time { return s.cfg.clock() }

// Now returns the time on the server's clock (WithClock; time.Now by
// default), in China Standard Time. Take the times of requests from it (a
// stock's window, a use time) so that a test or an example behaves the same
// whatever the date it runs on.
func (s *Server) Now() time.Time { return s.now().In(cst) }

// serveHTTP records and verifies the request, applies any pending fault, and
// otherwise routes it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	limit := maxRequestBody
	if r.URL.Path == busifavor.ImageUploadPath {
		limit = maxImageRequest
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "PARAM_ERROR", "could not read the request body", nil)
		return
	}
	f := s.takeFault(r)
	// A dropped connection models a request lost before WeChat Pay processed
	// it, so its nonce stays unused. That matters: Go's http.Transport
	// silently resends a GET whose reused connection closes before an answer.
	caller, verifyErr := s.verify(r, signedBody(r, body), f == nil || f.Kind != FaultDrop)
	s.record(r, body, verifyErr)
	if f != nil {
		var done bool
		if w, done = s.applyFault(w, r, f); done {
			return
		}
		// A lost answer is lost whatever it was, a refusal too.
		if l, ok := w.(*lostAnswer); ok {
			defer drop(l.conn, garbled)
		}
	}
	if len(body) > limit {
		s.writeError(w, http.StatusRequestEntityTooLarge, "PARAM_ERROR", "request body is too large", nil)
		return
	}
	if verifyErr != nil {
		s.writeError(w, http.StatusUnauthorized, string(busifavor.ErrorCodeSignError), verifyErr.Error(), nil)
		return
	}
	s.route(w, normalized(r), caller, body)
}

// normalized is r with its path resolved as an HTTP front end that
// normalises paths (nginx, a cloud gateway) resolves it before routing:
// dot segments, percent-encoded ones (%2e) too, are applied and empty
// repeated slashes merged, so /v3/marketing/busifavor/stocks/../callbacks reaches
// the callbacks. The signature was checked over the path as sent. A client
// that puts an id of dots into a path meets here what it would meet in
// production: another endpoint's answer.
func normalized(r *http.Request) *http.Request {
	raw := r.URL.EscapedPath()
	var out []string
	for _, seg := range strings.Split(raw, "/") {
		switch strings.ReplaceAll(strings.ToLower(seg), "%2e", ".") {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	clean := "/" + strings.Join(out, "/")
	if strings.HasSuffix(raw, "/") && len(out) > 0 {
		clean += "/"
	}
	if clean == raw {
		return r
	}
	p, err := url.PathUnescape(clean)
	if err != nil {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = p, clean
	return r2
}

// route answers a verified request.
func (s *Server) route(w http.ResponseWriter, r *http.Request, caller string, body []byte) {
	switch {
	case r.URL.Path == CallbacksPath && r.Method == http.MethodPost:
		s.setCallbacks(w, caller, body)
	case r.URL.Path == CallbacksPath && r.Method == http.MethodGet:
		s.getCallbacks(w, r, caller)
	case r.URL.Path == CallbacksPath:
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	case r.URL.Path == certificatesPath && r.Method == http.MethodGet && s.cfg.platformCert != nil:
		s.certificates(w)
	case r.URL.Path == busifavor.ImageUploadPath && r.Method == http.MethodPost:
		s.uploadImage(w, r, body)
	case s.stockRoute(w, r, caller, body):
	case s.couponRoute(w, r, caller, body):
	case s.subsidyRoute(w, r, caller, body):
	case s.partnerRoute(w, r, caller, body):
	default:
		s.writeError(w, http.StatusNotFound, "NOT_FOUND", "请求的资源不存在", nil)
	}
}

// callbacksBody is what both endpoints answer with.
type callbacksBody struct {
	UpdateTime string `json:"update_time,omitempty"`
	NotifyURL  string `json:"notify_url"`
	MchID      string `json:"mchid"`
}

func (s *Server) setCallbacks(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.SetCallbacksRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError), "请求体不是合法的 JSON", nil)
		return
	}
	if !s.paramsOK(w, req.Validate()) || !s.mayActFor(w, caller, "mchid", req.MchID) {
		return
	}
	target := req.MchID
	if target == "" {
		target = caller
	}
	now := s.now()
	s.mu.Lock()
	s.state[target] = stored{notifyURL: req.NotifyURL, updateTime: now}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, callbacksBody{
		UpdateTime: FormatTime(now),
		NotifyURL:  req.NotifyURL,
		MchID:      target,
	})
}

func (s *Server) getCallbacks(w http.ResponseWriter, r *http.Request, caller string) {
	req := busifavor.GetCallbacksRequest{MchID: r.URL.Query().Get("mchid")}
	if !s.paramsOK(w, req.Validate()) || !s.mayActFor(w, caller, "mchid", req.MchID) {
		return
	}
	target := req.MchID
	if target == "" {
		target = caller
	}
	s.mu.Lock()
	st, ok := s.state[target]
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, string(busifavor.ErrorCodeResourceNotExists), "商户尚未设置商家券事件通知地址", nil)
		return
	}
	s.writeJSON(w, http.StatusOK, callbacksBody{NotifyURL: st.notifyURL, MchID: target})
}

// paramsOK answers 400 PARAM_ERROR, naming the first bad field in detail,
// when the request breaks a rule.
func (s *Server) paramsOK(w http.ResponseWriter, verr error) bool {
	if ve, ok := verr.(*busifavor.ValidationError); ok {
		f := ve.Fields[0]
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError), "参数错误: "+f.String(),
			map[string]string{"field": f.Field, "issue": f.Reason, "location": "body"})
		return false
	}
	return true
}

// mayActFor answers 400 PARAM_ERROR when field names a merchant, mchID,
// that is neither the caller nor one it was delegated (WithDelegation).
func (s *Server) mayActFor(w http.ResponseWriter, caller, field, mchID string) bool {
	if mchID != "" && mchID != caller && !s.cfg.merchants[caller].actFor[mchID] {
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError),
			"参数错误: "+field+" 与调用方商户号不一致, 且调用方无权代其操作",
			map[string]string{"field": field, "value": mchID, "issue": "not the caller and not delegated", "location": "body"})
		return false
	}
	return true
}

// writeError answers an APIv3 error body, signed like every answer.
func (s *Server) writeError(w http.ResponseWriter, status int, code, message string, detail any) {
	s.writeJSON(w, status, struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  any    `json:"detail,omitempty"`
	}{code, message, detail})
}

// writeJSON answers v as JSON (Marshal: every time by FormatTime), signed.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := Marshal(v)
	if err != nil {
		panic(err) // only the server's own types are marshalled
	}
	s.writeSigned(w, status, b)
}

// signing says how an answer is signed.
type signing int

const (
	signNormal signing = iota
	signBad
	signProbe
)

// writeSigned answers body with WeChat Pay's response headers (see
// setSignature) and a unique Request-ID. A resigner writer gets the
// signature it asks for instead.
func (s *Server) writeSigned(w http.ResponseWriter, status int, body []byte) {
	how := signNormal
	if rs, ok := w.(*resigner); ok {
		how = rs.how
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	s.setSignature(h, body, how)
	h.Set("Request-ID", s.newRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setSignature sets the headers WeChat Pay signs answers and notifications
// with: Wechatpay-Timestamp and -Nonce from the server's clock, -Signature
// over "timestamp\nnonce\nbody\n" with the signing key (or the broken
// signature how asks for), -Serial, and -Signature-Type, which WeChat Pay
// sends on every signed answer and some clients require.
func (s *Server) setSignature(h http.Header, body []byte, how signing) {
	ts, nonce := fmt.Sprint(s.now().Unix()), randomHex(16)
	message := ts + "\n" + nonce + "\n" + string(body) + "\n"
	if how == signBad {
		message = "tampered\n" + message
	}
	sig := s.sign(message)
	if how == signProbe {
		sig = "WECHATPAY/SIGNTEST/" + sig
	}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", s.signingSerial())
	h.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
}

// sign signs message with WeChat Pay's key (SHA256withRSA, base64).
func (s *Server) sign(message string) string {
	h := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.signingKey(), crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// signingKey and signingSerial are the platform certificate's in
// platform-certificate mode, else the WeChat Pay public key's.
func (s *Server) signingKey() *rsa.PrivateKey {
	if s.cfg.platformCert != nil {
		return s.cfg.platformCert.key
	}
	return s.cfg.platformKey
}

func (s *Server) signingSerial() string {
	if s.cfg.platformCert != nil {
		return s.cfg.platformCert.serial
	}
	return s.cfg.publicKeyID
}

func (s *Server) newRequestID() string {
	return fmt.Sprintf("08%010X%s", s.reqSeq.Add(1), strings.ToUpper(randomHex(12)))
}

// FormatTime formats t the way WeChat Pay writes times: RFC 3339 in China
// Standard Time, yyyy-MM-DDTHH:mm:ss.sss+08:00, with the milliseconds of the
// callbacks page's update_time example (the other pages' examples have none;
// busifavor.ParseTime reads both). Every time the fake answers goes through
// it.
func FormatTime(t time.Time) string {
	return t.In(cst).Format("2006-01-02T15:04:05.000Z07:00")
}

var cst = time.FixedZone("CST", 8*3600)

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomSerial() string { return strings.ToUpper(randomHex(20)) }

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}
