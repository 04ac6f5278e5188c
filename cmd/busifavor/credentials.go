package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

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
	flag, env, value string
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
	c.mchID = credential{flag: "merchant-id", env: "WECHATPAY_MCHID"}
	c.serial = credential{flag: "cert-serial", env: "WECHATPAY_CERT_SERIAL"}
	c.privateKeyFile = credential{flag: "private-key-file", env: "WECHATPAY_PRIVATE_KEY_FILE"}
	c.publicKeyID = credential{flag: "public-key-id", env: "WECHATPAY_PUBLIC_KEY_ID"}
	c.publicKeyFile = credential{flag: "public-key-file", env: "WECHATPAY_PUBLIC_KEY_FILE"}
	c.apiV3KeyFile = credential{flag: "apiv3-key-file"}
	for _, cr := range c.all() {
		fs.StringVar(&cr.value, cr.flag, "", "credential; see usage")
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
}

// newSandbox starts an in-process fake WeChat Pay, with a notify URL already
// set so that get has something to read.
func newSandbox(baseURL string) (*environment, error) {
	if baseURL != "" {
		return nil, errors.New("--base-url does not go with the sandbox")
	}
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/busifavor/notify"))
	c, err := s.Client()
	if err != nil {
		s.Close()
		return nil, err
	}
	return &environment{client: c, close: s.Close, sandbox: s, verifier: s.Verifier(), apiV3Key: s.APIv3Key()}, nil
}

// environment builds a client for the real API (or baseURL) from the
// credentials.
func (c *credentials) environment(ctx context.Context, baseURL string) (*environment, error) {
	var missing []string
	for _, cr := range []*credential{&c.mchID, &c.serial, &c.privateKeyFile} {
		if cr.value == "" {
			missing = append(missing, cr.name())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("credentials incomplete: set %s (or unset them all to use the sandbox)", strings.Join(missing, ", "))
	}
	key, err := utils.LoadPrivateKeyWithPath(c.privateKeyFile.value)
	if err != nil {
		return nil, fmt.Errorf("cannot load the merchant private key from %s (%s): %v", c.privateKeyFile.name(), c.privateKeyFile.value, err)
	}
	apiV3Key, err := c.readAPIv3Key()
	if err != nil {
		return nil, err
	}
	authOpt, verifier, err := c.auth(key, apiV3Key)
	if err != nil {
		return nil, err
	}
	cc, err := core.NewClient(ctx, authOpt)
	if err != nil {
		return nil, fmt.Errorf("cannot build the WeChat Pay client: %v", err)
	}
	if verifier == nil { // platform-certificate mode: the downloader now has them
		verifier = verifiers.NewSHA256WithRSAVerifier(downloader.MgrInstance().GetCertificateVisitor(c.mchID.value))
	}
	var opts []busifavor.Option
	if baseURL != "" {
		opts = append(opts, busifavor.WithBaseURL(baseURL), busifavor.WithBackupBaseURL(""))
	}
	cl, err := busifavor.NewClient(cc, opts...)
	if err != nil {
		return nil, err
	}
	return &environment{client: cl, close: func() {}, verifier: verifier, apiV3Key: apiV3Key}, nil
}

// readAPIv3Key reads the APIv3 key from --apiv3-key-file or
// WECHATPAY_APIV3_KEY; "" when neither is set.
func (c *credentials) readAPIv3Key() (string, error) {
	key := c.apiV3Key
	if c.apiV3KeyFile.value != "" {
		b, err := os.ReadFile(c.apiV3KeyFile.value)
		if err != nil {
			return "", fmt.Errorf("cannot read the APIv3 key from %s (%s): %v", c.apiV3KeyFile.name(), c.apiV3KeyFile.value, errors.Unwrap(err))
		}
		key = strings.TrimSpace(string(b))
	}
	if key != "" && len(key) != 32 {
		return "", fmt.Errorf("the APIv3 key must be 32 bytes, got %d", len(key))
	}
	return key, nil
}

// auth picks public-key mode, returning its verifier, or
// platform-certificate mode, whose verifier exists only once the client is
// built (nil here).
func (c *credentials) auth(key *rsa.PrivateKey, apiV3Key string) (core.ClientOption, auth.Verifier, error) {
	if c.publicKeyID.value != "" || c.publicKeyFile.value != "" {
		if c.publicKeyID.value == "" || c.publicKeyFile.value == "" {
			return nil, nil, fmt.Errorf("public-key mode needs both %s and %s", c.publicKeyID.name(), c.publicKeyFile.name())
		}
		pub, err := loadPublicKey(c.publicKeyFile)
		if err != nil {
			return nil, nil, err
		}
		return option.WithWechatPayPublicKeyAuthCipher(c.mchID.value, c.serial.value, key, c.publicKeyID.value, pub),
			verifiers.NewSHA256WithRSAPubkeyVerifier(c.publicKeyID.value, *pub), nil
	}
	if apiV3Key == "" {
		return nil, nil, fmt.Errorf("set %s and %s (WeChat Pay public key), or WECHATPAY_APIV3_KEY / --apiv3-key-file (platform certificates)",
			c.publicKeyID.name(), c.publicKeyFile.name())
	}
	return option.WithWechatPayAutoAuthCipher(c.mchID.value, c.serial.value, key, apiV3Key), nil, nil
}

func loadPublicKey(cr credential) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(cr.value)
	if err != nil {
		return nil, fmt.Errorf("cannot read the WeChat Pay public key from %s (%s): %v", cr.name(), cr.value, errors.Unwrap(err))
	}
	pub, err := utils.LoadPublicKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("the file given by %s (%s) is not an RSA public key in PEM (BEGIN PUBLIC KEY)", cr.name(), cr.value)
	}
	return pub, nil
}
