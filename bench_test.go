package busifavor_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/merchantexclusivecoupon"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// cannedTransport answers every request in memory with one correctly signed
// answer, signed once up front, so both sides of a comparison do identical
// work: one request signature and one answer verification per call.
type cannedTransport struct {
	body   []byte
	header http.Header
}

func (c *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.header.Clone(), Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r,
	}, nil
}

// benchKeys are generated once: key generation is not what is measured.
var benchKeys = struct {
	merchant, platform *rsa.PrivateKey
}{mustRSA(), mustRSA()}

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

const benchPubKeyID = "PUB_KEY_ID_0000000000000000000000000000"

// benchCore returns a core client whose transport answers body, signed.
func benchCore(b *testing.B, body string) *core.Client {
	b.Helper()
	h := signedHeader(benchKeys.platform, benchPubKeyID, body)
	h.Set("Request-ID", "08BENCH")
	cc, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher("10000098", "SERIAL", benchKeys.merchant, benchPubKeyID, &benchKeys.platform.PublicKey),
		option.WithHTTPClient(&http.Client{Transport: &cannedTransport{body: []byte(body), header: h}}))
	if err != nil {
		b.Fatal(err)
	}
	return cc
}

const (
	benchSetAnswer = `{"update_time":"2019-05-20T13:29:35.120+08:00","notify_url":"https://pay.weixin.qq.com","mchid":"10000098"}`
	benchGetAnswer = `{"notify_url":"https://pay.weixin.qq.com","mchid":"10000098"}`
)

func BenchmarkSetCallbacks(b *testing.B) {
	req := busifavor.SetCallbacksRequest{Mchid: "10000098", NotifyURL: "https://pay.weixin.qq.com"}
	refReq := merchantexclusivecoupon.SetCouponNotifyRequest{Mchid: core.String("10000098"), NotifyUrl: core.String("https://pay.weixin.qq.com")}
	benchImpls(b, benchSetAnswer,
		func(c *busifavor.Client) error { _, err := c.SetCallbacks(ctx, req); return err },
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.CallBackApiService{Client: cc}).SetCouponNotify(ctx, refReq)
			return err
		})
}

func BenchmarkGetCallbacks(b *testing.B) {
	refReq := merchantexclusivecoupon.GetCouponNotifyRequest{Mchid: core.String("10000098")}
	benchImpls(b, benchGetAnswer,
		func(c *busifavor.Client) error {
			_, err := c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{Mchid: "10000098"})
			return err
		},
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.CallBackApiService{Client: cc}).GetCouponNotify(ctx, refReq)
			return err
		})
}

// benchImpls runs one call three ways on the same canned core client, for
// benchstat -col /impl: impl=busifavor (ours), impl=wechatpay-go (ref, the
// generated service) and impl=rsa-floor. Requests are built before the
// timer starts, so a loop measures the call alone.
func benchImpls(b *testing.B, answer string, ours func(*busifavor.Client) error, ref func(*core.Client) error) {
	cc := benchCore(b, answer)
	b.Run("impl=busifavor", func(b *testing.B) {
		c, err := busifavor.NewClient(cc)
		if err != nil {
			b.Fatal(err)
		}
		benchLoop(b, func() error { return ours(c) })
	})
	b.Run("impl=wechatpay-go", func(b *testing.B) { benchLoop(b, func() error { return ref(cc) }) })
	b.Run("impl=rsa-floor", rsaFloor)
}

// benchLoop calls call b.N times, failing on the first error.
func benchLoop(b *testing.B, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
}

