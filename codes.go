package busifavor

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// codesPath is a stock's uploaded codes; codePath names one.
func codesPath(stockID string) string { return stockPath(stockID) + "/couponcodes" }

func codePath(stockID, code string) string { return codesPath(stockID) + "/" + url.PathEscape(code) }

// CouponCodeStatus is an uploaded code's state (商户上传code分配状态). Values
// newer than this package are kept as they came.
type CouponCodeStatus string

// The documented code states.
const (
	CouponCodeStatusAvailable  CouponCodeStatus = "AVAILABLE"  // not sent yet (可用)
	CouponCodeStatusDispatched CouponCodeStatus = "DISPATCHED" // sent to a user (已分配)
)

// UploadCouponCodesRequest uploads codes to a MERCHANT_UPLOAD stock
// (上传预存code). Use BatchUploadCouponCodes for more than MaxCodesPerUpload
// codes.
type UploadCouponCodesRequest struct {
	// StockID is the stock, 1 to 20 bytes; it goes in the path.
	StockID string `json:"-"`
	// CouponCodeList is 1 to 200 distinct codes, each 1 to 32 bytes of
	// 0-9 a-z A-Z, space and - _ \ / = |.
	CouponCodeList []string `json:"coupon_code_list" log:"code"`
	// UploadRequestNo is the merchant's unique number for this upload, 1 to
	// 128 bytes. It makes the upload safe to retry.
	UploadRequestNo string `json:"upload_request_no"`
}

