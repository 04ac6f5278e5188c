package busifavortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// StocksPath is the stocks collection; a stock is StocksPath/{stock_id}, its
// codes StocksPath/{stock_id}/couponcodes.
const StocksPath = "/v3/marketing/busifavor/stocks"

// DefaultCodePageSize is the page size the fake uses when ListCouponCodes
// gives no limit. (WeChat Pay documents none; this is the fake's choice.)
const DefaultCodePageSize = 20

// stock is one stock the fake keeps.
type stock struct {
	busifavor.Stock
	owner      string // the merchant that created it
	body       []byte // the creation request, canonical JSON: a repeat must match it
	createTime time.Time
	sent       int64

	codes     map[string]*uploaded
	codeOrder []string

	updates map[string]bool                                 // out_request_no of UpdateStock calls done
	budgets map[string]busifavor.UpdateStockBudgetResponse  // modify_budget_request_no -> first answer
	uploads map[string]*busifavor.UploadCouponCodesResponse // upload_request_no -> first answer
	deletes map[string]*busifavor.DeleteCouponCodeResponse  // delete_request_no -> first answer
}

// uploaded is one uploaded code.
type uploaded struct {
	busifavor.UploadedCode
}

// stockRoute answers the stock and code endpoints; ok is false when path is
// not one of them.
func (s *Server) stockRoute(w http.ResponseWriter, r *http.Request, caller string, body []byte) (ok bool) {
	rest, found := strings.CutPrefix(r.URL.EscapedPath(), StocksPath)
	if !found {
		return false
	}
	var parts []string
	if rest = strings.TrimPrefix(rest, "/"); rest != "" {
		for _, p := range strings.Split(rest, "/") {
			u, err := url.PathUnescape(p)
			if err != nil {
				u = p
			}
			parts = append(parts, u)
		}
	}
	type route struct {
		shape  string // number of path segments after /stocks and their names
		method string
		fn     func()
	}
	var id, c string
	if len(parts) > 0 {
		id = parts[0]
	}
	if len(parts) > 2 {
		c = parts[2]
	}
	shape := "stocks"
	switch {
	case len(parts) == 1:
		shape = "stock"
	case len(parts) == 2 && parts[1] == "budget":
		shape = "budget"
	case len(parts) == 2 && parts[1] == "couponcodes":
		shape = "codes"
	case len(parts) == 3 && parts[1] == "couponcodes":
		shape = "code"
	case len(parts) > 0:
		return false
	}
	routes := []route{
		{"stocks", http.MethodPost, func() { s.createStock(w, caller, body) }},
		{"stock", http.MethodGet, func() { s.getStock(w, caller, id) }},
		{"stock", http.MethodPatch, func() { s.updateStock(w, caller, id, body) }},
		{"budget", http.MethodPatch, func() { s.updateBudget(w, caller, id, body) }},
		{"codes", http.MethodPost, func() { s.uploadCodes(w, caller, id, body) }},
		{"codes", http.MethodGet, func() { s.listCodes(w, r, caller, id) }},
		{"code", http.MethodGet, func() { s.getCode(w, caller, id, c) }},
		{"code", http.MethodDelete, func() { s.deleteCode(w, r, caller, id, c) }},
	}
	var allow []string
	for _, rt := range routes {
		if rt.shape != shape {
			continue
		}
		if rt.method == r.Method {
			rt.fn()
			return true
		}
		allow = append(allow, rt.method)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	return true
}

// decode reads a JSON body into v, answering PARAM_ERROR when it is not one.
func (s *Server) decode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError), "请求体不是合法的 JSON", nil)
		return false
	}
	return true
}

// stockFor returns the caller's stock id, answering 404 when there is none.
// A stock belongs to the merchant that created it and to its belong_merchant.
// The caller must hold s.mu.
func (s *Server) stockFor(w http.ResponseWriter, caller, id string) *stock {
	st := s.stocks[id]
	if st == nil || (st.owner != caller && st.BelongMerchant != caller) {
		s.writeError(w, http.StatusNotFound, string(busifavor.ErrorCodeResourceNotExists), "批次不存在", nil)
		return nil
	}
	return st
}

