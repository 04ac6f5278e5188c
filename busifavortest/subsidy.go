package busifavortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/busifavor-go/busifavor"
)

// SubsidyPath holds the subsidy receipts: SubsidyPath/pay-receipts and
// SubsidyPath/return-receipts.
const SubsidyPath = "/v3/marketing/busifavor/subsidy"

// SubsidySettlement says how the fake settles the subsidy receipts created
// while it is in effect: ACCEPTED for Delay on the server's clock, then
// SUCCESS, or FAIL with FailReason when it is set. The zero value settles
// at once, successfully.
type SubsidySettlement struct {
	Delay      time.Duration
	FailReason string
}

// WithSubsidySettlement sets how subsidy receipts settle (default: at once,
// successfully).
func WithSubsidySettlement(st SubsidySettlement) Option {
	return func(c *config) { c.settlement = st }
}

// SetSubsidySettlement changes how the receipts created from now on settle.
func (s *Server) SetSubsidySettlement(st SubsidySettlement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.settlement = st
}

// StatusSpelling is how the fake spells subsidy payment statuses and
// failure reasons (WithStatusSpelling).
type StatusSpelling int

const (
	// SpellingWechatpayGo writes PAY_RECEIPT_SUCCESS, PAY_RECEIPT_INSUFFICIENT_BALANCE,
	// …, as wechatpay-go's models do. It is the default.
	SpellingWechatpayGo StatusSpelling = iota
	// SpellingPages writes SUCCESS, INSUFFICIENT_BALANCE, …, as the
	// payment pages (查询营销补差付款单详情, 查询营销补差付款单列表) do.
	SpellingPages
)

// WithStatusSpelling chooses how subsidy payments spell their status and
// fail_reason (default SpellingWechatpayGo), so that a merchant's code can be
// tested against both spellings; it should compare with Canonical, which
// accepts both. Returns are spelt RETURN_RECEIPT_… either way: the return
// pages and wechatpay-go's models agree.
func WithStatusSpelling(sp StatusSpelling) Option {
	return func(c *config) { c.spelling = sp }
}

// spell writes a payment's status and fail reason as the spelling says.
func (sp StatusSpelling) spell(v busifavor.SubsidyPayReceipt) busifavor.SubsidyPayReceipt {
	if sp == SpellingPages {
		v.Status = busifavor.SubsidyPayReceiptStatus(strings.TrimPrefix(string(v.Status), "PAY_RECEIPT_"))
		v.FailReason = busifavor.SubsidyPayReceiptFailReason(strings.TrimPrefix(string(v.FailReason), "PAY_RECEIPT_"))
	}
	return v
}

// payReceipt is a subsidy payment the fake keeps.
type payReceipt struct {
	busifavor.SubsidyPayReceipt
	coupon   *userCoupon
	body     []byte // the creation request: a repeat must match it
	settleAt time.Time
	fail     string
	returns  []*returnReceipt
}

// returnReceipt is a subsidy return the fake keeps.
type returnReceipt struct {
	busifavor.SubsidyReturnReceipt
	body     []byte
	settleAt time.Time
	fail     string
	pay      *payReceipt
}

// view is the payment at time now.
func (p *payReceipt) view(now time.Time) busifavor.SubsidyPayReceipt {
	v := p.SubsidyPayReceipt
	switch {
	case now.Before(p.settleAt):
		v.Status, v.SubsidyReceiptID = busifavor.SubsidyPayReceiptStatusAccepted, ""
		return v
	case p.fail != "":
		v.Status, v.FailReason, v.SubsidyReceiptID = busifavor.SubsidyPayReceiptStatusFail, busifavor.SubsidyPayReceiptFailReason(p.fail), ""
		return v
	}
	v.Status, v.SuccessTime = busifavor.SubsidyPayReceiptStatusSuccess, p.settleAt
	var returned int64
	for _, r := range p.returns {
		switch rv := r.view(now); rv.Status {
		case busifavor.SubsidyReturnReceiptStatusAccepted:
			v.Status = busifavor.SubsidyPayReceiptStatusReturning
		case busifavor.SubsidyReturnReceiptStatusSuccess:
			returned += rv.Amount
		}
	}
	switch {
	case v.Status == busifavor.SubsidyPayReceiptStatusReturning:
	case returned == v.Amount:
		v.Status = busifavor.SubsidyPayReceiptStatusFullReturn
	case returned > 0:
		v.Status = busifavor.SubsidyPayReceiptStatusPartialReturn
	}
	return v
}

// view is the return at time now.
func (r *returnReceipt) view(now time.Time) busifavor.SubsidyReturnReceipt {
	v := r.SubsidyReturnReceipt
	switch {
	case now.Before(r.settleAt):
		v.Status, v.SubsidyReturnReceiptID = busifavor.SubsidyReturnReceiptStatusAccepted, ""
	case r.fail != "":
		v.Status, v.FailReason, v.SubsidyReturnReceiptID = busifavor.SubsidyReturnReceiptStatusFail, busifavor.SubsidyReturnReceiptFailReason(r.fail), ""
	default:
		v.Status, v.ReturnDoneTime = busifavor.SubsidyReturnReceiptStatusSuccess, r.settleAt
	}
	return v
}

