package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// eventCommands send test events.
var eventCommands = []command{
	{
		name: "event send", group: groupNotify, summary: "send a signed sample event to a backend", arg: "URL",
		usage: "URL [--keys-dir DIR] [--coupon-code C] [--stock-id S] [--openid O]",
		help: `Sends a signed, encrypted sample COUPON.SEND event to URL, as WeChat Pay
would, so that you can check a backend you just deployed; prints the
backend's answer and exits 0 when it answers 2xx. Like WeChat Pay it
follows no redirect: a 3xx (a login page, an http-to-https hop) is a
failure, and the command names its Location.

Only WeChat Pay holds WeChat Pay's private key, so the event is signed with a
test key kept in --keys-dir. Give it the --dir of busifavor sandbox: the
event is then signed and encrypted as that sandbox signs its own, and a
backend deployed for testing against the sandbox (started after
. DIR/sandbox.env) accepts it. A backend that calls WeChat Pay itself
cannot: it verifies WeChat Pay's answers with the same public key, so a
test key would break its start-up. Production never gets a test key.

Without a sandbox, a test key pair is made in --keys-dir on first use
(DIR/pub_key.pem, its id in DIR/public_key_id), for a receiver that only
verifies events, such as busifavor listen. The resource is encrypted with
your APIv3 key (WECHATPAY_APIV3_KEY or --apiv3-key-file) when you give it,
otherwise with the key in DIR/apiv3_key. The command prints the settings.
It reads nothing else: no signing credentials.`,
		examples: []string{"event send http://127.0.0.1:8080/busifavor/notify --keys-dir test-event-keys"},
		flags: func(fs *flag.FlagSet) action {
			keysDir := fs.String("keys-dir", defaultKeysDir(), "where the test key pair (and, without your APIv3 key, a test APIv3 key) are kept")
			sample := busifavor.CouponSend{EventType: "EVENT_TYPE_BUSICOUPON_SEND", SendChannel: busifavor.SendChannelAPI}
			fs.StringVar(&sample.CouponCode, "coupon-code", "SAMPLE-COUPON-0001", "the sample coupon's code")
			fs.StringVar(&sample.StockID, "stock-id", "1200000001", "the sample coupon's stock")
			fs.StringVar(&sample.OpenID, "openid", "", "the sample user's openid (none by default, as without notify_appid)")
			apiV3Key := setting{flag: "apiv3-key-file", env: "WECHATPAY_APIV3_KEY", keyFile: true}
			fs.StringVar(&apiV3Key.value, apiV3Key.flag, "", "a file holding your APIv3 key, to encrypt with (or set WECHATPAY_APIV3_KEY to the key)")
			timeoutFlag(fs, 30*time.Second)
			return func(ctx context.Context, c *call) int {
				if apiV3Key.fromFlag = apiV3Key.value != ""; !apiV3Key.fromFlag {
					apiV3Key.value = strings.TrimSpace(c.environ[apiV3Key.env])
				}
				key, f := readKey(&apiV3Key, "APIv3 key", 32) // the merchant's, which the backend has; "" when not given
				if f.problem != "" {
					return c.fail("%s", f.problem)
				}
				return sendEvent(ctx, c, *keysDir, key, sample)
			}
		},
	},
}

// defaultKeysDir is where event send keeps its test keys unless told.
func defaultKeysDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "busifavor", "test-event-keys")
	}
	return "busifavor-test-event-keys"
}

// testKeys are event send's test signing key, its id, and the APIv3 key it
// encrypts with.
type testKeys struct {
	key      *rsa.PrivateKey
	keyID    string
	apiV3Key string
	created  bool // the key pair was made now
}

