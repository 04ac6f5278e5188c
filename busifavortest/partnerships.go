package busifavortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// PartnershipsPath is the partnerships collection (委托营销): build and
// terminate below it, the list at it.
const PartnershipsPath = "/v3/marketing/partnerships"

// DefaultPartnershipPageSize is the page size of a list that gives no limit
// (list pages: 不传默认为20).
const DefaultPartnershipPageSize = 20

// WithMerchantAPIv2Key gives another merchant an APIv2 key, with which the
// send channels' signatures verify when that merchant is
// send_coupon_merchant: a MERCHANT partner of a stock signs its coupons with
// its own key. Without it only the server's merchant (WithAPIv2Key) can sign.
func WithMerchantAPIv2Key(mchID, apiV2Key string) Option {
	return func(c *config) {
		if c.apiV2Keys == nil {
			c.apiV2Keys = map[string]string{}
		}
		c.apiV2Keys[mchID] = apiV2Key
	}
}

// apiV2KeyOf is the APIv2 key the fake knows for mchID.
func (s *Server) apiV2KeyOf(mchID string) (string, bool) {
	if mchID == s.cfg.mchID {
		return s.cfg.apiV2Key, true
	}
	k, ok := s.cfg.apiV2Keys[mchID]
	return k, ok
}

// partnerState is what the fake keeps of partnerships.
type partnerState struct {
	byKey map[string]*partnership // owner + partner + stock -> the partnership
	order []*partnership          // in the order they were first built
	keys  map[string]keyUse       // caller + "\x00" + Idempotency-Key -> its first use
}

// partnership is one partnership and the merchant whose stock it authorizes.
type partnership struct {
	owner string
	busifavor.Partnership
}

// keyUse is what an Idempotency-Key was first used for, and the answer.
type keyUse struct {
	op      string
	partner busifavor.Partner
	data    busifavor.AuthorizedData
	answer  []byte
}

// partnerKey identifies a partnership: the owner, the partner (by the id its
// type names) and the stock.
func partnerKey(owner string, p busifavor.Partner, d busifavor.AuthorizedData) string {
	id := p.AppID
	if p.Type == busifavor.PartnerTypeMerchant {
		id = p.MerchantID
	}
	return strings.Join([]string{owner, string(p.Type), id, string(d.BusinessType), d.StockID}, "\x00")
}

// established reports whether partner (of typ, named by id) may act on
// stockID under an ESTABLISHED BUSIFAVOR_STOCK partnership with owner. The
// caller holds s.mu.
func (s *Server) established(owner string, typ busifavor.PartnerType, id, stockID string) bool {
	p := busifavor.Partner{Type: typ, AppID: id, MerchantID: id}
	pt := s.pt.byKey[partnerKey(owner, p, busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stockID})]
	return pt != nil && pt.State == busifavor.PartnershipStateEstablished
}

// maySend reports whether sender may send st's coupons: its creator, or a
// MERCHANT partner of it under an ESTABLISHED partnership. The caller holds
// s.mu.
func (s *Server) maySend(st *stock, sender string) bool {
	return st.owner == sender || s.established(st.owner, busifavor.PartnerTypeMerchant, sender, st.StockID)
}

// sendableStock returns stock id for SendCoupon by caller: its creator or
// belong_merchant, as stockFor, or a MERCHANT partner of it. Anyone else
// gets 404, as before partnerships. The caller holds s.mu.
func (s *Server) sendableStock(w http.ResponseWriter, caller, id string) *stock {
	if st := s.stocks[id]; st != nil && s.maySend(st, caller) {
		return st
	}
	return s.stockFor(w, caller, id)
}

