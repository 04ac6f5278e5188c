package busifavortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// CouponsPath holds the coupon writes (send, use, associate, disassociate,
// return, deactivate, {card_id}/send); UsersPath/{openid}/coupons a user's
// coupons.
const (
	CouponsPath = "/v3/marketing/busifavor/coupons"
	UsersPath   = "/v3/marketing/busifavor/users"
)

// DefaultCouponPageSize is the page size the fake uses when ListUserCoupons
// gives no limit. (This is the fake's choice.)
const DefaultCouponPageSize = 20

// userCoupon is one coupon a user holds, with what the fake needs to answer
// repeats as WeChat Pay does.
type userCoupon struct {
	busifavor.UserCoupon
	openid  string
	owners  map[string]bool // merchants that may act on it: creator, belong and sender
	expires bool            // false for gov cards, which have no stock

	uses map[string]json.RawMessage // use_request_no -> first answer
	done map[string]time.Time       // "return\x00" + return_request_no (and so on) -> when the write was done
}

// refusal is an error answer the fake gives; ClaimCoupon turns it into an
// error.
type refusal struct {
	status  int
	code    busifavor.ErrorCode
	message string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.status, r.code, r.message) }

// refuse answers r.
func (s *Server) refuse(w http.ResponseWriter, r *refusal) {
	s.writeError(w, r.status, string(r.code), r.message, nil)
}

// Where no page names the code for a refusal, the fake answers
// INVALID_REQUEST and says why in the message.
func invalid(msg string) *refusal {
	return &refusal{http.StatusBadRequest, busifavor.ErrorCodeInvalidRequest, msg}
}

// state is the coupon's state at time now: EXPIRED once its time ended.
func (c *userCoupon) state(now time.Time) busifavor.CouponState {
	if c.CouponState == busifavor.CouponStateSent && c.expires && now.After(c.ExpireTime) {
		return busifavor.CouponStateExpired
	}
	return c.CouponState
}

// view is the coupon as WeChat Pay reads it at time now.
func (c *userCoupon) view(now time.Time) busifavor.UserCoupon {
	v := c.UserCoupon
	v.CouponState = c.state(now)
	return v
}

// issueCoupon gives a coupon of st to openid, as a send or a claim does:
// within the stock's time and caps, taking an uploaded code in
// MERCHANT_UPLOAD mode, code (required) in MERCHANT_API mode, and a new one
// in WECHATPAY_MODE. The caller holds s.mu.
func (s *Server) issueCoupon(st *stock, sender, openid, code, requestNo string, now time.Time) (*userCoupon, *refusal) {
	at := st.CouponUseRule.CouponAvailableTime
	switch {
	case st.view(now).StockState != busifavor.StockStateRunning || now.Before(at.AvailableBeginTime):
		return nil, &refusal{http.StatusForbidden, busifavor.ErrorCodeRuleLimit, "批次不在可发放时间内"}
	case st.StockSendRule.MaxCoupons > 0 && st.sent >= st.StockSendRule.MaxCoupons:
		return nil, invalid("批次已发完: 已达 max_coupons")
	}
	held := int64(0)
	for _, c := range s.coupons {
		if c.StockID == st.StockID && c.openid == openid {
			held++
		}
	}
	if held >= st.StockSendRule.MaxCouponsPerUser {
		return nil, invalid("用户领券已达上限: max_coupons_per_user")
	}
	var upload *uploaded // the code to dispatch, marked only once nothing can refuse
	switch st.CouponCodeMode {
	case busifavor.CouponCodeModeMerchantAPI:
		if code == "" {
			return nil, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: MERCHANT_API 模式的批次发券必须指定 coupon_code"}
		}
	case busifavor.CouponCodeModeMerchantUpload:
		code = ""
		for _, k := range st.codeOrder {
			if c := st.codes[k]; c.CodeStatus == busifavor.CouponCodeStatusAvailable {
				upload, code = c, k
				break
			}
		}
		if code == "" {
			return nil, invalid("预存 code 已用完: 请上传更多 code")
		}
	default:
		code = fmt.Sprintf("%022d", 1_000_000_000_000+s.couponSeq+1) // WeChat Pay's codes are 22 digits
	}
	// Merchant codes are unique within their stock (上传的 code 在批次下保证唯一),
	// not across stocks.
	if s.coupons[couponKey(st.StockID, code)] != nil {
		return nil, &refusal{http.StatusBadRequest, busifavor.ErrorCodeResourceAlreadyExists, "券 code 已存在"}
	}
	if st.CouponCodeMode != busifavor.CouponCodeModeMerchantAPI && st.CouponCodeMode != busifavor.CouponCodeModeMerchantUpload {
		s.couponSeq++
	}
	if upload != nil {
		upload.CodeStatus, upload.DispatchedTime, upload.OpenID, upload.CouponCode = busifavor.CouponCodeStatusDispatched, now, openid, code
	}
	st.sent++
	c := &userCoupon{openid: openid, expires: true,
		owners: map[string]bool{st.owner: true, st.BelongMerchant: true, sender: true},
		uses:   map[string]json.RawMessage{}, done: map[string]time.Time{}}
	start := now
	if start.Before(at.AvailableBeginTime) {
		start = at.AvailableBeginTime
	}
	c.UserCoupon = busifavor.UserCoupon{
		BelongMerchant: st.BelongMerchant, StockName: st.StockName, Comment: st.Comment, GoodsName: st.GoodsName,
		StockType: st.StockType, CouponState: busifavor.CouponStateSent, DisplayPatternInfo: st.DisplayPatternInfo,
		CouponUseRule: st.CouponUseRule, CustomEntrance: st.CustomEntrance, CouponCode: code, StockID: st.StockID,
		AvailableStartTime: start, ExpireTime: at.AvailableEndTime, ReceiveTime: now, SendRequestNo: requestNo,
	}
	s.addCoupon(c)
	return c, nil
}