// UploadCouponCodesResponse is WeChat Pay's answer to UploadCouponCodes.
type UploadCouponCodesResponse struct {
	// StockID is the stock.
	StockID string `json:"stock_id" required:"models"`
	// TotalCount is the codes uploaded after removing repeats.
	TotalCount int64 `json:"total_count" required:"models"`
	// SuccessCount is the codes newly stored.
	SuccessCount int64 `json:"success_count" required:"models"`
	// SuccessCodes lists them.
	SuccessCodes []string `json:"success_codes,omitempty" log:"code"`
	// SuccessTime is when the upload finished.
	SuccessTime time.Time `json:"success_time" required:"models"`
	// FailCount is the codes refused.
	FailCount int64 `json:"fail_count,omitempty"`
	// FailCodes says why each was refused.
	FailCodes []CouponCodeFailure `json:"fail_codes,omitempty"`
	// ExistCodes were stored by an earlier upload and are not stored again.
	ExistCodes []string `json:"exist_codes,omitempty" log:"code"`
	// DuplicateCodes were repeated in this upload; one of each was kept.
	DuplicateCodes []string `json:"duplicate_codes,omitempty" log:"code"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// CouponCodeFailure is a code an upload refused, and why.
type CouponCodeFailure struct {
	// CouponCode is the refused code.
	CouponCode string `json:"coupon_code" log:"code" required:"models"`
	// Code is WeChat Pay's error code for it.
	Code string `json:"code" required:"models"`
	// Message explains it.
	Message string `json:"message" required:"models"`
}

// ListCouponCodesRequest selects a page of a stock's uploaded codes
// (查询预存code列表).
type ListCouponCodesRequest struct {
	// StockID is the stock, 1 to 20 bytes; it goes in the path.
	StockID string
	// Limit is the page size; 0 leaves it to WeChat Pay.
	Limit int64
	// Offset is where the page starts, 0 for the first.
	Offset int64
	// AppID, when set, makes WeChat Pay return openids for that appid.
	AppID string
	// Status selects codes in one state; empty selects all.
	Status CouponCodeStatus
}

// ListCouponCodesResponse is one page of a stock's uploaded codes.
type ListCouponCodesResponse struct {
	// StockID is the stock.
	StockID string `json:"stock_id" required:"models"`
	// TotalCount is every code of the stock that matches.
	TotalCount int64 `json:"total_count" required:"models"`
	// Data is this page.
	Data []UploadedCode `json:"data,omitempty"`
	// Offset is where the page starts, as asked.
	Offset int64 `json:"offset" required:"models"`
	// Limit is the page size WeChat Pay used.
	Limit int64 `json:"limit" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// UploadedCode is a code a merchant uploaded, with its state. Once sent it
// names the user who received it: OpenID and UnionID are personal data.
type UploadedCode struct {
	// Code is the uploaded code.
	Code string `json:"code" log:"code" required:"models"`
	// CodeStatus is its state; unknown values are kept.
	CodeStatus CouponCodeStatus `json:"code_status" required:"models"`
	// UploadTime is when it was uploaded.
	UploadTime time.Time `json:"upload_time,omitzero"`
	// DispatchedTime is when it was sent to a user.
	DispatchedTime time.Time `json:"dispatched_time,omitzero"`
	// OpenID is the receiving user's openid, for the appid asked with.
	OpenID string `json:"openid,omitempty" log:"id"`
	// UnionID is the receiving user's unionid.
	UnionID string `json:"unionid,omitempty" log:"id"`
	// CouponCode is the user coupon made from this code.
	CouponCode string `json:"coupon_code,omitempty" log:"code"`
}

// Masked returns a copy of c with OpenID and UnionID masked (see MaskID),
// for logs and displays.
func (c UploadedCode) Masked() UploadedCode {
	c.OpenID, c.UnionID = MaskID(c.OpenID), MaskID(c.UnionID)
	return c
}

// GetCouponCodeRequest names an uploaded code (查询预存code详情).
type GetCouponCodeRequest struct {
	// StockID is the stock, 1 to 20 bytes.
	StockID string
	// CouponCode is the uploaded code (see UploadCouponCodesRequest).
	CouponCode string `log:"code"`
	// AppID, when set, makes WeChat Pay return the openid for that appid.
	AppID string
}

// GetCouponCodeResponse is WeChat Pay's answer to GetCouponCode.
type GetCouponCodeResponse struct {
	// CodeInformation is the code and its state.
	CodeInformation UploadedCode `json:"code_information" required:"models"`
	// CouponInformation is the user coupon made from it, once DISPATCHED.
	CouponInformation *UserCoupon `json:"coupon_information,omitempty"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// DeleteCouponCodeRequest deletes an unsent uploaded code (删除预存code).
type DeleteCouponCodeRequest struct {
	// StockID is the stock, 1 to 20 bytes.
	StockID string
	// CouponCode is the code (see UploadCouponCodesRequest).
	CouponCode string `log:"code"`
	// DeleteRequestNo is the merchant's unique number for this deletion, 1 to
	// 128 bytes. It makes the deletion safe to retry.
	DeleteRequestNo string
}

// DeleteCouponCodeResponse is WeChat Pay's answer to DeleteCouponCode.
type DeleteCouponCodeResponse struct {
	// StockID is the stock.
	StockID string `json:"stock_id" required:"models"`
	// DeleteTime is when the code was deleted.
	DeleteTime time.Time `json:"delete_time" required:"models"`
	// Response is the answer's Request-ID, status and headers.
	Response `json:"-"`
}

// UploadCouponCodes uploads up to MaxCodesPerUpload codes to a
// MERCHANT_UPLOAD stock (上传预存code). Codes stored before come back in
// ExistCodes, refused ones in FailCodes: a 2xx answer does not mean every
// code was stored. It is retried like a GET: UploadRequestNo makes a repeated
// upload store the codes once. A stock in another code mode answers
// INVALID_REQUEST (发券模式不合法; see ErrorCodeOf), and so does a stock
// whose code quota is full (上传的自定义code已达上限).
//
// WeChat Pay API: POST /v3/marketing/busifavor/stocks/{stock_id}/couponcodes
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/upload-coupon-code.html
//
// Every code sent must be accounted for by the answer: named in
// SuccessCodes, ExistCodes, DuplicateCodes or FailCodes or, since the page
// makes success_codes optional (选填), counted by an answer that leaves it
// out, whose total_count is the distinct codes sent and whose success_count
// plus the codes the other lists name equals it; SuccessCodes then holds
// the codes sent that no list names. When the answer names a code that was
// not sent, or its lists and counts do not add up to the codes sent, it is
// the first answer to an earlier, different upload with the same
// UploadRequestNo: it comes back with ErrRequestNoReused.
func (c *Client) UploadCouponCodes(ctx context.Context, req UploadCouponCodesRequest) (*UploadCouponCodesResponse, error) {
	out := &UploadCouponCodesResponse{}
	if err := c.send(ctx, "UploadCouponCodes", &req, http.MethodPost, codesPath(req.StockID), nil, &req, out); err != nil {
		return nil, err
	}
	return out, checkAccounts(out, req)
}

// checkAccounts checks that the answer r accounts for every code of req, and only
// for those. The page makes success_codes optional (选填) while total_count
// (去重后上传code总数) and success_count are required: an answer that leaves
// success_codes out accounts for the codes sent when total_count is the
// number of distinct codes sent and success_count plus the codes named in
// fail_codes, exist_codes and duplicate_codes (each a code sent, named once)
// equals it. Its SuccessCodes is then filled with the codes sent that no
// list names, in the order sent. An answer that names a code not sent, or
// whose lists or counts do not add up to the codes sent, is WeChat Pay's
// first answer to an earlier, different upload with the same number
// (ErrRequestNoReused).
func checkAccounts(r *UploadCouponCodesResponse, req UploadCouponCodesRequest) error {
	sent := make(map[string]bool, len(req.CouponCodeList))
	for _, code := range req.CouponCodeList {
		sent[code] = true
	}
	named := make(map[string]bool, len(sent))
	foreign, repeats := 0, 0
	for _, list := range [][]string{r.SuccessCodes, r.ExistCodes, r.DuplicateCodes, failedCodes(r.FailCodes)} {
		for _, code := range list {
			switch {
			case !sent[code]:
				foreign++
			case named[code]:
				repeats++
			default:
				named[code] = true
			}
		}
	}
	if foreign == 0 && len(named) == len(sent) {
		return nil // every code sent is named
	}
	// success_codes left out: the counts must account for the rest.
	accounted := len(r.SuccessCodes) == 0 && foreign == 0 && repeats == 0 &&
		r.TotalCount == int64(len(sent)) && r.SuccessCount == int64(len(sent)-len(named)) &&
		(r.FailCount == 0 || r.FailCount == int64(len(r.FailCodes)))
	if !accounted {
		return fmt.Errorf("%w: the answer to upload_request_no %q names %d of the %d codes sent and %d others, "+
			"and counts %d codes of which %d stored: it is WeChat Pay's first answer to an earlier, different upload with this number; "+
			"upload a changed list under a new number",
			ErrRequestNoReused, req.UploadRequestNo, len(named), len(sent), foreign, r.TotalCount, r.SuccessCount)
	}
	seen := make(map[string]bool, len(sent))
	for _, code := range req.CouponCodeList {
		if !named[code] && !seen[code] {
			seen[code] = true
			r.SuccessCodes = append(r.SuccessCodes, code)
		}
	}
	return nil
}

func failedCodes(f []CouponCodeFailure) []string {
	out := make([]string, len(f))
	for i, x := range f {
		out[i] = x.CouponCode
	}
	return out
}

// ListCouponCodes reads one page of a stock's uploaded codes (查询预存code
// 列表). AllCouponCodes walks every page.
//
// WeChat Pay API: GET /v3/marketing/busifavor/stocks/{stock_id}/couponcodes
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/query-coupon-code-list.html
func (c *Client) ListCouponCodes(ctx context.Context, req ListCouponCodesRequest) (*ListCouponCodesResponse, error) {
	q := url.Values{}
	if req.Limit > 0 {
		q.Set("limit", strconv.FormatInt(req.Limit, 10))
	}
	if req.Offset > 0 {
		q.Set("offset", strconv.FormatInt(req.Offset, 10))
	}
	if req.AppID != "" {
		q.Set("appid", req.AppID)
	}
	if req.Status != "" {
		q.Set("status", string(req.Status))
	}
	out := &ListCouponCodesResponse{}
	if err := c.send(ctx, "ListCouponCodes", req, http.MethodGet, codesPath(req.StockID), q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// AllCouponCodes yields every code ListCouponCodes would page through,
// starting at req.Offset, one page of req.Limit at a time, each code once.
// It stops after the last code the pages' total_count promises, when the
// caller stops ranging, and after the first error, which it yields with a
// zero UploadedCode: an *APIError or transport error; ErrMalformedResponse
// for a page without total_count (WeChat Pay's models require it: a list
// that does not say how long it is cannot be walked to its end); ErrPaging
// when a page brings no new code or the pages exceed what total_count and
// the page size allow, so that a broken server cannot make it loop. Codes
// uploaded or sent while it runs may be missed, as with any offset paging;
// a code the list shifted onto the next page is not yielded again.
func (c *Client) AllCouponCodes(ctx context.Context, req ListCouponCodesRequest) iter.Seq2[UploadedCode, error] {
	return walkPages(req.Offset, false, func(code UploadedCode) string { return code.Code },
		func(offset int64) (listPage[UploadedCode], error) {
			req.Offset = offset
			page, err := c.ListCouponCodes(ctx, req)
			if err != nil {
				return listPage[UploadedCode]{}, err
			}
			return listPage[UploadedCode]{items: page.Data, total: page.TotalCount, limit: page.Limit}, nil
		})
}

// GetCouponCode reads an uploaded code and, once it was sent, the user
// coupon made from it (查询预存code详情). ErrorCodeOf(err) ==
// ErrorCodeResourceNotExists means the stock has no such code.
//
// WeChat Pay API: GET /v3/marketing/busifavor/stocks/{stock_id}/couponcodes/{coupon_code}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/coupon-code-info.html
func (c *Client) GetCouponCode(ctx context.Context, req GetCouponCodeRequest) (*GetCouponCodeResponse, error) {
	var q url.Values
	if req.AppID != "" {
		q = url.Values{"appid": {req.AppID}}
	}
	out := &GetCouponCodeResponse{}
	if err := c.send(ctx, "GetCouponCode", req, http.MethodGet, codePath(req.StockID, req.CouponCode), q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteCouponCode deletes an uploaded code that was not sent yet (删除预存
// code). It is retried like a GET: DeleteRequestNo makes a repeated deletion
// act once.
//
// WeChat Pay API: DELETE /v3/marketing/busifavor/stocks/{stock_id}/couponcodes/{coupon_code}
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/busi-favor/delete-coupon-code.html
func (c *Client) DeleteCouponCode(ctx context.Context, req DeleteCouponCodeRequest) (*DeleteCouponCodeResponse, error) {
	q := url.Values{"delete_request_no": {req.DeleteRequestNo}}
	out := &DeleteCouponCodeResponse{}
	if err := c.send(ctx, "DeleteCouponCode", req, http.MethodDelete, codePath(req.StockID, req.CouponCode), q, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Documented limits of the code endpoints (page: upload codes).
const (
	CouponCodeMaxLen  = 32  // 单个券code长度为【1，32】 (page: upload codes); coupon_code string[1,32] (page: use coupon)
	MaxCodesPerUpload = 200 // 条目个数限制为【1，200】 (page: upload codes)
)

// codeStatuses are the documented code states a request may filter on.
var codeStatuses = []CouponCodeStatus{CouponCodeStatusAvailable, CouponCodeStatusDispatched}

// Validate checks the request against every documented rule, duplicate codes
// included, and returns a *ValidationError, or nil.
func (r UploadCouponCodesRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	switch n := len(r.CouponCodeList); {
	case n == 0:
		v.add("coupon_code_list", "is required: 1 to %d codes", MaxCodesPerUpload)
	case n > MaxCodesPerUpload:
		v.add("coupon_code_list", "must have at most %d codes per call, got %d; BatchUploadCouponCodes splits longer lists", MaxCodesPerUpload, n)
	}
	seen := make(map[string]int, len(r.CouponCodeList))
	for i, c := range r.CouponCodeList {
		f := "coupon_code_list" + index(i)
		v.couponCode(f, c)
		if j, dup := seen[c]; dup {
			v.add(f, "repeats coupon_code_list[%d]; each code once per call", j)
		} else {
			seen[c] = i
		}
	}
	v.requestNo("upload_request_no", r.UploadRequestNo)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r ListCouponCodesRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	if r.Limit < 0 {
		v.add("limit", "must not be negative; 0 leaves the page size to WeChat Pay")
	}
	if r.Offset < 0 {
		v.add("offset", "must not be negative")
	}
	oneOf(&v, "status", r.Status, false, codeStatuses)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r GetCouponCodeRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCode("coupon_code", r.CouponCode)
	return v.err()
}

// Validate checks the request and returns a *ValidationError, or nil.
func (r DeleteCouponCodeRequest) Validate() error {
	var v validator
	v.stockID(r.StockID)
	v.couponCode("coupon_code", r.CouponCode)
	v.requestNo("delete_request_no", r.DeleteRequestNo)
	return v.err()
}

// fmt and slog print these types with personal data and coupon codes
// masked (see privacy.go); json.Marshal is unchanged.

// Format prints r as fmt does, openids and coupon codes masked.
func (r UploadCouponCodesRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UploadCouponCodesRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r UploadCouponCodesResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UploadCouponCodesResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r CouponCodeFailure) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r CouponCodeFailure) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r ListCouponCodesResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r ListCouponCodesResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r UploadedCode) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r UploadedCode) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r GetCouponCodeRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r GetCouponCodeRequest) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r GetCouponCodeResponse) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r GetCouponCodeResponse) LogValue() slog.Value { return logValue(masked(r)) }

// Format prints r as fmt does, openids and coupon codes masked.
func (r DeleteCouponCodeRequest) Format(f fmt.State, verb rune) { printMasked(f, verb, masked(r)) }

// LogValue makes slog log r as Format prints it.
func (r DeleteCouponCodeRequest) LogValue() slog.Value { return logValue(masked(r)) }