func (s *Server) createStock(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.CreateStockRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) || !s.mayActFor(w, caller, "belong_merchant", req.BelongMerchant) ||
		!s.imagesOK(w, req.DisplayPatternInfo) {
		return
	}
	canonical, _ := json.Marshal(req)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := caller + "\x00" + req.OutRequestNo
	if id, ok := s.stockByRequest[key]; ok {
		st := s.stocks[id]
		if !bytes.Equal(st.body, canonical) {
			s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeResourceAlreadyExists),
				"批次已存在: out_request_no 已用于创建另一个批次", nil)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]string{"stock_id": id, "create_time": FormatTime(st.createTime)})
		return
	}
	s.stockSeq++
	id := strconv.Itoa(1_200_000_000 + s.stockSeq)
	st := &stock{owner: caller, body: canonical, createTime: now, codes: map[string]*uploaded{},
		updates: map[string]bool{}, budgets: map[string]busifavor.UpdateStockBudgetResponse{},
		uploads: map[string]*busifavor.UploadCouponCodesResponse{}, deletes: map[string]*busifavor.DeleteCouponCodeResponse{}}
	st.Stock = busifavor.Stock{
		StockID: id, StockName: req.StockName, BelongMerchant: req.BelongMerchant, Comment: req.Comment,
		GoodsName: req.GoodsName, StockType: req.StockType, CouponUseRule: req.CouponUseRule,
		StockSendRule: req.StockSendRule, CustomEntrance: req.CustomEntrance, DisplayPatternInfo: req.DisplayPatternInfo,
		StockState: busifavor.StockStateRunning, CouponCodeMode: req.CouponCodeMode, NotifyConfig: req.NotifyConfig,
	}
	s.stocks[id] = st
	s.stockByRequest[key] = id
	s.writeJSON(w, http.StatusOK, map[string]string{"stock_id": id, "create_time": FormatTime(now)})
}

// view is the stock as GetStock answers it at the fake's time: STOPED once
// its available time has ended, with its code and send counts.
func (st *stock) view(now time.Time) busifavor.Stock {
	v := st.Stock
	if v.StockState == busifavor.StockStateRunning && now.After(v.CouponUseRule.CouponAvailableTime.AvailableEndTime) {
		v.StockState = busifavor.StockStateStopped
	}
	if v.CouponCodeMode == busifavor.CouponCodeModeMerchantUpload {
		n := &busifavor.CouponCodeCount{TotalCount: int64(len(st.codes))}
		for _, c := range st.codes {
			if c.CodeStatus == busifavor.CouponCodeStatusAvailable {
				n.AvailableCount++
			}
		}
		v.CouponCodeCount = n
	}
	v.SendCountInformation = &busifavor.SendCount{TotalSendNum: st.sent}
	return v
}