// couponKey is a coupon's key in Server.coupons: codes are unique per stock
// (or gov card), not across them.
func couponKey(stockID, code string) string { return stockID + "\x00" + code }

// addCoupon keeps c. The caller holds s.mu.
func (s *Server) addCoupon(c *userCoupon) {
	s.coupons[couponKey(c.StockID, c.CouponCode)] = c
	s.byCode[c.CouponCode] = append(s.byCode[c.CouponCode], c)
	s.couponOrder = append(s.couponOrder, c)
}

// findCoupon returns coupon code of stockID, or, when stockID is "", the
// first issued with that code that match accepts; nil when there is none.
// The caller holds s.mu.
func (s *Server) findCoupon(code, stockID string, match func(*userCoupon) bool) *userCoupon {
	if stockID != "" {
		if c := s.coupons[couponKey(stockID, code)]; c != nil && match(c) {
			return c
		}
		return nil
	}
	for _, c := range s.byCode[code] {
		if match(c) {
			return c
		}
	}
	return nil
}

// couponRoute answers the coupon endpoints; ok is false when the path is
// not one of them.
func (s *Server) couponRoute(w http.ResponseWriter, r *http.Request, caller string, body []byte) (ok bool) {
	path := r.URL.EscapedPath()
	if rest, found := strings.CutPrefix(path, CouponsPath+"/"); found {
		parts := strings.Split(rest, "/")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
			return true
		}
		switch {
		case len(parts) == 1 && parts[0] == "send":
			s.sendCoupon(w, caller, body)
		case len(parts) == 1 && parts[0] == "use":
			s.useCoupon(w, caller, body)
		case len(parts) == 1 && (parts[0] == "associate" || parts[0] == "disassociate"):
			s.tradeInfo(w, caller, body, parts[0] == "associate")
		case len(parts) == 1 && parts[0] == "return":
			s.returnCoupon(w, caller, body)
		case len(parts) == 1 && parts[0] == "deactivate":
			s.deactivateCoupon(w, caller, body)
		case len(parts) == 2 && parts[1] == "send":
			s.sendGovCard(w, caller, unescape(parts[0]), body)
		default:
			return false
		}
		return true
	}
	rest, found := strings.CutPrefix(path, UsersPath+"/")
	if !found {
		return false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[1] == "coupons" && r.Method == http.MethodGet:
		s.listUserCoupons(w, r, caller, unescape(parts[0]))
	case len(parts) == 5 && parts[1] == "coupons" && parts[3] == "appids" && r.Method == http.MethodGet:
		s.getUserCoupon(w, caller, unescape(parts[0]), unescape(parts[2]), unescape(parts[4]))
	case len(parts) == 2 && parts[1] == "coupons", len(parts) == 5 && parts[1] == "coupons" && parts[3] == "appids":
		w.Header().Set("Allow", "GET")
		s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	default:
		return false
	}
	return true
}

