package busifavortest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

// certificatesPath is where WeChat Pay serves its platform certificates.
const certificatesPath = "/v3/certificates"

// platformCert is the server's platform certificate in platform-certificate
// mode.
type platformCert struct {
	cert     *x509.Certificate
	key      *rsa.PrivateKey
	serial   string
	pem      []byte
	notAfter time.Time
	from     time.Time
}

// WithPlatformCertificate switches the server to platform-certificate mode,
// for merchants not yet on WeChat Pay public keys: it answers GET
// /v3/certificates with a certificate encrypted under apiV3Key (32 bytes),
// signs answers and notifications with that certificate's serial, and
// ClientOptions then builds clients the way option.WithWechatPayAutoAuthCipher
// does.
func WithPlatformCertificate(apiV3Key string) Option {
	return func(c *config) { c.apiV3Key, c.certMode = apiV3Key, true }
}

// WithAPIv3Key fixes the merchant's APIv3 key (32 bytes) instead of
// generating it.
func WithAPIv3Key(apiV3Key string) Option { return func(c *config) { c.apiV3Key = apiV3Key } }

// newPlatformCert issues a self-signed certificate for key.
func newPlatformCert(key *rsa.PrivateKey, now time.Time) *platformCert {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Tenpay.com Root CA (busifavortest)", Organization: []string{"Tenpay.com"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &platformCert{
		cert:     cert,
		key:      key,
		serial:   utils.GetCertificateSerialNumber(*cert), // as wechatpay-go keys certificates
		pem:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		from:     tmpl.NotBefore,
		notAfter: tmpl.NotAfter,
	}
}

// certificates answers GET /v3/certificates as WeChat Pay does.
func (s *Server) certificates(w http.ResponseWriter) {
	pc := s.cfg.platformCert
	nonce, ct := encryptAEAD(s.cfg.apiV3Key, "certificate", pc.pem)
	type encrypted struct {
		Algorithm      string `json:"algorithm"`
		Nonce          string `json:"nonce"`
		AssociatedData string `json:"associated_data"`
		Ciphertext     string `json:"ciphertext"`
	}
	type cert struct {
		SerialNo           string    `json:"serial_no"`
		EffectiveTime      string    `json:"effective_time"`
		ExpireTime         string    `json:"expire_time"`
		EncryptCertificate encrypted `json:"encrypt_certificate"`
	}
	s.writeJSON(w, http.StatusOK, struct {
		Data []cert `json:"data"`
	}{[]cert{{
		SerialNo:           pc.serial,
		EffectiveTime:      pc.from.In(cst).Format(time.RFC3339),
		ExpireTime:         pc.notAfter.In(cst).Format(time.RFC3339),
		EncryptCertificate: encrypted{"AEAD_AES_256_GCM", nonce, "certificate", ct},
	}}})
}

// encryptAEAD encrypts plaintext the way WeChat Pay encrypts resources:
// AEAD_AES_256_GCM under the APIv3 key with a fresh 12-character nonce. It
// returns the nonce and the base64 ciphertext.
func encryptAEAD(apiV3Key, associatedData string, plaintext []byte) (nonce, ciphertext string) {
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		panic(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	nonce = randomHex(6) // 12 characters, used as 12 bytes
	sealed := gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))
	return nonce, base64.StdEncoding.EncodeToString(sealed)
}

// certAuthOption builds clients the way option.WithWechatPayAutoAuthCipher
// does, with a certificate downloader that reaches this server. Its
// bootstrap client has no validator, exactly as wechatpay-go's own
// downloader: the first download is checked by the certificates it yields.
func (s *Server) certAuthOption() core.ClientOption {
	s.mgrOnce.Do(func() {
		ctx := context.Background()
		boot, err := core.NewClient(ctx,
			option.WithMerchantCredential(s.cfg.mchID, s.cfg.merchantSerial, s.cfg.merchantKey),
			option.WithoutValidator(),
			option.WithHTTPClient(s.HTTPClient()))
		if err != nil {
			s.mgrErr = err
			return
		}
		s.mgr = downloader.NewCertificateDownloaderMgr(ctx)
		s.mgrErr = s.mgr.RegisterDownloaderWithClient(ctx, boot, s.cfg.mchID, s.cfg.apiV3Key)
	})
	if s.mgrErr != nil {
		return core.ErrorOption{Error: s.mgrErr}
	}
	return option.WithWechatPayAutoAuthCipherUsingDownloaderMgr(s.cfg.mchID, s.cfg.merchantSerial, s.cfg.merchantKey, s.mgr)
}
