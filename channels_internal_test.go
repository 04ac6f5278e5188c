package busifavor

import "testing"

// TestSignMatchesTheV2PageExample checks the signer against the worked
// example of WeChat Pay's V2 signing rules (安全规范, 签名算法,
// https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3): its
// parameters and key give sign 6A9AE165…DACD6 with HMAC-SHA256 (and
// 9A0A8659… with MD5, which the send channels do not use). The empty value
// must be left out, as the rules say.
func TestSignMatchesTheV2PageExample(t *testing.T) {
	s := &CouponSigner{key: func() []byte { return []byte("192006250b4c09247ec02edce69f6a2d") }}
	got := s.sign([]param{{"mch_id", "10000100"}, {"body", "test"}, {"nonce_str", "ibuaiVcKdpRxkhJA"},
		{"appid", "wxd930ea5d5a258f4f"}, {"device_info", "1000"}, {"attach", ""}})
	if want := "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"; got != want {
		t.Fatalf("sign = %s, the page says %s", got, want)
	}
}