func unescape(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// couponFor returns the caller's coupon code of stockID ("" matches any
// stock), or a RESOURCE_NOT_EXISTS refusal. The caller holds s.mu.
func (s *Server) couponFor(caller, code, stockID string) (*userCoupon, *refusal) {
	c := s.findCoupon(code, stockID, func(c *userCoupon) bool { return c.owners[caller] })
	if c == nil {
		return nil, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "券不存在"}
	}
	return c, nil
}

func (s *Server) sendCoupon(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.SendCouponRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	code, owner, ev, ok := s.sendOne(w, caller, req, now)
	if !ok {
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"send_coupon_result": map[string]string{
		"stock_id": req.StockID, "out_request_no": req.OutRequestNo, "coupon_code": code}})
	if ev != nil {
		// The event page: 领券完成后, 微信会把相关领券结果和用户信息发送给商户;
		// its send_channel values, as SDKs copy the page's table, include
		// BUSICOUPON_SEND_CHANNEL_API. No page says outright that an API send
		// is notified: the fake assumes it is. The callbacks page: only the
		// stock's creator hears of it (仅可以收到由商户自己创建的批次相关的通知).
		_ = s.deliverEvent(owner, *ev, false)
	}
}

// sendOne gives the coupon of a send (or finds the one an earlier send with
// the same number gave) and returns its code, with the stock's creator and
// the COUPON.SEND to deliver to it when the coupon is new. It answers a
// refusal itself (ok false).
func (s *Server) sendOne(w http.ResponseWriter, caller string, req busifavor.SendCouponRequest, now time.Time) (code, owner string, ev *busifavor.CouponSend, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := req.StockID + "\x00" + req.OpenID + "\x00" + req.OutRequestNo
	if code, repeat := s.sends[key]; repeat {
		return code, "", nil, true
	}
	st := s.sendableStock(w, caller, req.StockID)
	if st == nil {
		return "", "", nil, false
	}
	c, ref := s.issueCoupon(st, caller, req.OpenID, req.CouponCode, req.OutRequestNo, now)
	if ref != nil {
		s.refuse(w, ref)
		return "", "", nil, false
	}
	s.sends[key] = c.CouponCode
	ev = &busifavor.CouponSend{CouponCode: c.CouponCode, StockID: st.StockID, SendTime: now,
		SendChannel: busifavor.SendChannelAPI, SendMerchant: caller}
	if st.NotifyConfig != nil && st.NotifyConfig.NotifyAppID != "" {
		ev.OpenID = req.OpenID // events carry the openid only for stocks with notify_appid
	}
	return c.CouponCode, st.owner, ev, true
}

func (s *Server) useCoupon(w http.ResponseWriter, caller string, body []byte) {
	var fields struct {
		CouponCode   string `json:"coupon_code"`
		StockID      string `json:"stock_id"`
		Appid        string `json:"appid"`
		UseTime      string `json:"use_time"`
		UseRequestNo string `json:"use_request_no"`
		Openid       string `json:"openid"`
	}
	if !s.decode(w, body, &fields) {
		return
	}
	req := busifavor.UseCouponRequest{CouponCode: fields.CouponCode, StockID: fields.StockID, AppID: fields.Appid,
		UseRequestNo: fields.UseRequestNo, OpenID: fields.Openid}
	if t, err := busifavor.ParseTime(fields.UseTime); err == nil {
		req.UseTime = t
	}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ref := s.couponFor(caller, req.CouponCode, req.StockID)
	if ref == nil && req.StockID == "" {
		if st := s.stocks[c.StockID]; st != nil && st.CouponCodeMode != busifavor.CouponCodeModeWechatPay {
			ref = &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: 商户自定义 code 的批次核销时必须填写 stock_id"}
		}
	}
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	if first, ok := c.uses[req.UseRequestNo]; ok { // a retried redemption gets the first answer
		s.writeSigned(w, http.StatusOK, first)
		return
	}
	if ref := c.usable(now, req.OpenID); ref != nil {
		s.refuse(w, ref)
		return
	}
	c.CouponState, c.UseRequestNo, c.UseTime = busifavor.CouponStateUsed, req.UseRequestNo, now
	answer, _ := json.Marshal(map[string]string{"stock_id": c.StockID, "openid": c.openid, "wechatpay_use_time": FormatTime(now)})
	c.uses[req.UseRequestNo] = answer
	s.writeSigned(w, http.StatusOK, answer)
}

