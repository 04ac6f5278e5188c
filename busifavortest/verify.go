package busifavortest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authScheme is the only Authorization scheme APIv3 accepts.
const authScheme = "WECHATPAY2-SHA256-RSA2048"

// clockSkew is how far a request timestamp may be from the server's clock.
const clockSkew = 5 * time.Minute

// authFields are the five parameters of the Authorization header.
var authFields = []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}

// parseAuthorization splits `WECHATPAY2-SHA256-RSA2048 k="v",…` into its
// fields, in any order.
func parseAuthorization(h string) (map[string]string, error) {
	scheme, params, ok := strings.Cut(strings.TrimSpace(h), " ")
	if h == "" {
		return nil, errors.New("no Authorization header")
	}
	if !ok || scheme != authScheme {
		return nil, fmt.Errorf("the Authorization scheme must be %s", authScheme)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("the Authorization parameter %q is not key=\"value\"", k)
		}
		if _, dup := fields[k]; dup {
			return nil, fmt.Errorf("the Authorization parameter %s appears twice", k)
		}
		fields[k] = v[1 : len(v)-1]
	}
	for _, k := range authFields {
		if fields[k] == "" {
			return nil, fmt.Errorf("the Authorization parameter %s is missing", k)
		}
	}
	return fields, nil
}

// verify checks a request the way WeChat Pay does and returns the calling
// merchant's id. The error says which check failed. With consume, a verified
// request's nonce is remembered, so a replay of it is refused.
func (s *Server) verify(r *http.Request, body []byte, consume bool) (string, error) {
	f, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	m := s.cfg.merchants[f["mchid"]]
	if m == nil {
		return "", fmt.Errorf("mchid %s is not a known merchant", f["mchid"])
	}
	if f["serial_no"] != m.serial {
		return "", fmt.Errorf("serial_no %s is not merchant %s's certificate", f["serial_no"], f["mchid"])
	}
	ts, err := strconv.ParseInt(f["timestamp"], 10, 64)
	if err != nil {
		return "", errors.New("timestamp is not a Unix time in seconds")
	}
	now := s.now()
	if d := now.Sub(time.Unix(ts, 0)); d > clockSkew || d < -clockSkew {
		return "", fmt.Errorf("timestamp is %s away from WeChat Pay's clock (limit %s)", d.Round(time.Second), clockSkew)
	}
	sig, err := base64.StdEncoding.DecodeString(f["signature"])
	if err != nil {
		return "", errors.New("signature is not base64")
	}
	// The request-target exactly as it arrived: WeChat Pay checks the bytes
	// that were signed, not a re-escaped form of them.
	msg := r.Method + "\n" + r.RequestURI + "\n" + f["timestamp"] + "\n" + f["nonce_str"] + "\n" + string(body) + "\n"
	h := sha256.Sum256([]byte(msg))
	if rsa.VerifyPKCS1v15(m.key, crypto.SHA256, h[:], sig) != nil {
		return "", errors.New("signature does not verify over method, URI, timestamp, nonce and body with the merchant's key")
	}
	// Only a verified nonce is remembered, so forgeries cannot burn one.
	if !consume {
		return f["mchid"], nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.prunedAt) > time.Minute {
		for n, t := range s.nonces {
			if now.Sub(t) > clockSkew {
				delete(s.nonces, n)
			}
		}
		s.prunedAt = now
	}
	key := f["mchid"] + "/" + f["nonce_str"]
	if _, seen := s.nonces[key]; seen {
		return "", errors.New("nonce_str was already used: a replayed request")
	}
	s.nonces[key] = time.Unix(ts, 0)
	return f["mchid"], nil
}
