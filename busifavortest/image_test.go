package busifavortest_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/fileuploader"

	"github.com/busifavor-go/busifavor/busifavortest"
)

// The fake refuses what only starts like an image, as the SDK does, and a
// suffix the page does not list; wechatpay-go's uploader checks nothing, so
// these reach the fake.
func TestUploadImageRefusesWhatIsNotAnImage(t *testing.T) {
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	cc, err := core.NewClient(ctx, s.ClientOptions()...)
	require.NoError(t, err)
	up := fileuploader.MarketingImageUploader{Client: cc}
	var logo bytes.Buffer
	require.NoError(t, png.Encode(&logo, image.NewGray(image.Rect(0, 0, 4, 4))))

	for _, tc := range []struct {
		name, filename, why string
		data                []byte
	}{
		{"BM then a web page", "logo.bmp", "媒体图片只支持JPG、BMP、PNG格式", []byte("BM<html><body>a login page</body></html>")},
		{"BMxx", "logo.bmp", "媒体图片只支持JPG、BMP、PNG格式", []byte("BMxx")},
		{"PNG magic then garbage", "logo.png", "媒体图片只支持JPG、BMP、PNG格式", []byte("\x89PNG\r\n\x1a\ngarbage, not an IHDR")},
		{"JPEG magic then garbage", "logo.jpg", "媒体图片只支持JPG、BMP、PNG格式", []byte("\xff\xd8\xffgarbage")},
		{".jpeg, not among the page's suffixes", "logo.jpeg", "必须以JPG、BMP、PNG为后缀", logo.Bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, err := up.Upload(ctx, bytes.NewReader(tc.data), tc.filename, "image/png")
			var apiErr *core.APIError
			require.True(t, errors.As(err, &apiErr), "%v", err)
			assert.Nil(t, resp)
			assert.Equal(t, 400, apiErr.StatusCode)
			assert.Equal(t, "PARAM_ERROR", apiErr.Code)
			assert.Contains(t, apiErr.Message, tc.why)
		})
	}

	resp, _, err := up.Upload(ctx, bytes.NewReader(logo.Bytes()), "logo.PNG", "image/png")
	require.NoError(t, err)
	got, ok := s.Image(*resp.MediaUrl)
	require.True(t, ok)
	assert.Equal(t, logo.Bytes(), got)
}