// usable refuses a redemption the coupon's state does not allow, with the
// error table's codes: RESOURCE_ALREADY_EXISTS (券已被其他订单核销) when used,
// RULELIMIT (券不在有效期) outside its time or once deactivated.
func (c *userCoupon) usable(now time.Time, openid string) *refusal {
	switch st := c.state(now); {
	case openid != "" && openid != c.openid:
		return &refusal{http.StatusNotFound, busifavor.ErrorCodeUserNotExists, "openid 不正确: 券不属于该用户"}
	case st == busifavor.CouponStateUsed:
		return &refusal{http.StatusBadRequest, busifavor.ErrorCodeResourceAlreadyExists, "券已被其他订单核销"}
	case st == busifavor.CouponStateDeactivated:
		return &refusal{http.StatusForbidden, busifavor.ErrorCodeRuleLimit, "券不在有效期: 券已失效"}
	case st == busifavor.CouponStateExpired || now.Before(c.AvailableStartTime):
		return &refusal{http.StatusForbidden, busifavor.ErrorCodeRuleLimit, "券不在有效期"}
	case st != busifavor.CouponStateSent:
		return &refusal{http.StatusForbidden, busifavor.ErrorCodeRuleLimit, "券不在有效期: 券状态为 " + string(st)}
	}
	return nil
}

func (s *Server) tradeInfo(w http.ResponseWriter, caller string, body []byte, associate bool) {
	var req busifavor.AssociateTradeInfoRequest // a disassociation has the same fields
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	op, timeField := "disassociate", "wechatpay_disassociate_time"
	if associate {
		op, timeField = "associate", "wechatpay_associate_time"
	}
	s.changeCoupon(w, caller, req.CouponCode, req.StockID, op, req.OutRequestNo, timeField, func(c *userCoupon, _ time.Time) *refusal {
		switch {
		case associate && c.AssociateOutTradeNo != "" && c.AssociateOutTradeNo != req.OutTradeNo:
			return &refusal{http.StatusBadRequest, busifavor.ErrorCodeResourceAlreadyExists, "券已关联其他订单: " + c.AssociateOutTradeNo}
		case !associate && c.AssociateOutTradeNo != req.OutTradeNo:
			return invalid("券未与该订单关联, 无法取消关联")
		case associate:
			c.AssociateOutTradeNo = req.OutTradeNo
		default:
			c.AssociateOutTradeNo = ""
		}
		return nil
	})
}

func (s *Server) returnCoupon(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.ReturnCouponRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	s.changeCoupon(w, caller, req.CouponCode, req.StockID, "return", req.ReturnRequestNo, "wechatpay_return_time", func(c *userCoupon, now time.Time) *refusal {
		if c.CouponState != busifavor.CouponStateUsed {
			return invalid("券未核销, 不能退券")
		}
		c.CouponState, c.ReturnRequestNo, c.ReturnTime = busifavor.CouponStateSent, req.ReturnRequestNo, now
		c.UseRequestNo, c.UseTime = "", time.Time{}
		return nil
	})
}

func (s *Server) deactivateCoupon(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.DeactivateCouponRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	s.changeCoupon(w, caller, req.CouponCode, req.StockID, "deactivate", req.DeactivateRequestNo, "wechatpay_deactivate_time", func(c *userCoupon, now time.Time) *refusal {
		if st := c.state(now); st != busifavor.CouponStateSent {
			return invalid("只有可用的券可以失效, 券状态为 " + string(st))
		}
		c.CouponState, c.DeactivateRequestNo, c.DeactivateTime, c.DeactivateReason = busifavor.CouponStateDeactivated, req.DeactivateRequestNo, now, req.DeactivateReason
		return nil
	})
}

// changeCoupon answers a write on one of the caller's coupons, op with the
// merchant's requestNo: a repeat of the number gets the first answer's time
// in timeField; otherwise change refuses or applies the write at now.
func (s *Server) changeCoupon(w http.ResponseWriter, caller, code, stockID, op, requestNo, timeField string, change func(c *userCoupon, now time.Time) *refusal) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ref := s.couponFor(caller, code, stockID)
	if ref != nil {
		s.refuse(w, ref)
		return
	}
	key := op + "\x00" + requestNo
	when, repeat := c.done[key]
	if !repeat {
		if ref := change(c, now); ref != nil {
			s.refuse(w, ref)
			return
		}
		when = now
		c.done[key] = when
	}
	s.writeJSON(w, http.StatusOK, map[string]string{timeField: FormatTime(when)})
}