// rsaFloor is one SHA256-RSA2048 signature and one verification: what every
// API call pays and no client can avoid. It runs as a third "impl" beside
// both calls, so benchstat -col /impl puts the three side by side.
func rsaFloor(b *testing.B) {
	msg := []byte("POST\n/v3/marketing/busifavor/callbacks\n1700000000\nNONCE\n{\"notify_url\":\"https://pay.weixin.qq.com\"}\n")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(rand.Reader, benchKeys.merchant, crypto.SHA256, d[:])
		if err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&benchKeys.merchant.PublicKey, crypto.SHA256, d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	s := busifavortest.NewServer()
	b.Cleanup(s.Close)
	h, body := s.CouponNotification(sampleCoupon)
	b.Run("impl=busifavor", func(b *testing.B) {
		p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := p.Parse(ctx, h, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=busifavor-request", func(b *testing.B) {
		p, err := busifavor.NewEventParser(s.APIv3Key(), s.Verifier())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			req := notifyRequest(h, body)
			if _, err := p.ParseRequest(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=wechatpay-go", func(b *testing.B) {
		nh, err := notify.NewRSANotifyHandler(s.APIv3Key(), s.Verifier())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			req := notifyRequest(h, body)
			var content map[string]any
			if _, err := nh.ParseNotifyRequest(ctx, req, &content); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// notifyRequest is a fresh notification request, as each delivery is.
func notifyRequest(h http.Header, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
	req.Header = h
	return req
}

func BenchmarkValidate(b *testing.B) {
	req := busifavor.SetCallbacksRequest{Mchid: "10000098", NotifyURL: "https://example.com/busifavor/notify"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStockAnswer is a GetStock answer for sampleStock, as the fake writes
// it.
var benchStockAnswer = func() string {
	r := sampleStock("")
	b, err := json.Marshal(busifavor.Stock{StockID: "1200000001", StockName: r.StockName, BelongMerchant: r.BelongMerchant,
		Comment: r.Comment, GoodsName: r.GoodsName, StockType: r.StockType, CouponUseRule: r.CouponUseRule,
		StockSendRule: r.StockSendRule, CustomEntrance: r.CustomEntrance, DisplayPatternInfo: r.DisplayPatternInfo,
		StockState: busifavor.StockStateRunning, CouponCodeMode: r.CouponCodeMode, NotifyConfig: r.NotifyConfig,
		CouponCodeCount: &busifavor.CouponCodeCount{TotalCount: 100, AvailableCount: 40}, SendCountInformation: &busifavor.SendCount{TotalSendNum: 60}})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func BenchmarkCreateStock(b *testing.B) {
	req, refReq := sampleStock("1000009820261127001"), refStock("1000009820261127001")
	benchImpls(b, `{"stock_id":"1200000001","create_time":"2026-11-27T10:00:00.000+08:00"}`,
		func(c *busifavor.Client) error { _, err := c.CreateStock(ctx, req); return err },
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.BusiFavorApiService{Client: cc}).CreateBusifavorStock(ctx, refReq)
			return err
		})
}

func BenchmarkGetStock(b *testing.B) {
	refReq := merchantexclusivecoupon.QueryStockRequest{StockId: core.String("1200000001")}
	benchImpls(b, benchStockAnswer,
		func(c *busifavor.Client) error {
			_, err := c.GetStock(ctx, busifavor.GetStockRequest{StockID: "1200000001"})
			return err
		},
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.BusiFavorApiService{Client: cc}).QueryStock(ctx, refReq)
			return err
		})
}

func BenchmarkValidateCreateStock(b *testing.B) {
	req := sampleStock("1000009820261127001")
	b.ReportAllocs()
	for range b.N {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUseCoupon(b *testing.B) {
	req := busifavor.UseCouponRequest{CouponCode: "1000000000000000000001", StockID: "1200000001", Appid: testAppid,
		UseTime: time.Date(2026, 11, 27, 13, 29, 35, 0, cst), UseRequestNo: "till-7-0001"}
	refReq := merchantexclusivecoupon.UseCouponRequest{CouponCode: core.String("1000000000000000000001"), StockId: core.String("1200000001"),
		Appid: core.String(testAppid), UseTime: core.String("2026-11-27T13:29:35+08:00"), UseRequestNo: core.String("till-7-0001")}
	benchImpls(b, `{"stock_id":"1200000001","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","wechatpay_use_time":"2026-11-27T13:29:35+08:00"}`,
		func(c *busifavor.Client) error { _, err := c.UseCoupon(ctx, req); return err },
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.CouponApiService{Client: cc}).UseCoupon(ctx, refReq)
			return err
		})
}

func BenchmarkGetUserCoupon(b *testing.B) {
	r := sampleStock("")
	answer, err := json.Marshal(busifavor.UserCoupon{BelongMerchant: r.BelongMerchant, StockName: r.StockName, Comment: r.Comment,
		GoodsName: r.GoodsName, StockType: r.StockType, CouponState: busifavor.CouponStateSended, DisplayPatternInfo: r.DisplayPatternInfo,
		CouponUseRule: r.CouponUseRule, CustomEntrance: r.CustomEntrance, CouponCode: "1000000000000000000001", StockID: "1200000001",
		AvailableStartTime: time.Date(2026, 12, 1, 0, 0, 0, 0, cst), ExpireTime: time.Date(2027, 3, 1, 0, 0, 0, 0, cst),
		ReceiveTime: time.Date(2026, 11, 27, 10, 0, 0, 0, cst), SendRequestNo: "send-1"})
	if err != nil {
		b.Fatal(err)
	}
	req := busifavor.GetUserCouponRequest{Openid: testOpenid, CouponCode: "1000000000000000000001", Appid: testAppid}
	refReq := merchantexclusivecoupon.QueryCouponRequest{Openid: core.String(testOpenid), CouponCode: core.String("1000000000000000000001"), Appid: core.String(testAppid)}
	benchImpls(b, string(answer),
		func(c *busifavor.Client) error { _, err := c.GetUserCoupon(ctx, req); return err },
		func(cc *core.Client) error {
			_, _, err := (&merchantexclusivecoupon.CouponApiService{Client: cc}).QueryCoupon(ctx, refReq)
			return err
		})
}