// ClaimMiniProgramIn plays a user pressing the plugin's button in the mini
// program of appid, an APPID partner of the stocks offered: each stock must
// have an ESTABLISHED partnership with appid, else the plugin answers errcode
// PARAM_ERROR (the fake's choice: no page names a code for it) and nothing
// changes. The claim is then ClaimMiniProgram's, signed with
// send_coupon_merchant's APIv2 key. The fake does not know which appids are a
// merchant's own: for a claim in the creator's own mini program, call
// ClaimMiniProgram.
func (s *Server) ClaimMiniProgramIn(appid, openid string, c *busifavor.MiniProgramCoupons) (*busifavor.MiniProgramSendResult, error) {
	if c != nil {
		s.mu.Lock()
		for _, p := range c.SendCouponParams {
			st := s.stocks[p.StockID]
			if st != nil && !s.established(st.owner, busifavor.PartnerTypeAppID, appid, st.StockID) {
				s.mu.Unlock()
				return &busifavor.MiniProgramSendResult{ErrCode: busifavor.MiniProgramErrCodeParamError,
					Msg: fmt.Sprintf("小程序 %s 未获批次 %s 的委托营销授权", appid, st.StockID)}, nil
			}
		}
		s.mu.Unlock()
	}
	return s.ClaimMiniProgram(openid, c)
}

// Partnerships returns every partnership, of every merchant, in the order
// they were first built.
func (s *Server) Partnerships() []busifavor.Partnership {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]busifavor.Partnership, len(s.pt.order))
	for i, p := range s.pt.order {
		out[i] = p.Partnership
	}
	return out
}

// partnerRoute answers the partnership endpoints; ok is false when the path
// is not one of them.
func (s *Server) partnerRoute(w http.ResponseWriter, r *http.Request, caller string, body []byte) (ok bool) {
	switch p := r.URL.Path; {
	case p == PartnershipsPath+"/build" && r.Method == http.MethodPost:
		s.writePartnership(w, r, caller, body, "build")
	case p == PartnershipsPath+"/terminate" && r.Method == http.MethodPost:
		s.writePartnership(w, r, caller, body, "terminate")
	case p == PartnershipsPath && r.Method == http.MethodGet:
		s.listPartnerships(w, r, caller)
	case p == PartnershipsPath+"/build", p == PartnershipsPath+"/terminate":
		w.Header().Set("Allow", "POST")
		s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	case p == PartnershipsPath:
		w.Header().Set("Allow", "GET")
		s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	default:
		return false
	}
	return true
}

// writePartnership answers build and terminate. The Idempotency-Key is kept
// per merchant (商户侧需保持唯一性): the same key with the same request
// answers the first answer again and changes nothing; with another request
// (or the other endpoint) it is refused with INVALID_REQUEST, the fake's
// choice, as no page says what WeChat Pay does. A BUSIFAVOR_STOCK stock
// must be the caller's (its creator or belong_merchant); the fake holds no
// FAVOR_STOCK stocks and takes those partnerships as asked. Building a
// standing partnership answers it unchanged; building a terminated one
// establishes it again. Terminating one that is not there is 404
// RESOURCE_NOT_EXISTS; terminating a terminated one answers its
// terminate_time unchanged.
func (s *Server) writePartnership(w http.ResponseWriter, r *http.Request, caller string, body []byte, op string) {
	var req busifavor.BuildPartnershipRequest
	if !s.decode(w, body, &req) {
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pt.keys == nil {
		s.pt.byKey, s.pt.keys = map[string]*partnership{}, map[string]keyUse{}
	}
	use := caller + "\x00" + req.IdempotencyKey
	if first, ok := s.pt.keys[use]; ok {
		if first.op != op || first.partner != req.Partner || !reflect.DeepEqual(first.data, req.AuthorizedData) {
			s.refuse(w, invalid("Idempotency-Key 已用于另一请求: 每个请求使用唯一的业务请求幂等值"))
			return
		}
		s.writeSigned(w, http.StatusOK, first.answer)
		return
	}
	d := req.AuthorizedData
	if d.BusinessType == busifavor.BusinessTypeBusifavorStock {
		if st := s.stockFor(w, caller, d.StockID); st == nil {
			return
		}
	}
	key := partnerKey(caller, req.Partner, d)
	pt := s.pt.byKey[key]
	var answer any
	switch {
	case op == "terminate" && pt == nil:
		s.refuse(w, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "合作关系不存在"})
		return
	case op == "terminate":
		if pt.State != busifavor.PartnershipStateTerminated {
			pt.State, pt.TerminateTime, pt.UpdateTime = busifavor.PartnershipStateTerminated, now, now
		}
		answer = map[string]any{"terminate_time": pt.TerminateTime}
	default:
		if pt == nil {
			pt = &partnership{owner: caller, Partnership: busifavor.Partnership{Partner: req.Partner,
				AuthorizedData: busifavor.AuthorizedData{BusinessType: d.BusinessType, StockID: d.StockID}, CreateTime: now}}
			s.pt.byKey[key] = pt
			s.pt.order = append(s.pt.order, pt)
		}
		if pt.State != busifavor.PartnershipStateEstablished {
			pt.State, pt.BuildTime, pt.TerminateTime, pt.UpdateTime = busifavor.PartnershipStateEstablished, now, time.Time{}, now
		}
		answer = struct {
			Partner        busifavor.Partner          `json:"partner"`
			AuthorizedData busifavor.AuthorizedData   `json:"authorized_data"`
			State          busifavor.PartnershipState `json:"state"`
			BuildTime      time.Time                  `json:"build_time"`
			CreateTime     time.Time                  `json:"create_time"`
			UpdateTime     time.Time                  `json:"update_time"`
		}{pt.Partner, pt.AuthorizedData, pt.State, pt.BuildTime, pt.CreateTime, pt.UpdateTime}
	}
	b, err := Marshal(answer)
	if err != nil {
		panic(err) // the fake's own types always marshal
	}
	s.pt.keys[use] = keyUse{op: op, partner: req.Partner, data: req.AuthorizedData, answer: b}
	s.writeSigned(w, http.StatusOK, b)
}

