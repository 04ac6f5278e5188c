package busifavor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/wechatpay-apiv3/wechatpay-go/core"

	"github.com/busifavor-go/busifavor/internal/imagecheck"
)

// ImageUploadPath is 图片上传(营销专用), the marketing image upload.
const ImageUploadPath = "/v3/marketing/favor/media/image-upload"

// Limits of the marketing image upload (page: 媒体图片只支持JPG、BMP、PNG格式,
// 文件大小不能超过2M; filename string[1,128], 必须以JPG、BMP、PNG为后缀).
const (
	// MaxImageBytes is the largest image accepted: 2M, read as 2 MiB.
	MaxImageBytes = 2 << 20
	// imageFilenameMaxLen is filename's limit, in bytes.
	imageFilenameMaxLen = 128
	// MediaURLMaxLen is media_url's limit in the answer and so in the
	// stock fields that take it (string(256)).
	mediaURLMaxLen = 256
)

// imageSuffixes are the filename endings the page allows, in any case:
// 必须以JPG、BMP、PNG为后缀. .jpeg is not among them. The stock models'
// "支持JPG/JPEG/PNG格式" (merchant_logo_url) names the image's format, not
// the file's name, and wechatpay-go's fileuploader examples name their file
// picture.jpg; a JPEG named .jpeg is refused here with the advice to rename
// it, rather than sent to a server whose page does not list the suffix.
var imageSuffixes = []string{".jpg", ".bmp", ".png"}

// UploadImageRequest is an image to upload: a logo, a coupon picture or a
// Channels video cover for CreateStock's display_pattern_info.
type UploadImageRequest struct {
	// Filename is the name WeChat Pay keeps, 1 to 128 bytes, ending in
	// .jpg, .bmp or .png (any case), the suffixes the page lists. A JPEG
	// named .jpeg must be renamed .jpg.
	Filename string
	// Data is the image, at most MaxImageBytes: a JPG, BMP or PNG whose
	// header parses. Its first bytes say which format it claims to be; that
	// format's header is then decoded (PNG and JPEG by the standard
	// library, BMP by a check of its file and DIB headers), so a web page
	// or a file that only starts like an image is refused before it is
	// sent. The pixels are not decoded. The suffix need not match the
	// format: no page ties them.
	Data []byte
}

// UploadImageResponse is where WeChat Pay keeps the image.
type UploadImageResponse struct {
	// MediaURL is the image's URL (有效期为永久), for the image fields of
	// CreateStock and UpdateStock.
	MediaURL string `json:"media_url" required:"page"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// Validate checks the request against the page's rules and returns a
// *ValidationError listing every broken one, or nil.
func (r UploadImageRequest) Validate() error {
	var v validator
	const f = "filename"
	if v.required(f, r.Filename) {
		if len(r.Filename) > imageFilenameMaxLen {
			v.add(f, "must be 1 to %d bytes long, got %d", imageFilenameMaxLen, len(r.Filename))
		}
		if hasSpaceOrControl(strings.ReplaceAll(r.Filename, " ", "_")) || strings.ContainsAny(r.Filename, `"\/`) {
			v.add(f, `must be a plain file name: printable, without quotes, slashes or control characters`)
		}
		switch ext := strings.ToLower(path.Ext(r.Filename)); {
		case ext == ".jpeg":
			v.add(f, "must end in .jpg, .bmp or .png (必须以JPG、BMP、PNG为后缀): rename the .jpeg file .jpg")
		case !slices.Contains(imageSuffixes, ext):
			v.add(f, "must end in .jpg, .bmp or .png (必须以JPG、BMP、PNG为后缀)")
		}
	}
	switch {
	case len(r.Data) == 0:
		v.add("file", "is required: the image's bytes")
	case len(r.Data) > MaxImageBytes:
		v.add("file", "must be at most %d bytes (2M), got %d", MaxImageBytes, len(r.Data))
	default:
		if _, err := imagecheck.Check(r.Data); err != nil {
			v.add("file", "must be a JPG, BMP or PNG image (媒体图片只支持JPG、BMP、PNG格式): %v", err)
		}
	}
	return v.err()
}

// multipartBody is a multipart/form-data request whose signature covers
// meta, the JSON of its meta part, not the body (page: 参与签名计算的请求主体为
// meta的json串).
type multipartBody struct {
	meta, body, contentType string
}

// UploadImage uploads an image for the stock fields that take one
// (merchant_logo_url, coupon_image_url, finder_video_cover_image_url accept
// only URLs this upload returned, say wechatpay-go's models). It sends
// POST /v3/marketing/favor/media/image-upload as wechatpay-go's
// fileuploader.MarketingImageUploader does: a meta part
// {"filename","sha256"} and the file, the signature over meta. Retries,
// failover, errors and logging are every call's; an upload repeated after a
// lost answer only stores the image once more.
//
// WeChat Pay API docs: https://pay.weixin.qq.com/docs/merchant/apis/cash-coupons/upload-image.html
func (c *Client) UploadImage(ctx context.Context, req UploadImageRequest) (*UploadImageResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(req.Data)
	meta, err := json.Marshal(struct {
		Filename string `json:"filename"`
		Sha256   string `json:"sha256"`
	}{req.Filename, hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := core.CreateFormField(w, "meta", "application/json", meta); err != nil {
		return nil, err
	}
	contentType, _ := imagecheck.Check(req.Data) // Validate passed: a known type
	if err := core.CreateFormFile(w, req.Filename, contentType, req.Data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	ctx, oc := c.observe(ctx, "UploadImage", http.MethodPost)
	a, err := c.do(ctx, "UploadImage", http.MethodPost, ImageUploadPath, nil,
		&multipartBody{meta: string(meta), body: body.String(), contentType: w.FormDataContentType()})
	out := &UploadImageResponse{}
	if err == nil {
		err = decodeAnswer(a, out)
	}
	oc.end(err)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mediaURL checks an optional image field: the pages accept only a URL the
// marketing image upload returned (models: 仅支持通过《图片上传API》接口获取的
// 图片URL地址), an https URL of at most MediaURLMaxLen bytes. Which URLs
// WeChat Pay issued only it knows; this catches a local path or a URL of
// the merchant's own server.
func (v *validator) mediaURL(f, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if len(s) > mediaURLMaxLen || err != nil || u.Scheme != "https" || u.Host == "" || hasSpaceOrControl(s) {
		v.add(f, "must be the media_url UploadImage returned (图片上传(营销专用)), an https URL of at most %d bytes; upload the image first", mediaURLMaxLen)
	}
}
