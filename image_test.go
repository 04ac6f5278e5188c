package busifavor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/fileuploader"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// logoPNG is a 120×120 PNG, the logo size the stock page asks for.
func logoPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 120))
	for x := range 120 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// uploadParts splits a recorded upload into its parts, in order: the part
// headers and bytes.
func uploadParts(t *testing.T, r busifavortest.Request) (headers []map[string][]string, bodies [][]byte) {
	t.Helper()
	mt, ps, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mt)
	mr := multipart.NewReader(bytes.NewReader(r.Body), ps["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		headers, bodies = append(headers, p.Header), append(bodies, b)
	}
}

// TestUploadImageIsWireEqualToWechatpayGo sends the same image with both
// clients through the fake: same method, path, part headers and bytes, and
// both signatures verify over the meta JSON (the boundary is random in
// both).
func TestUploadImageIsWireEqualToWechatpayGo(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	data := logoPNG(t)
	client, err := s.Client()
	require.NoError(t, err)
	ours, err := client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: data})
	require.NoError(t, err)
	assert.NotEmpty(t, ours.RequestID)
	got, ok := s.Image(ours.MediaURL)
	require.True(t, ok)
	assert.Equal(t, data, got)

	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	ref := fileuploader.MarketingImageUploader{Client: cc}
	theirs, _, err := ref.Upload(ctx, bytes.NewReader(data), "logo.png", "image/png")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(*theirs.MediaUrl, "https://"))

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	a, b := reqs[0], reqs[1]
	for _, r := range reqs {
		assert.True(t, r.Verified, r.VerifyError)
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, busifavor.ImageUploadPath, r.Path)
		assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="))
	}
	ha, ba := uploadParts(t, a)
	hb, bb := uploadParts(t, b)
	assert.Equal(t, hb, ha)
	assert.Equal(t, bb, ba)
	assert.JSONEq(t, `{"filename":"logo.png","sha256":"`+sha256Hex(data)+`"}`, string(ba[0]))
}

func TestUploadImageValidation(t *testing.T) {
	data := logoPNG(t)
	for _, tc := range []struct {
		name   string
		req    busifavor.UploadImageRequest
		fields []string
	}{
		{"ok", busifavor.UploadImageRequest{Filename: "logo.PNG", Data: data}, nil},
		{"jpg suffix", busifavor.UploadImageRequest{Filename: "a b.JPG", Data: data}, nil},
		{"bmp suffix", busifavor.UploadImageRequest{Filename: "a.bmp", Data: data}, nil},
		{"jpeg suffix, not the page's", busifavor.UploadImageRequest{Filename: "a.jpeg", Data: data}, []string{"filename"}},
		{"no suffix", busifavor.UploadImageRequest{Filename: "png", Data: data}, []string{"filename"}},
		{"largest", busifavor.UploadImageRequest{Filename: "a.png", Data: append(bytes.Clone(data), make([]byte, busifavor.MaxImageBytes-len(data))...)}, nil},
		{"longest name", busifavor.UploadImageRequest{Filename: strings.Repeat("a", 124) + ".png", Data: data}, nil},
		{"empty", busifavor.UploadImageRequest{}, []string{"filename", "file"}},
		{"too large", busifavor.UploadImageRequest{Filename: "a.png", Data: append(bytes.Clone(data), make([]byte, busifavor.MaxImageBytes-len(data)+1)...)}, []string{"file"}},
		{"name too long, wrong suffix", busifavor.UploadImageRequest{Filename: strings.Repeat("a", 125) + ".gif", Data: data}, []string{"filename", "filename"}},
		{"a path", busifavor.UploadImageRequest{Filename: "../logo.png", Data: data}, []string{"filename"}},
		{"a quote", busifavor.UploadImageRequest{Filename: `lo"go.png`, Data: data}, []string{"filename"}},
		{"not an image, named one", busifavor.UploadImageRequest{Filename: "logo.png", Data: []byte("<html>not a logo</html>")}, []string{"file"}},
		{"a GIF", busifavor.UploadImageRequest{Filename: "logo.png", Data: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")}, []string{"file"}},
		{"BM then a web page", busifavor.UploadImageRequest{Filename: "logo.bmp", Data: []byte("BM<html><body>a login page</body></html>")}, []string{"file"}},
		{"BMxx", busifavor.UploadImageRequest{Filename: "logo.bmp", Data: []byte("BMxx")}, []string{"file"}},
		{"PNG magic then garbage", busifavor.UploadImageRequest{Filename: "logo.png", Data: []byte("\x89PNG\r\n\x1a\ngarbage, not an IHDR")}, []string{"file"}},
		{"JPEG magic then garbage", busifavor.UploadImageRequest{Filename: "logo.jpg", Data: []byte("\xff\xd8\xffgarbage, not a JPEG segment")}, []string{"file"}},
		{"a PNG cut inside its header", busifavor.UploadImageRequest{Filename: "logo.png", Data: data[:20]}, []string{"file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.fields == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tc.fields, violations(t, err))
		})
	}
}

// A refused upload sends nothing; a 500 is retried like every call, and the
// answer without media_url is a malformed answer, not a success.
func TestUploadImageSharesTheSendPath(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	client, err := s.Client(busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 2}))
	require.NoError(t, err)
	_, err = client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.txt", Data: []byte("text")})
	require.ErrorIs(t, err, busifavor.ErrValidation)
	assert.Empty(t, s.Requests())

	s.FailOn(http.MethodPost, busifavor.ImageUploadPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: "SYSTEM_ERROR", Status: 500})
	resp, err := client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: logoPNG(t)})
	require.NoError(t, err)
	assert.NotEmpty(t, resp.MediaURL)
	assert.Len(t, s.Requests(), 2)

	s.FailOn(http.MethodPost, busifavor.ImageUploadPath, 1, busifavortest.Fault{Kind: busifavortest.FaultStatus, Status: 200, Body: `{}`})
	_, err = client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: logoPNG(t)})
	require.ErrorIs(t, err, busifavor.ErrMalformedResponse)

	s.FailOn(http.MethodPost, busifavor.ImageUploadPath, 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: "PARAM_ERROR"})
	_, err = client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: logoPNG(t)})
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, busifavor.ErrorCodeParamError, apiErr.Code)
}