func (s *Server) sendGovCard(w http.ResponseWriter, caller, cardID string, body []byte) {
	var wire struct {
		Appid        string `json:"appid"`
		Openid       string `json:"openid"`
		OutRequestNo string `json:"out_request_no"`
		SendTime     string `json:"send_time"`
	}
	if !s.decode(w, body, &wire) {
		return
	}
	req := busifavor.SendGovCardRequest{CardID: cardID, AppID: wire.Appid, OpenID: wire.Openid, OutRequestNo: wire.OutRequestNo}
	if t, err := busifavor.ParseTime(wire.SendTime); err == nil {
		req.SendTime = t
	}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	if req.SendTime.Before(now.Add(-24 * time.Hour)) {
		s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: send_time 不能早于当前时间 24 小时以上"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := cardID + "\x00" + req.OutRequestNo + "\x00" + wire.SendTime
	code, repeat := s.sends[key]
	if !repeat {
		s.couponSeq++
		code = fmt.Sprintf("%022d", 2_000_000_000_000+s.couponSeq)
		s.sends[key] = code
		s.addCoupon(&userCoupon{openid: req.OpenID, owners: map[string]bool{caller: true},
			uses: map[string]json.RawMessage{}, done: map[string]time.Time{},
			UserCoupon: busifavor.UserCoupon{CouponCode: code, StockID: cardID, CouponState: busifavor.CouponStateSent,
				ReceiveTime: now, AvailableStartTime: now, SendRequestNo: req.OutRequestNo}})
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"card_code": code})
}

func (s *Server) getUserCoupon(w http.ResponseWriter, caller, openid, code, appid string) {
	if !s.paramsOK(w, busifavor.GetUserCouponRequest{OpenID: openid, CouponCode: code, AppID: appid}.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findCoupon(code, "", func(c *userCoupon) bool { return c.owners[caller] && c.openid == openid })
	if c == nil {
		s.refuse(w, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "券不存在"})
		return
	}
	s.writeJSON(w, http.StatusOK, c.view(now))
}

func (s *Server) listUserCoupons(w http.ResponseWriter, r *http.Request, caller, openid string) {
	q := r.URL.Query()
	req := busifavor.ListUserCouponsRequest{OpenID: openid, AppID: q.Get("appid"), StockID: q.Get("stock_id"),
		CreatorMerchant: q.Get("creator_merchant"), BelongMerchant: q.Get("belong_merchant"), SenderMerchant: q.Get("sender_merchant"),
		CouponState: busifavor.CouponState(q.Get("coupon_state"))}
	if !s.pageParams(w, q, &req.Page, &req.Limit) {
		return
	}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	if req.Limit == 0 {
		req.Limit = DefaultCouponPageSize
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []busifavor.UserCoupon
	for _, c := range s.couponOrder {
		st := s.stocks[c.StockID]
		switch {
		case c.openid != openid || !c.owners[caller],
			req.StockID != "" && c.StockID != req.StockID,
			req.CouponState != "" && c.state(now) != req.CouponState,
			req.CreatorMerchant != "" && (st == nil || st.owner != req.CreatorMerchant),
			req.BelongMerchant != "" && c.BelongMerchant != req.BelongMerchant,
			req.SenderMerchant != "" && !c.owners[req.SenderMerchant]:
			continue
		}
		match = append(match, c.view(now))
	}
	from := int64(len(match)) // Offset is a page number: the page starts at Offset·Limit, guarded against overflow
	if req.Page <= from/req.Limit {
		from = min(req.Page*req.Limit, from)
	}
	page := match[from : from+min(req.Limit, int64(len(match))-from)]
	s.writeJSON(w, http.StatusOK, map[string]any{"data": page, "total_count": len(match), "limit": req.Limit, "offset": req.Page})
}

// UserCoupon returns a coupon as GetUserCoupon would read it now, and
// whether there is one. Merchant codes are unique per stock only: when two
// stocks hold the code, it is the first coupon issued with it.
func (s *Server) UserCoupon(code string) (busifavor.UserCoupon, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findCoupon(code, "", func(*userCoupon) bool { return true })
	if c == nil {
		return busifavor.UserCoupon{}, false
	}
	return c.view(s.now()), true
}