// listPartnerships answers the list: partner (optional) and authorized_data
// (required) are JSON strings in the query; offset is a page number; a page
// holds at most busifavor.MaxPartnershipsPerPage, DefaultPartnershipPageSize
// when no limit is given; total_count comes only with page 0 or an empty
// page (list pages: 当offset=0或者当前查询为空时返回). An empty result is a
// 2xx with no data: the page's other sentence, that it is an error (如查询结果为0,将在控制流返回错误),
// names no code. Items carry the fields the
// page's example shows, state not among them.
func (s *Server) listPartnerships(w http.ResponseWriter, r *http.Request, caller string) {
	q := r.URL.Query()
	var req busifavor.ListPartnershipsRequest
	for name, dst := range map[string]any{"partner": &req.Partner, "authorized_data": &req.AuthorizedData} {
		if v := q.Get(name); v != "" && json.Unmarshal([]byte(v), dst) != nil {
			s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: " + name + " 须为 JSON 字符串"})
			return
		}
	}
	if !s.pageParams(w, q, &req.Offset, &req.Limit) || !s.paramsOK(w, req.Validate()) {
		return
	}
	if req.Limit == 0 {
		req.Limit = DefaultPartnershipPageSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*partnership
	for _, pt := range s.pt.order {
		p, d := pt.Partner, pt.AuthorizedData
		if pt.owner != caller || d.BusinessType != req.AuthorizedData.BusinessType ||
			req.AuthorizedData.StockID != "" && d.StockID != req.AuthorizedData.StockID ||
			req.Partner.Type != "" && p.Type != req.Partner.Type ||
			req.Partner.AppID != "" && p.AppID != req.Partner.AppID ||
			req.Partner.MerchantID != "" && p.MerchantID != req.Partner.MerchantID {
			continue
		}
		match = append(match, pt)
	}
	n := int64(len(match))
	from := n // offsets are pages; one past the end (or so far that the product overflows) is empty
	if req.Offset <= n/req.Limit {
		from = min(req.Offset*req.Limit, n)
	}
	page := match[from:min(from+req.Limit, n)]
	data := make([]any, len(page))
	for i, pt := range page {
		data[i] = struct {
			Partner        busifavor.Partner        `json:"partner"`
			AuthorizedData busifavor.AuthorizedData `json:"authorized_data"`
			BuildTime      time.Time                `json:"build_time"`
			TerminateTime  time.Time                `json:"terminate_time"`
			CreateTime     time.Time                `json:"create_time"`
			UpdateTime     time.Time                `json:"update_time"`
		}{pt.Partner, pt.AuthorizedData, pt.BuildTime, pt.TerminateTime, pt.CreateTime, pt.UpdateTime}
	}
	answer := map[string]any{"data": data, "offset": req.Offset, "limit": req.Limit}
	if req.Offset == 0 || len(page) == 0 {
		answer["total_count"] = len(match)
	}
	s.writeJSON(w, http.StatusOK, answer)
}