// Stocks take only media URLs: the client refuses what cannot be one, the
// fake what it did not issue (or qpic.cn's).
func TestStockImagesMustBeUploaded(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	client, err := s.Client()
	require.NoError(t, err)
	up, err := client.UploadImage(ctx, busifavor.UploadImageRequest{Filename: "logo.png", Data: logoPNG(t)})
	require.NoError(t, err)

	req := sampleStock("img-1")
	req.DisplayPatternInfo.MerchantLogoURL = "/var/www/logo.png"
	req.DisplayPatternInfo.CouponImageURL = "http://shop.example.com/a.png"
	_, err = client.CreateStock(ctx, req)
	assert.Equal(t, []string{"display_pattern_info.merchant_logo_url", "display_pattern_info.coupon_image_url"}, violations(t, err))

	req.DisplayPatternInfo.MerchantLogoURL = up.MediaURL
	req.DisplayPatternInfo.CouponImageURL = "https://shop.example.com/a.png"
	_, err = client.CreateStock(ctx, req)
	var apiErr *busifavor.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, string(apiErr.Detail), "display_pattern_info.coupon_image_url")

	req.DisplayPatternInfo.CouponImageURL = up.MediaURL
	_, err = client.CreateStock(ctx, req)
	require.NoError(t, err)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A refused image says which format its bytes claim and why that format's
// header does not parse, under the field "file".
func TestUploadImageRefusalSaysWhy(t *testing.T) {
	err := busifavor.UploadImageRequest{Filename: "logo.bmp", Data: []byte("BM<html>a login page</html>")}.Validate()
	var ve *busifavor.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Fields, 1)
	assert.Equal(t, "file", ve.Fields[0].Field)
	assert.Contains(t, ve.Fields[0].Reason, "starts as a BMP but its header does not parse")
	assert.NotContains(t, ve.Fields[0].Reason, "login page")

	err = busifavor.UploadImageRequest{Filename: "logo.jpeg", Data: logoPNG(t)}.Validate()
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []busifavor.FieldError{{Field: "filename", Reason: "must end in .jpg, .bmp or .png (必须以JPG、BMP、PNG为后缀): rename the .jpeg file .jpg"}}, ve.Fields)
}