func (s *Server) getStock(w http.ResponseWriter, caller, id string) {
	if !s.paramsOK(w, busifavor.GetStockRequest{StockID: id}.Validate()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stockFor(w, caller, id); st != nil {
		s.writeJSON(w, http.StatusOK, st.view(s.now()))
	}
}

func (s *Server) updateStock(w http.ResponseWriter, caller, id string, body []byte) {
	var req busifavor.UpdateStockRequest
	if !s.decode(w, body, &req) {
		return
	}
	req.StockID = id
	if !s.paramsOK(w, req.Validate()) || !s.imagesOK(w, req.DisplayPatternInfo) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	if !st.updates[req.OutRequestNo] { // a repeated out_request_no changes nothing again
		st.updates[req.OutRequestNo] = true
		st.update(req)
	}
	s.writeSigned(w, http.StatusNoContent, nil)
}

// update applies the fields req sets.
func (st *stock) update(req busifavor.UpdateStockRequest) {
	if req.Comment != "" {
		st.Comment = req.Comment
	}
	if req.GoodsName != "" {
		st.GoodsName = req.GoodsName
	}
	if e := req.CustomEntrance; e != nil {
		ce := busifavor.CustomEntrance{}
		if st.CustomEntrance != nil {
			ce = *st.CustomEntrance
		}
		if m := e.MiniProgramsInfo; m != nil {
			mi := busifavor.MiniProgramsInfo{}
			if ce.MiniProgramsInfo != nil {
				mi = *ce.MiniProgramsInfo
			}
			setIf(&mi.MiniProgramsAppID, m.MiniProgramsAppID)
			setIf(&mi.MiniProgramsPath, m.MiniProgramsPath)
			setIf(&mi.EntranceWords, m.EntranceWords)
			setIf(&mi.GuidingWords, m.GuidingWords)
			ce.MiniProgramsInfo = &mi
		}
		setIf(&ce.AppID, e.AppID)
		setIf(&ce.HallID, e.HallID)
		setIf((*string)(&ce.CodeDisplayMode), string(e.CodeDisplayMode))
		st.CustomEntrance = &ce
	}
	if d := req.DisplayPatternInfo; d != nil {
		dp := busifavor.DisplayPatternInfo{}
		if st.DisplayPatternInfo != nil {
			dp = *st.DisplayPatternInfo
		}
		setIf(&dp.Description, d.Description)
		setIf(&dp.BackgroundColor, d.BackgroundColor)
		setIf(&dp.CouponImageURL, d.CouponImageURL)
		if d.FinderInfo != nil {
			dp.FinderInfo = d.FinderInfo
		}
		st.DisplayPatternInfo = &dp
	}
	if u := req.CouponUseRule; u != nil {
		setIf((*string)(&st.CouponUseRule.UseMethod), string(u.UseMethod))
		setIf(&st.CouponUseRule.MiniProgramsAppID, u.MiniProgramsAppID)
		setIf(&st.CouponUseRule.MiniProgramsPath, u.MiniProgramsPath)
	}
	if r := req.StockSendRule; r != nil && r.PreventAPIAbuse != nil {
		st.StockSendRule.PreventAPIAbuse = *r.PreventAPIAbuse
	}
	if n := req.NotifyConfig; n != nil {
		st.NotifyConfig = n
	}
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func (s *Server) updateBudget(w http.ResponseWriter, caller, id string, body []byte) {
	var req busifavor.UpdateStockBudgetRequest
	if !s.decode(w, body, &req) {
		return
	}
	req.StockID = id
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	if first, ok := st.budgets[req.ModifyBudgetRequestNo]; ok {
		s.writeJSON(w, http.StatusOK, first)
		return
	}
	rule := &st.StockSendRule
	switch {
	case req.TargetMaxCoupons != 0 && req.CurrentMaxCoupons != rule.MaxCoupons:
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError),
			fmt.Sprintf("参数错误: current_max_coupons %d 与批次当前值 %d 不一致", req.CurrentMaxCoupons, rule.MaxCoupons),
			map[string]string{"field": "current_max_coupons", "location": "body"})
		return
	case req.TargetMaxCouponsByDay != 0 && req.CurrentMaxCouponsByDay != rule.MaxCouponsByDay:
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeParamError),
			fmt.Sprintf("参数错误: current_max_coupons_by_day %d 与批次当前值 %d 不一致", req.CurrentMaxCouponsByDay, rule.MaxCouponsByDay),
			map[string]string{"field": "current_max_coupons_by_day", "location": "body"})
		return
	}
	if req.TargetMaxCoupons != 0 {
		rule.MaxCoupons = req.TargetMaxCoupons
	} else {
		rule.MaxCouponsByDay = req.TargetMaxCouponsByDay
	}
	out := busifavor.UpdateStockBudgetResponse{MaxCoupons: rule.MaxCoupons, MaxCouponsByDay: rule.MaxCouponsByDay}
	st.budgets[req.ModifyBudgetRequestNo] = out
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) uploadCodes(w http.ResponseWriter, caller, id string, body []byte) {
	var req busifavor.UploadCouponCodesRequest
	if !s.decode(w, body, &req) {
		return
	}
	req.StockID = id
	// WeChat Pay accepts repeats within one upload and reports them in
	// duplicate_codes; every other rule is the client's.
	var distinct, dups []string
	seen := map[string]bool{}
	for _, c := range req.CouponCodeList {
		if seen[c] {
			dups = append(dups, c)
			continue
		}
		seen[c] = true
		distinct = append(distinct, c)
	}
	checked := req
	checked.CouponCodeList = distinct
	if !s.paramsOK(w, checked.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	if first := st.uploads[req.UploadRequestNo]; first != nil {
		s.writeJSON(w, http.StatusOK, uploadWire(first))
		return
	}
	if st.CouponCodeMode != busifavor.CouponCodeModeMerchantUpload {
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeInvalidRequest),
			"发券模式不合法: 只有 coupon_code_mode 为 MERCHANT_UPLOAD 的批次可以上传 code", nil)
		return
	}
	out := &busifavor.UploadCouponCodesResponse{StockID: id, TotalCount: int64(len(distinct)), SuccessTime: now, DuplicateCodes: dups}
	for _, c := range distinct {
		if st.codes[c] != nil {
			out.ExistCodes = append(out.ExistCodes, c)
			continue
		}
		st.codes[c] = &uploaded{busifavor.UploadedCode{Code: c, CodeStatus: busifavor.CouponCodeStatusAvailable, UploadTime: now}}
		st.codeOrder = append(st.codeOrder, c)
		out.SuccessCodes = append(out.SuccessCodes, c)
	}
	out.SuccessCount = int64(len(out.SuccessCodes))
	st.uploads[req.UploadRequestNo] = out
	s.writeJSON(w, http.StatusOK, uploadWire(out))
}

// uploadWire is the upload answer with WeChat Pay's time format.
func uploadWire(r *busifavor.UploadCouponCodesResponse) any {
	type plain busifavor.UploadCouponCodesResponse
	return struct {
		*plain
		SuccessTime string `json:"success_time"`
	}{(*plain)(r), FormatTime(r.SuccessTime)}
}

