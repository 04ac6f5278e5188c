package busifavortest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"

	"github.com/busifavor-go/busifavor"
)

// APIv3Key returns the merchant's APIv3 key, which encrypts notifications
// (and, in platform-certificate mode, certificates).
func (s *Server) APIv3Key() string { return s.cfg.apiV3Key }

// Verifier returns a verifier for what the server signs: its WeChat Pay
// public key, or in platform-certificate mode its certificate. Pass it to
// busifavor.NewEventParser. It is one of wechatpay-go's verifiers, so it
// also satisfies auth.Verifier (assert it to pass it to wechatpay-go).
func (s *Server) Verifier() busifavor.Verifier {
	if pc := s.cfg.platformCert; pc != nil {
		return verifiers.NewSHA256WithRSAVerifier(core.NewCertificateMapWithList([]*x509.Certificate{pc.cert}))
	}
	pub, id := s.PublicKey()
	return verifiers.NewSHA256WithRSAPubkeyVerifier(id, *pub)
}

// digits matches a merchant id WeChat Pay would send as a JSON number.
var digits = regexp.MustCompile(`^[0-9]{1,18}$`)

// CouponNotification builds a COUPON.SEND notification for c exactly as
// WeChat Pay sends one: the resource encrypted under the APIv3 key, the body
// signed with the server's key, stamped with the server's clock (which also
// stands in for a zero SendTime). It returns
// the headers and body without sending them, for consumers that do not
// speak HTTP (a queue, fasthttp).
func (s *Server) CouponNotification(c busifavor.CouponSend) (http.Header, []byte) {
	_, body := s.couponBody(c)
	return s.SignNotification(body), body
}

// couponBody builds a COUPON.SEND notification body for c with a new event
// id, and returns both.
func (s *Server) couponBody(c busifavor.CouponSend) (id string, body []byte) {
	now := s.now()
	if c.EventType == "" {
		c.EventType = "EVENT_TYPE_BUSICOUPON_SEND"
	}
	if c.SendTime.IsZero() {
		c.SendTime = now
	}
	type attach struct {
		busifavor.AttachInfo
		HallBelongMchID any `json:"hall_belong_mch_id,omitempty"`
	}
	type resource struct {
		busifavor.CouponSend
		SendTime   string  `json:"send_time"`
		AttachInfo *attach `json:"attach_info,omitempty"`
	}
	r := resource{CouponSend: c, SendTime: FormatTime(c.SendTime)}
	if c.AttachInfo != nil {
		a := &attach{AttachInfo: *c.AttachInfo}
		if id := c.AttachInfo.HallBelongMchID; digits.MatchString(id) {
			a.HallBelongMchID = json.Number(id) // documented as an int
		} else if id != "" {
			a.HallBelongMchID = id
		}
		r.AttachInfo = a
	}
	plaintext, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	nonce, ciphertext := encryptAEAD(s.cfg.apiV3Key, "coupon", plaintext)
	id = newEventID()
	body, err = json.Marshal(map[string]any{
		"id":            id,
		"create_time":   FormatTime(now),
		"event_type":    busifavor.EventTypeCouponSend,
		"resource_type": "encrypt-resource",
		"summary":       "商家券领券通知",
		"resource": map[string]string{
			"original_type":   "coupon",
			"algorithm":       "AEAD_AES_256_GCM",
			"ciphertext":      ciphertext,
			"associated_data": "coupon",
			"nonce":           nonce,
		},
	})
	if err != nil {
		panic(err)
	}
	return id, body
}

// SignNotification returns the headers WeChat Pay sends with a notification
// body: a signature over "timestamp\nnonce\nbody\n" with the server's key and
// clock, the signing key's serial, and the signature type. Tests use it to
// sign bodies of their own making.
func (s *Server) SignNotification(body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	s.setSignature(h, body, signNormal)
	return h
}

// PlatformCertificate returns the server's platform certificate, or nil
// outside platform-certificate mode.
func (s *Server) PlatformCertificate() *x509.Certificate {
	if s.cfg.platformCert == nil {
		return nil
	}
	return s.cfg.platformCert.cert
}

// SendCouponEvent POSTs a COUPON.SEND notification for c to notifyURL, as
// WeChat Pay does, so a merchant's real handler can be tested end to end.
// Like WeChat Pay (and the fake's own deliveries) it follows no redirect: a
// 3xx is the answer. The caller closes the response body.
func (s *Server) SendCouponEvent(ctx context.Context, notifyURL string, c busifavor.CouponSend) (*http.Response, error) {
	h, body := s.CouponNotification(c)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h
	req.Header.Set("User-Agent", "Mozilla/4.0 (busifavortest)")
	return s.dl.client.Do(req)
}

// newEventID returns a 36-character id like WeChat Pay's.
func newEventID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// WriteCredentials writes the calling merchant's private key
// (apiclient_key.pem, PKCS#8) and WeChat Pay's public key (pub_key.pem) into
// dir and returns the environment a merchant's program reads them from:
// WECHATPAY_MCHID, WECHATPAY_CERT_SERIAL, WECHATPAY_PRIVATE_KEY_FILE,
// WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY_FILE and WECHATPAY_APIV3_KEY,
// the names cmd/busifavor and the example backend use. It is for testing a
// whole program (a built binary) against the fake.
func (s *Server) WriteCredentials(dir string) (map[string]string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(s.cfg.merchantKey)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&s.cfg.platformKey.PublicKey)
	if err != nil {
		return nil, err
	}
	keyFile, pubFile := filepath.Join(dir, "apiclient_key.pem"), filepath.Join(dir, "pub_key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return nil, err
	}
	return map[string]string{
		"WECHATPAY_MCHID":            s.cfg.mchID,
		"WECHATPAY_CERT_SERIAL":      s.cfg.merchantSerial,
		"WECHATPAY_PRIVATE_KEY_FILE": keyFile,
		"WECHATPAY_PUBLIC_KEY_ID":    s.cfg.publicKeyID,
		"WECHATPAY_PUBLIC_KEY_FILE":  pubFile,
		"WECHATPAY_APIV3_KEY":        s.cfg.apiV3Key,
	}, nil
}