// reserved is what the payment's returns take, settled or pending.
func (p *payReceipt) reserved(now time.Time) int64 {
	var n int64
	for _, r := range p.returns {
		if r.view(now).Status != busifavor.SubsidyReturnReceiptStatusFail {
			n += r.Amount
		}
	}
	return n
}

// subsidyRoute answers the subsidy endpoints; ok is false when the path is
// not one of them.
func (s *Server) subsidyRoute(w http.ResponseWriter, r *http.Request, caller string, body []byte) (ok bool) {
	rest, found := strings.CutPrefix(r.URL.EscapedPath(), SubsidyPath+"/")
	if !found {
		return false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && parts[0] == "pay-receipts" && r.Method == http.MethodPost:
		s.createPayReceipt(w, caller, body)
	case len(parts) == 1 && parts[0] == "pay-receipts" && r.Method == http.MethodGet:
		s.listPayReceipts(w, r, caller)
	case len(parts) == 2 && parts[0] == "pay-receipts" && r.Method == http.MethodGet:
		s.getPayReceipt(w, caller, unescape(parts[1]))
	case len(parts) == 1 && parts[0] == "return-receipts" && r.Method == http.MethodPost:
		s.createReturnReceipt(w, caller, body)
	case len(parts) == 2 && parts[0] == "return-receipts" && r.Method == http.MethodGet:
		s.getReturnReceipt(w, caller, unescape(parts[1]))
	case len(parts) <= 2 && (parts[0] == "pay-receipts" || parts[0] == "return-receipts"):
		w.Header().Set("Allow", map[bool]string{true: "GET, POST", false: "GET"}[len(parts) == 1 && parts[0] == "pay-receipts"])
		s.writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "该资源不支持 "+r.Method+" 方法", nil)
	default:
		return false
	}
	return true
}

func (s *Server) createPayReceipt(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.CreateSubsidyPayReceiptRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	canonical, _ := json.Marshal(req)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := caller + "\x00" + req.OutSubsidyNo
	if p := s.payReceipts[key]; p != nil {
		if !bytes.Equal(p.body, canonical) {
			s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeResourceAlreadyExists, "out_subsidy_no 已用于另一笔补差付款"})
			return
		}
		s.writeJSON(w, http.StatusOK, s.payView(p, now))
		return
	}
	st := s.stocks[req.StockID]
	c := s.coupons[couponKey(req.StockID, req.CouponCode)]
	switch {
	case st == nil || c == nil || !c.owners[caller]:
		s.refuse(w, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "批次或券不存在"})
		return
	case st.StockType != busifavor.StockTypeNormal:
		// The pay page: 仅支持"满减券","换购券"批次不支持. (The list page also
		// defines the amount of a 折扣券; the fake follows the endpoint's page.)
		s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: 仅支持满减券批次补差, 该批次为 " + string(st.StockType)})
		return
	case req.PayerMerchant != st.owner && req.PayerMerchant != st.BelongMerchant:
		s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeParamError, "参数错误: payer_merchant 须为制券商户号或归属商户号"})
		return
	case c.state(now) != busifavor.CouponStateUsed:
		s.refuse(w, invalid("券未核销, 不能补差"))
		return
	}
	// 单笔订单补差金额不得超过券的优惠金额: what the coupon's payments hold,
	// under any out_subsidy_no, net of their returns, plus this one.
	var paid int64
	for _, p := range s.payOrder {
		if p.coupon == c && p.view(now).Status != busifavor.SubsidyPayReceiptStatusFail {
			paid += p.Amount - p.reserved(now)
		}
	}
	if limit := st.CouponUseRule.FixedNormalCoupon; limit != nil && paid+req.Amount > limit.DiscountAmount {
		s.refuse(w, invalid(fmt.Sprintf("补差金额超过券的优惠金额 %d: 该券已补差 %d, 本次 %d", limit.DiscountAmount, paid, req.Amount)))
		return
	}
	s.receiptSeq++
	p := &payReceipt{coupon: c, body: canonical, settleAt: now.Add(s.cfg.settlement.Delay), fail: s.cfg.settlement.FailReason}
	p.SubsidyPayReceipt = busifavor.SubsidyPayReceipt{
		SubsidyReceiptID: fmt.Sprintf("11%026d", s.receiptSeq), StockID: req.StockID, CouponCode: req.CouponCode,
		TransactionID: req.TransactionID, PayerMerchant: req.PayerMerchant, PayeeMerchant: req.PayeeMerchant,
		Amount: req.Amount, Description: req.Description, OutSubsidyNo: req.OutSubsidyNo, CreateTime: now,
	}
	s.payReceipts[key] = p
	s.payOrder = append(s.payOrder, p)
	s.writeJSON(w, http.StatusOK, s.payView(p, now))
}