// loadTestKeys reads the test keys from dir, making the missing ones. The
// APIv3 key is apiV3Key when given, else the one kept in dir.
func loadTestKeys(dir, apiV3Key string) (*testKeys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := &testKeys{apiV3Key: apiV3Key}
	keyFile, pubFile, idFile, v3File := filepath.Join(dir, "test_wechatpay_key.pem"), filepath.Join(dir, "pub_key.pem"),
		filepath.Join(dir, "public_key_id"), filepath.Join(dir, "apiv3_key")
	b, err := os.ReadFile(keyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A directory that holds a public key but not its private key is
		// not one event send made (another tool's keys): never overwrite it.
		for _, f := range []string{pubFile, idFile} {
			if _, err := os.Stat(f); err == nil {
				return nil, fmt.Errorf("it holds %s but no %s: it is not a directory event send made its keys in; "+
					"give an empty or new directory", filepath.Base(f), filepath.Base(keyFile))
			}
		}
		if k.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return nil, err
		}
		pub, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
		if err != nil {
			return nil, err
		}
		k.keyID, k.created = "PUB_KEY_ID_TEST"+randomHex(12), true
		for _, f := range []struct {
			name string
			data []byte
		}{{keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})},
			{pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})}, {idFile, []byte(k.keyID + "\n")}} {
			if err := os.WriteFile(f.name, f.data, 0o600); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, err
	default:
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM key", keyFile)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", keyFile, err)
		}
		var ok bool
		if k.key, ok = parsed.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%s is not an RSA key", keyFile)
		}
		id, err := os.ReadFile(idFile)
		if err != nil {
			return nil, err
		}
		k.keyID = strings.TrimSpace(string(id))
	}
	if k.apiV3Key != "" {
		return k, nil
	}
	v3, err := os.ReadFile(v3File)
	if errors.Is(err, fs.ErrNotExist) {
		v3 = []byte(randomHex(16))
		err = os.WriteFile(v3File, v3, 0o600)
	}
	if err != nil {
		return nil, err
	}
	k.apiV3Key = strings.TrimSpace(string(v3))
	return k, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sendEvent is event send: sample, signed with the test key in keysDir
// and encrypted with apiV3Key (or the test APIv3 key kept there), goes to
// the URL argument.
func sendEvent(ctx context.Context, c *call, keysDir, apiV3Key string, sample busifavor.CouponSend) int {
	stdout, stderr := c.stdout, c.stderr
	u, err := url.Parse(c.arg)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return c.fail("URL %q must be an absolute http or https URL", c.arg)
	}
	if why := notAPath(keysDir); why != "" { // nothing is made of a value that is not a path
		return c.fail("--keys-dir does not look like a path (%s; the value is not shown): give a directory", why)
	}
	keys, err := loadTestKeys(keysDir, apiV3Key)
	if err != nil {
		return c.fail("--keys-dir %s: %v", keysDir, err)
	}
	if keys.created {
		fmt.Fprintf(stderr, "busifavor event send: made a test key pair in %s\n", keysDir)
	}
	printReceiverSettings(stderr, keysDir, keys, apiV3Key)
	signer := busifavortest.NewServer(busifavortest.WithPlatformKey(keys.key, keys.keyID), busifavortest.WithAPIv3Key(keys.apiV3Key))
	defer signer.Close()
	sample.SendTime, sample.SendMerchant = signer.Now(), signer.MchID()
	resp, err := signer.SendCouponEvent(ctx, u.String(), sample)
	if err != nil {
		fmt.Fprintf(stderr, "busifavor event send: %v\n", err)
		return exitAPI
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	fmt.Fprintf(stdout, "%s answered %s %s\n", u.Redacted(), resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// WeChat Pay follows no redirect, and neither did the event: a login
		// page or a moved URL in front of the backend loses every event.
		fmt.Fprintf(stderr, "busifavor event send: the backend answered a redirect to %s, which WeChat Pay does not follow: "+
			"the event would not be delivered; make URL itself answer (no login page, no http-to-https or trailing-slash redirect in front of it)\n",
			location(resp))
		return exitAPI
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintln(stderr, "busifavor event send: the backend did not accept the event; WeChat Pay would deliver it again")
		return exitAPI
	}
	return exitOK
}

// location is a redirect's target as the command shows it: resolved against
// the request, its password hidden, or "no Location" when there is none.
func location(resp *http.Response) string {
	loc, err := resp.Location()
	switch {
	case errors.Is(err, http.ErrNoLocation):
		return "no Location"
	case err != nil:
		return fmt.Sprintf("%q (not a URL)", resp.Header.Get("Location"))
	}
	return loc.Redacted()
}