func (s *Server) listCodes(w http.ResponseWriter, r *http.Request, caller, id string) {
	q := r.URL.Query()
	req := busifavor.ListCouponCodesRequest{StockID: id, AppID: q.Get("appid"), Status: busifavor.CouponCodeStatus(q.Get("status"))}
	if !s.pageParams(w, q, &req.Offset, &req.Limit) {
		return
	}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	if req.Limit == 0 {
		req.Limit = DefaultCodePageSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	var match []busifavor.UploadedCode
	for _, c := range st.codeOrder {
		if x := st.codes[c]; x != nil && (req.Status == "" || x.CodeStatus == req.Status) {
			match = append(match, x.UploadedCode)
		}
	}
	from := int(min(req.Offset, int64(len(match))))
	page := match[from : from+int(min(req.Limit, int64(len(match)-from)))]
	data := make([]any, len(page))
	for i, c := range page {
		data[i] = codeWire(c)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"stock_id": id, "total_count": len(match), "data": data, "offset": req.Offset, "limit": req.Limit,
	})
}

// pageParams reads the offset and limit query parameters, answering
// PARAM_ERROR when one is not an integer.
func (s *Server) pageParams(w http.ResponseWriter, q url.Values, offset, limit *int64) bool {
	for name, dst := range map[string]*int64{"offset": offset, "limit": limit} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: " + name + " 不是整数"})
				return false
			}
			*dst = n
		}
	}
	return true
}

// codeWire is an uploaded code with WeChat Pay's time format.
func codeWire(c busifavor.UploadedCode) any {
	type plain busifavor.UploadedCode
	w := struct {
		plain
		UploadTime     string `json:"upload_time,omitempty"`
		DispatchedTime string `json:"dispatched_time,omitempty"`
	}{plain: plain(c), UploadTime: FormatTime(c.UploadTime)}
	if !c.DispatchedTime.IsZero() {
		w.DispatchedTime = FormatTime(c.DispatchedTime)
	}
	return w
}

func (s *Server) getCode(w http.ResponseWriter, caller, id, c string) {
	if !s.paramsOK(w, busifavor.GetCouponCodeRequest{StockID: id, CouponCode: c}.Validate()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	x := st.codes[c]
	if x == nil {
		s.writeError(w, http.StatusNotFound, string(busifavor.ErrorCodeResourceNotExists), "code 不存在", nil)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"code_information": codeWire(x.UploadedCode)})
}

func (s *Server) deleteCode(w http.ResponseWriter, r *http.Request, caller, id, c string) {
	req := busifavor.DeleteCouponCodeRequest{StockID: id, CouponCode: c, DeleteRequestNo: r.URL.Query().Get("delete_request_no")}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stockFor(w, caller, id)
	if st == nil {
		return
	}
	if first := st.deletes[req.DeleteRequestNo]; first != nil {
		s.writeJSON(w, http.StatusOK, deleteWire(first))
		return
	}
	x := st.codes[c]
	switch {
	case x == nil:
		s.writeError(w, http.StatusNotFound, string(busifavor.ErrorCodeResourceNotExists), "code 不存在", nil)
		return
	case x.CodeStatus == busifavor.CouponCodeStatusDispatched:
		s.writeError(w, http.StatusBadRequest, string(busifavor.ErrorCodeInvalidRequest), "code 已分配给用户, 不能删除", nil)
		return
	}
	delete(st.codes, c)
	for i, k := range st.codeOrder {
		if k == c {
			st.codeOrder = append(st.codeOrder[:i], st.codeOrder[i+1:]...)
			break
		}
	}
	out := &busifavor.DeleteCouponCodeResponse{StockID: id, DeleteTime: now}
	st.deletes[req.DeleteRequestNo] = out
	s.writeJSON(w, http.StatusOK, deleteWire(out))
}

func deleteWire(r *busifavor.DeleteCouponCodeResponse) any {
	return map[string]string{"stock_id": r.StockID, "delete_time": FormatTime(r.DeleteTime)}
}

// Stock returns the stock as GetStock would read it now, and whether there
// is one.
func (s *Server) Stock(stockID string) (busifavor.Stock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stocks[stockID]
	if st == nil {
		return busifavor.Stock{}, false
	}
	return st.view(s.now()), true
}

// CouponCodes returns a stock's uploaded codes in upload order.
func (s *Server) CouponCodes(stockID string) []busifavor.UploadedCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stocks[stockID]
	if st == nil {
		return nil
	}
	out := make([]busifavor.UploadedCode, 0, len(st.codeOrder))
	for _, c := range st.codeOrder {
		out = append(out, st.codes[c].UploadedCode)
	}
	return out
}