// payView is the payment at time now, spelt as WithStatusSpelling says.
func (s *Server) payView(p *payReceipt, now time.Time) busifavor.SubsidyPayReceipt {
	return s.cfg.spelling.spell(p.view(now))
}

func (s *Server) getPayReceipt(w http.ResponseWriter, caller, id string) {
	if !s.paramsOK(w, busifavor.GetSubsidyPayReceiptRequest{SubsidyReceiptID: id}.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payOrder {
		if v := p.view(now); v.SubsidyReceiptID == id && p.coupon.owners[caller] {
			s.writeJSON(w, http.StatusOK, s.cfg.spelling.spell(v))
			return
		}
	}
	s.refuse(w, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "补差付款单不存在"})
}

func (s *Server) listPayReceipts(w http.ResponseWriter, r *http.Request, caller string) {
	q := r.URL.Query()
	req := busifavor.ListSubsidyPayReceiptsRequest{StockID: q.Get("stock_id"), CouponCode: q.Get("coupon_code"), OutSubsidyNo: q.Get("out_subsidy_no")}
	if !s.paramsOK(w, req.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []busifavor.SubsidyPayReceipt{}
	for _, p := range s.payOrder {
		if p.StockID == req.StockID && p.CouponCode == req.CouponCode && p.coupon.owners[caller] &&
			(req.OutSubsidyNo == "" || p.OutSubsidyNo == req.OutSubsidyNo) {
			list = append(list, s.payView(p, now))
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"pay_receipt_list": list})
}

func (s *Server) createReturnReceipt(w http.ResponseWriter, caller string, body []byte) {
	var req busifavor.CreateSubsidyReturnReceiptRequest
	if !s.decode(w, body, &req) || !s.paramsOK(w, req.Validate()) {
		return
	}
	canonical, _ := json.Marshal(req)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := caller + "\x00" + req.OutSubsidyReturnNo
	if rr := s.returnReceipts[key]; rr != nil {
		if !bytes.Equal(rr.body, canonical) {
			s.refuse(w, &refusal{http.StatusBadRequest, busifavor.ErrorCodeResourceAlreadyExists, "out_subsidy_return_no 已用于另一笔补差回退"})
			return
		}
		s.writeJSON(w, http.StatusOK, rr.view(now))
		return
	}
	var pay *payReceipt
	for _, p := range s.payOrder {
		v := p.view(now)
		if p.StockID == req.StockID && p.CouponCode == req.CouponCode && p.TransactionID == req.TransactionID &&
			p.PayerMerchant == req.PayerMerchant && p.PayeeMerchant == req.PayeeMerchant && v.SubsidyReceiptID != "" &&
			p.coupon.owners[caller] {
			pay = p
		}
	}
	switch {
	case pay == nil:
		s.refuse(w, invalid("没有可回退的补差付款: 请确认批次、券、订单与商户号与补差付款一致, 且付款已成功"))
		return
	case pay.reserved(now)+req.Amount > pay.Amount:
		s.refuse(w, invalid(fmt.Sprintf("回退总金额不能超过补差金额 %d, 已回退或回退中 %d", pay.Amount, pay.reserved(now))))
		return
	}
	s.receiptSeq++
	rr := &returnReceipt{body: canonical, settleAt: now.Add(s.cfg.settlement.Delay), fail: s.cfg.settlement.FailReason, pay: pay}
	rr.SubsidyReturnReceipt = busifavor.SubsidyReturnReceipt{
		SubsidyReturnReceiptID: fmt.Sprintf("21%026d", s.receiptSeq), StockID: req.StockID, CouponCode: req.CouponCode,
		TransactionID: req.TransactionID, RefundID: req.RefundID, PayerMerchant: req.PayerMerchant, PayeeMerchant: req.PayeeMerchant,
		Amount: req.Amount, Description: req.Description, SubsidyReceiptID: pay.SubsidyReceiptID,
		OutSubsidyReturnNo: req.OutSubsidyReturnNo, ReturnCreateTime: now,
	}
	pay.returns = append(pay.returns, rr)
	s.returnReceipts[key] = rr
	s.writeJSON(w, http.StatusOK, rr.view(now))
}

func (s *Server) getReturnReceipt(w http.ResponseWriter, caller, id string) {
	if !s.paramsOK(w, busifavor.GetSubsidyReturnReceiptRequest{SubsidyReturnReceiptID: id}.Validate()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range s.returnReceipts {
		if v := rr.view(now); v.SubsidyReturnReceiptID == id && rr.pay.coupon.owners[caller] {
			s.writeJSON(w, http.StatusOK, v)
			return
		}
	}
	s.refuse(w, &refusal{http.StatusNotFound, busifavor.ErrorCodeResourceNotExists, "补差回退单不存在"})
}

// SubsidyPayReceipts returns every subsidy payment as it is now, oldest
// first, spelt as WithStatusSpelling says.
func (s *Server) SubsidyPayReceipts() []busifavor.SubsidyPayReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]busifavor.SubsidyPayReceipt, 0, len(s.payOrder))
	for _, p := range s.payOrder {
		out = append(out, s.payView(p, s.now()))
	}
	return out
}
