package busifavortest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/internal/imagecheck"
)

// maxImageRequest bounds what the fake reads of an image upload: the image
// limit and room for the multipart framing.
const maxImageRequest = busifavor.MaxImageBytes + 64<<10

// imageFilenameMaxLen is the page's limit on meta.filename: string[1,128].
const imageFilenameMaxLen = 128

// mediaHost is where the fake's media URLs live: a host under .invalid
// (RFC 6761), which never resolves, so that a URL the fake invented cannot
// be taken for WeChat Pay's (https://wxpaylogo.qpic.cn/…, as in
// wechatpay-go's examples) in a stock or a log. The path keeps WeChat Pay's
// shape.
const mediaHost = "wxpaylogo.busifavortest.invalid"

// uploadParts are an image upload's meta JSON and file.
type uploadParts struct {
	meta     []byte
	filename string // the file part's
	ctype    string // the file part's Content-Type
	file     []byte
}

// readUpload reads a multipart/form-data upload: a meta part (JSON) and a
// file part, nothing else.
func readUpload(r *http.Request, body []byte) (*uploadParts, string) {
	mt, ps, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || ps["boundary"] == "" {
		return nil, "Content-Type 须为 multipart/form-data"
	}
	mr := multipart.NewReader(bytes.NewReader(body), ps["boundary"])
	var u uploadParts
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "multipart 请求体无法解析"
		}
		name := p.FormName()
		if seen[name] {
			return nil, "表单字段 " + name + " 出现了多次"
		}
		seen[name] = true
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, "multipart 请求体无法解析"
		}
		switch name {
		case "meta":
			u.meta = b
		case "file":
			u.file, u.filename, u.ctype = b, p.FileName(), p.Header.Get("Content-Type")
		default:
			return nil, "表单字段 " + name + " 不是本接口的参数"
		}
	}
	if u.meta == nil || !seen["file"] {
		return nil, "meta 和 file 必填"
	}
	return &u, ""
}

// signedBody is what a request's signature covers: the body, or for an
// image upload the meta JSON (page: 参与签名计算的请求主体为meta的json串).
func signedBody(r *http.Request, body []byte) []byte {
	if r.URL.Path != busifavor.ImageUploadPath {
		return body
	}
	if u, _ := readUpload(r, body); u != nil {
		return u.meta
	}
	return body
}

// uploadImage answers an image upload as the page describes: meta is
// {"filename","sha256"} with the file's digest, the filename ends in JPG,
// BMP or PNG (.jpeg is not among the page's suffixes), the bytes are such an
// image of at most 2M. An image is checked as the SDK checks it: the format
// its first bytes claim must have a header that parses, so a web page
// starting with "BM" or a PNG signature followed by garbage is refused. The
// answer is a media URL on mediaHost, which CreateStock then
// accepts.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request, body []byte) {
	bad := func(msg string) {
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError), msg, nil)
	}
	u, msg := readUpload(r, body)
	if u == nil {
		bad(msg)
		return
	}
	var meta struct {
		Filename string `json:"filename"`
		Sha256   string `json:"sha256"`
	}
	dec := json.NewDecoder(bytes.NewReader(u.meta))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		bad("meta 须为 {\"filename\",\"sha256\"} JSON")
		return
	}
	sum := sha256.Sum256(u.file)
	ext := strings.ToLower(path.Ext(meta.Filename))
	_, notImage := imagecheck.Check(u.file)
	switch {
	case meta.Filename == "" || len(meta.Filename) > imageFilenameMaxLen:
		bad("filename 长度须为 1 到 128")
	case ext != ".jpg" && ext != ".bmp" && ext != ".png":
		bad("filename 必须以JPG、BMP、PNG为后缀")
	case !strings.EqualFold(meta.Sha256, hex.EncodeToString(sum[:])):
		bad("sha256 与图片内容不符")
	case u.filename != meta.Filename:
		bad("file 的文件名与 meta.filename 不一致")
	case len(u.file) > busifavor.MaxImageBytes:
		bad("文件大小不能超过2M")
	case notImage != nil:
		bad("媒体图片只支持JPG、BMP、PNG格式 (" + notImage.Error() + ")")
	default:
		mediaURL := "https://" + mediaHost + "/wxpaylogo/" + hex.EncodeToString(sum[:16]) + randomHex(8) + "/0"
		s.mu.Lock()
		if s.ch.images == nil {
			s.ch.images = map[string][]byte{}
		}
		s.ch.images[mediaURL] = u.file
		s.mu.Unlock()
		s.writeJSON(w, http.StatusOK, map[string]string{"media_url": mediaURL})
	}
}

// Image returns the bytes uploaded under mediaURL, and whether there were
// any.
func (s *Server) Image(mediaURL string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.ch.images[mediaURL]
	return b, ok
}

// imagesOK refuses image URLs that are not WeChat Pay's media URLs: the
// models say these fields take only URLs from the image upload
// (仅支持通过《图片上传API》接口获取的图片URL地址). The fake accepts the URLs
// it issued and, since it cannot know uploads made elsewhere, any https URL
// on qpic.cn, the pages' example host; any other URL answers PARAM_ERROR.
func (s *Server) imagesOK(w http.ResponseWriter, d *busifavor.DisplayPatternInfo) bool {
	if d == nil {
		return true
	}
	fields := [][2]string{{"merchant_logo_url", d.MerchantLogoURL}, {"coupon_image_url", d.CouponImageURL}}
	if d.FinderInfo != nil {
		fields = append(fields, [2]string{"finder_info.finder_video_cover_image_url", d.FinderInfo.FinderVideoCoverImageURL})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		s.mu.Lock()
		_, issued := s.ch.images[f[1]]
		s.mu.Unlock()
		u, err := url.Parse(f[1])
		if issued || err == nil && u.Scheme == "https" && (u.Host == "qpic.cn" || strings.HasSuffix(u.Host, ".qpic.cn")) {
			continue
		}
		field := "display_pattern_info." + f[0]
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError),
			"参数错误: "+field+" 仅支持通过图片上传API接口获取的图片URL地址",
			map[string]string{"field": field, "issue": "not a URL from the marketing image upload", "location": "body"})
		return false
	}
	return true
}
