package busifavor_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// The pages' examples (build: merchant and service-provider pages, 2024;
// terminate: the old merchant wiki page and the service-provider page, 2026;
// list: the service-provider page, 2024).
const (
	pageAppID      = "wx4e1916a585d1f4e9"
	pageMerchantID = "2480029552"
	pageStockID    = "2433405"
)

// TestPartnershipWireMatchesThePages sends the pages' request examples and
// checks what arrived at the fake: the method, the path, the Idempotency-Key
// header, the JSON body, and the list's query with partner and
// authorized_data decoded back from their JSON strings.
func TestPartnershipWireMatchesThePages(t *testing.T) {
	s, c := newFake(t, nil)
	_, err := c.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: "buildreq_001",
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: pageAppID, MerchantID: pageMerchantID},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeFavorStock, StockID: pageStockID}})
	require.NoError(t, err)
	_, err = c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest{IdempotencyKey: "12345",
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: pageAppID},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeFavorStock, StockID: pageStockID}})
	require.NoError(t, err)
	_, err = c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{Limit: 5, Offset: 10,
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: pageAppID, MerchantID: pageMerchantID},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeFavorStock, StockID: pageStockID}})
	require.NoError(t, err)

	reqs := s.Requests()
	require.Len(t, reqs, 3)
	for i, want := range []struct{ method, path, key, body string }{
		{"POST", "/v3/marketing/partnerships/build", "buildreq_001", `{"partner":{"type":"APPID","appid":"wx4e1916a585d1f4e9","merchant_id":"2480029552"},
			"authorized_data":{"business_type":"FAVOR_STOCK","stock_id":"2433405"}}`},
		{"POST", "/v3/marketing/partnerships/terminate", "12345", `{"authorized_data":{"business_type":"FAVOR_STOCK","stock_id":"2433405"},
			"partner":{"appid":"wx4e1916a585d1f4e9","type":"APPID"}}`},
		{"GET", "/v3/marketing/partnerships", "", ""},
	} {
		r := reqs[i]
		assert.True(t, r.Verified, r.Path)
		assert.Equal(t, want.method, r.Method)
		assert.Equal(t, want.path, r.Path)
		assert.Equal(t, want.key, r.Header.Get("Idempotency-Key"), r.Path)
		if want.body == "" {
			assert.Empty(t, r.Body)
			continue
		}
		assert.JSONEq(t, want.body, string(r.Body))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
	q := reqs[2].Query
	assert.Equal(t, []string{"5"}, q["limit"])
	assert.Equal(t, []string{"10"}, q["offset"])
	assert.JSONEq(t, `{"type":"APPID","appid":"wx4e1916a585d1f4e9","merchant_id":"2480029552"}`, q.Get("partner"))
	assert.JSONEq(t, `{"business_type":"FAVOR_STOCK","stock_id":"2433405"}`, q.Get("authorized_data"))
	assert.Len(t, q, 4)

	// The zero Partner and Limit and Offset leave their parameters out; the
	// old list page's example filters by business type alone.
	_, err = c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock}})
	require.NoError(t, err)
	q = s.Requests()[3].Query
	assert.Equal(t, map[string][]string{"authorized_data": {`{"business_type":"BUSIFAVOR_STOCK"}`}}, map[string][]string(q))
}

// validBuild is a build request every rule accepts.
func validBuild() busifavor.BuildPartnershipRequest {
	return busifavor.BuildPartnershipRequest{IdempotencyKey: "build-1",
		Partner:        busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: "1900000109"},
		AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: "1200000001"}}
}

// TestPartnershipRulesBeforeSending checks each rule on both sides of its
// limit, with nothing sent when one breaks; a request breaking them all
// lists every field.
func TestPartnershipRulesBeforeSending(t *testing.T) {
	key := func(k string) busifavor.BuildPartnershipRequest { r := validBuild(); r.IdempotencyKey = k; return r }
	partner := func(p busifavor.Partner) busifavor.BuildPartnershipRequest {
		r := validBuild()
		r.Partner = p
		return r
	}
	data := func(d busifavor.AuthorizedData) busifavor.BuildPartnershipRequest {
		r := validBuild()
		r.AuthorizedData = d
		return r
	}
	appid := func(id string) busifavor.Partner {
		return busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: id}
	}
	mch := func(id string) busifavor.Partner {
		return busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: id}
	}
	stock := func(id string) busifavor.AuthorizedData {
		return busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: id}
	}
	for _, tc := range []struct {
		name  string
		req   busifavor.BuildPartnershipRequest
		field string // "" when valid
	}{
		{"key of 48 bytes", key(strings.Repeat("k", 48)), ""},
		{"key of 49 bytes", key(strings.Repeat("k", 49)), "Idempotency-Key"},
		{"key of 1 byte", key("k"), ""},
		{"key missing", key(""), "Idempotency-Key"},
		{"key with every allowed sign", key("aZ09|_*-"), ""},
		{"key with a dot", key("build.1"), "Idempotency-Key"},
		{"key with a space", key("build 1"), "Idempotency-Key"},
		{"key with a full-width bar", key("build｜1"), "Idempotency-Key"},
		{"APPID partner", partner(appid(pageAppID)), ""},
		{"APPID partner without appid", partner(busifavor.Partner{Type: busifavor.PartnerTypeAppID, MerchantID: "1900000109"}), "partner.appid"},
		{"appid of 32 bytes", partner(appid(strings.Repeat("w", 32))), ""},
		{"appid of 33 bytes", partner(appid(strings.Repeat("w", 33))), "partner.appid"},
		{"appid with a space", partner(appid("wx 1")), "partner.appid"},
		{"MERCHANT partner without merchant_id", partner(busifavor.Partner{Type: busifavor.PartnerTypeMerchant, AppID: pageAppID}), "partner.merchant_id"},
		{"merchant_id of 8 bytes", partner(mch("19000001")), ""},
		{"merchant_id of 7 bytes", partner(mch("1900000")), "partner.merchant_id"},
		{"merchant_id of 15 bytes", partner(mch("190000010900000")), ""},
		{"merchant_id of 16 bytes", partner(mch("1900000109000000")), "partner.merchant_id"},
		{"partner type missing", partner(busifavor.Partner{MerchantID: "1900000109"}), "partner.type"},
		{"partner type unknown", partner(busifavor.Partner{Type: "OPENID", MerchantID: "1900000109"}), "partner.type"},
		{"business type missing", data(busifavor.AuthorizedData{StockID: "1200000001"}), "authorized_data.business_type"},
		{"business type unknown", data(busifavor.AuthorizedData{BusinessType: "STOCK", StockID: "1200000001"}), "authorized_data.business_type"},
		{"FAVOR_STOCK for a MERCHANT partner", data(busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeFavorStock, StockID: "1200000001"}), "authorized_data.business_type"},
		{"stock_id missing", data(stock("")), "authorized_data.stock_id"},
		{"stock_id of 20 bytes", data(stock(strings.Repeat("1", 20))), ""},
		{"stock_id of 21 bytes", data(stock(strings.Repeat("1", 21))), "authorized_data.stock_id"},
		{"scenarios set", data(busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: "1", Scenarios: []string{"LIVE"}}), "authorized_data.scenarios"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			terminate := busifavor.TerminatePartnershipRequest(tc.req)
			terr := terminate.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				assert.NoError(t, terr)
				return
			}
			var ve *busifavor.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Fields, 1, "%v", ve)
			assert.Equal(t, tc.field, ve.Fields[0].Field)
			assert.Equal(t, err.Error(), terr.Error(), "terminate has build's rules")
		})
	}

	t.Run("every broken rule at once, nothing sent", func(t *testing.T) {
		s, c := newFake(t, nil)
		bad := busifavor.BuildPartnershipRequest{IdempotencyKey: "a b",
			Partner:        busifavor.Partner{Type: busifavor.PartnerTypeMerchant, MerchantID: "1", AppID: strings.Repeat("w", 33)},
			AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeFavorStock, Scenarios: []string{"x"}}}
		_, err := c.BuildPartnership(ctx, bad)
		var ve *busifavor.ValidationError
		require.ErrorAs(t, err, &ve)
		var fields []string
		for _, f := range ve.Fields {
			fields = append(fields, f.Field)
		}
		assert.ElementsMatch(t, []string{"Idempotency-Key", "partner.appid", "partner.merchant_id", "authorized_data.business_type",
			"authorized_data.stock_id", "authorized_data.scenarios"}, fields)
		_, err = c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(bad))
		assert.ErrorIs(t, err, busifavor.ErrValidation)
		_, err = c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{Limit: 51})
		assert.ErrorIs(t, err, busifavor.ErrValidation)
		assert.Empty(t, s.Requests())
	})
}

// TestListPartnershipsRules: the page size is 1 to 50 or 0 (the default),
// the offset a page number from 0; the filter may name a partner's type
// alone and leave out the stock id (the old list page's example), but
// business_type is required.
func TestListPartnershipsRules(t *testing.T) {
	list := func(l, o int64) busifavor.ListPartnershipsRequest {
		return busifavor.ListPartnershipsRequest{Limit: l, Offset: o, AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock}}
	}
	for _, tc := range []struct {
		name  string
		req   busifavor.ListPartnershipsRequest
		field string
	}{
		{"limit 0 (WeChat Pay's 20)", list(0, 0), ""},
		{"limit 50", list(50, 0), ""},
		{"limit 51", list(51, 0), "limit"},
		{"limit -1", list(-1, 0), "limit"},
		{"offset -1", list(1, -1), "offset"},
		{"offset 1000", list(1, 1000), ""},
		{"partner type alone", busifavor.ListPartnershipsRequest{Partner: busifavor.Partner{Type: busifavor.PartnerTypeAppID},
			AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock}}, ""},
		{"partner without a type", busifavor.ListPartnershipsRequest{Partner: busifavor.Partner{AppID: pageAppID},
			AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock}}, "partner.type"},
		{"no business type", busifavor.ListPartnershipsRequest{}, "authorized_data.business_type"},
		{"stock_id of 21 bytes", busifavor.ListPartnershipsRequest{AuthorizedData: busifavor.AuthorizedData{
			BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: strings.Repeat("1", 21)}}, "authorized_data.stock_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var ve *busifavor.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Fields, 1, "%v", ve)
			assert.Equal(t, tc.field, ve.Fields[0].Field)
		})
	}
}

// TestPartnershipRetryResendsTheSameKey: a build or terminate whose answer
// is lost, or that meets a 5xx, is sent again with the same Idempotency-Key
// and body, and the fake, which keeps keys as the page asks merchants to,
// acts once.
func TestPartnershipRetryResendsTheSameKey(t *testing.T) {
	s, c := newFake(t, []busifavortest.Option{busifavortest.WithClock(func() time.Time { return time.Now().Truncate(time.Millisecond) })},
		busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	stockID := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, "partner-retry")
	build := validBuild()
	build.AuthorizedData.StockID = stockID
	s.FailOn("BuildPartnership", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	s.FailOn("BuildPartnership", 1, busifavortest.Fault{Kind: busifavortest.FaultAPIError, Code: busifavor.ErrorCodeSystemError, Status: 500})
	before := len(s.Requests())
	p, err := c.BuildPartnership(ctx, build)
	require.NoError(t, err)
	assert.Equal(t, busifavor.PartnershipStateEstablished, p.State)
	sent := s.Requests()[before:]
	require.Len(t, sent, 3, "lost answer, 500, success")
	for _, r := range sent {
		assert.Equal(t, "build-1", r.Header.Get("Idempotency-Key"))
		assert.Equal(t, string(sent[0].Body), string(r.Body))
	}
	require.Len(t, s.Partnerships(), 1)
	assert.WithinDuration(t, s.Partnerships()[0].BuildTime, p.BuildTime, 0, "the answer is the first build's")

	terminate := busifavor.TerminatePartnershipRequest{IdempotencyKey: "terminate-1", Partner: build.Partner, AuthorizedData: build.AuthorizedData}
	s.FailOn("TerminatePartnership", 1, busifavortest.Fault{Kind: busifavortest.FaultLostAnswer})
	before = len(s.Requests())
	done, err := c.TerminatePartnership(ctx, terminate)
	require.NoError(t, err)
	sent = s.Requests()[before:]
	require.Len(t, sent, 2)
	assert.Equal(t, "terminate-1", sent[1].Header.Get("Idempotency-Key"))
	assert.WithinDuration(t, s.Partnerships()[0].TerminateTime, done.TerminateTime, 0)
	assert.Equal(t, busifavor.PartnershipStateTerminated, s.Partnerships()[0].State)

	// The same key again: the first answer, nothing changed; with another
	// body (or on the other endpoint): refused.
	again, err := c.BuildPartnership(ctx, build)
	require.NoError(t, err)
	assert.WithinDuration(t, p.BuildTime, again.BuildTime, 0)
	assert.Equal(t, busifavor.PartnershipStateEstablished, again.State, "the first answer, replayed")
	assert.Equal(t, busifavor.PartnershipStateTerminated, s.Partnerships()[0].State, "a replayed key acts no more")
	other := build
	other.Partner.MerchantID = "1900000110"
	_, err = c.BuildPartnership(ctx, other)
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err))
	_, err = c.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(build))
	assert.Equal(t, busifavor.ErrorCodeInvalidRequest, busifavor.ErrorCodeOf(err))
	assert.Len(t, s.Partnerships(), 1)
}

// TestPartnershipErrorsMapOntoSentinels answers each code of the pages'
// error tables (terminate, service-provider page: SYSTEM_ERROR, PARAM_ERROR,
// NO_AUTH, FREQUENCY_LIMITED, INVALID_REQUEST) and the fake's
// RESOURCE_NOT_EXISTS, and checks the code each carries, the sentinel of a
// two-spelling meaning, and that none is a state sentinel of another
// endpoint.
func TestPartnershipErrorsMapOntoSentinels(t *testing.T) {
	m := newMockWechat(t, busifavor.WithRetry(busifavor.RetryPolicy{MaxAttempts: 1}))
	for _, tc := range []struct {
		status int
		code   busifavor.ErrorCode
		want   error // nil: no sentinel beyond the code
	}{
		{500, busifavor.ErrorCodeSystemError, nil},
		{400, busifavor.ErrorCodeParamError, nil},
		{403, busifavor.ErrorCodeNoAuthGeneral, busifavor.ErrNoAuth},
		{429, busifavor.ErrorCodeFrequencyLimited, busifavor.ErrFrequencyLimited},
		{400, busifavor.ErrorCodeInvalidRequest, nil},
		{404, busifavor.ErrorCodeResourceNotExists, nil},
	} {
		m.mt.RegisterNoResponder(m.signed(tc.status, fmt.Sprintf(`{"code":%q,"message":"m"}`, tc.code)))
		calls := map[string]func() error{
			"BuildPartnership": func() error { _, err := m.client.BuildPartnership(ctx, validBuild()); return err },
			"TerminatePartnership": func() error {
				_, err := m.client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
				return err
			},
			"ListPartnerships": func() error {
				_, err := m.client.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{AuthorizedData: validBuild().AuthorizedData})
				return err
			},
		}
		for op, call := range calls {
			err := call()
			assert.Equal(t, tc.code, busifavor.ErrorCodeOf(err), op)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want, op)
			}
			for _, state := range []error{busifavor.ErrCouponNotFound, busifavor.ErrCouponUsed, busifavor.ErrReceiptExists, busifavor.ErrReceiptNotFound} {
				assert.NotErrorIs(t, err, state, op)
			}
		}
	}
}

// The gopay models of the three answers (github.com/go-pay/gopay,
// wechat/v3/model_partner.go at 68245f43), copied field for field with
// their JSON names, for the decode test: busifavor does not depend on
// gopay.
type (
	gopayPartner struct {
		Appid      string `json:"appid"`
		Type       string `json:"type"`
		MerchantId string `json:"merchant_id"` //nolint:revive // gopay's name
	}
	gopayAuthorizedData struct {
		BusinessType string   `json:"business_type"`
		Scenarios    []string `json:"scenarios"`
		StockId      string   `json:"stock_id"` //nolint:revive // gopay's name
	}
	gopayPartnershipsBuild struct {
		Partner        *gopayPartner        `json:"partner"`
		AuthorizedData *gopayAuthorizedData `json:"authorized_data"`
		State          string               `json:"state"`
		BuildTime      string               `json:"build_time"`
		CreateTime     string               `json:"create_time"`
		UpdateTime     string               `json:"update_time"`
	}
	gopayPartnershipsTerminate struct {
		TerminateTime string `json:"terminate_time"`
	}
	gopayPartnerships struct {
		Partner        *gopayPartner        `json:"partner"`
		AuthorizedData *gopayAuthorizedData `json:"authorized_data"`
		BuildTime      string               `json:"build_time"`
		TerminateTime  string               `json:"terminate_time"`
		CreateTime     string               `json:"create_time"`
		UpdateTime     string               `json:"update_time"`
	}
	gopayPartnershipsList struct {
		Data       []*gopayPartnerships `json:"data,omitempty"`
		TotalCount int                  `json:"total_count"`
		Offset     int                  `json:"offset"`
		Limit      int                  `json:"limit"`
	}
)

func gopayPartnerFull(i int) (*gopayPartner, *gopayAuthorizedData) {
	return &gopayPartner{Appid: pageAppID, Type: "MERCHANT", MerchantId: fmt.Sprint(1900000100 + i)},
		&gopayAuthorizedData{BusinessType: "BUSIFAVOR_STOCK", Scenarios: []string{"LIVE_STREAMING", "MINI_PROGRAM"}, StockId: pageStockID}
}

// gopayAnswers are the three answers with every field of gopay's models set.
func gopayAnswers() map[string]any {
	at := func(m int) string { return fxAt(m).Format(time.RFC3339Nano) }
	p, d := gopayPartnerFull(0)
	return map[string]any{
		"BuildPartnership":     gopayPartnershipsBuild{Partner: p, AuthorizedData: d, State: "ESTABLISHED", BuildTime: at(0), CreateTime: at(0), UpdateTime: at(1)},
		"TerminatePartnership": gopayPartnershipsTerminate{TerminateTime: at(2)},
		"ListPartnerships":     gopayList(3),
	}
}

// gopayList is a list answer of n partnerships, every field set.
func gopayList(n int) gopayPartnershipsList {
	at := func(m int) string { return fxAt(m).Format(time.RFC3339Nano) }
	list := gopayPartnershipsList{TotalCount: n, Offset: 0, Limit: n}
	for i := range n {
		p, d := gopayPartnerFull(i)
		list.Data = append(list.Data, &gopayPartnerships{Partner: p, AuthorizedData: d, BuildTime: at(i), TerminateTime: at(60 + i), CreateTime: at(i), UpdateTime: at(60 + i)})
	}
	return list
}

// everyFieldSet fails when a field of v, however deep, is zero: the decode
// test feeds every field or it proves nothing.
func everyFieldSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		require.False(t, v.IsNil(), path)
		everyFieldSet(t, path, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			everyFieldSet(t, path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Slice:
		require.NotZero(t, v.Len(), path)
		for i := range v.Len() {
			everyFieldSet(t, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.Int:
		// offset 0 is page 0, a value
	default:
		require.False(t, v.IsZero(), path)
	}
}

// TestDecodePartnershipsEveryGopayField feeds each answer with every field
// of gopay's model set, unknown fields at every level and every time in each
// shape ParseTime accepts, through the client on signed canned answers, and
// checks that every value arrives.
func TestDecodePartnershipsEveryGopayField(t *testing.T) {
	m := newMockWechat(t)
	calls := map[string]func() (any, error){
		"BuildPartnership": func() (any, error) { return m.client.BuildPartnership(ctx, validBuild()) },
		"TerminatePartnership": func() (any, error) {
			return m.client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
		},
		"ListPartnerships": func() (any, error) {
			return m.client.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{AuthorizedData: validBuild().AuthorizedData})
		},
	}
	for name, answer := range gopayAnswers() {
		everyFieldSet(t, name, reflect.ValueOf(answer))
		b, err := json.Marshal(answer)
		require.NoError(t, err)
		for _, shape := range timeShapes {
			t.Run(name+"/"+shape.name, func(t *testing.T) {
				want := reshapeTimes(generic(t, b), shape)
				fed := deepCopy(want)
				addUnknown(fed)
				body, err := json.Marshal(fed)
				require.NoError(t, err)
				m.mt.RegisterNoResponder(m.signed(200, string(body)))
				resp, err := calls[name]()
				require.NoError(t, err, "%s", body)
				got, err := json.Marshal(resp)
				require.NoError(t, err)
				for _, d := range diffJSON("", want, generic(t, got)) {
					t.Error(d)
				}
				assert.Equal(t, "08CANNED", reflect.ValueOf(resp).Elem().FieldByName("RequestID").String())
			})
		}
	}
}

// TestPartnershipAnswersRefusedWhenIncomplete: a build answer without a
// field its page makes 必填, or a terminate answer without terminate_time,
// is ErrMalformedResponse naming the field, never a zero-valued success;
// the list needs offset and limit (必填) but not total_count (选填).
func TestPartnershipAnswersRefusedWhenIncomplete(t *testing.T) {
	m := newMockWechat(t)
	full := generic(t, must(json.Marshal(gopayAnswers()["BuildPartnership"]))).(map[string]any)
	for _, field := range []string{"partner", "authorized_data", "state", "build_time", "partner.type", "authorized_data.business_type"} {
		m.mt.RegisterNoResponder(m.signed(200, string(must(json.Marshal(edit(full, field, nil))))))
		_, err := m.client.BuildPartnership(ctx, validBuild())
		assert.ErrorIs(t, err, busifavor.ErrMalformedResponse, field)
		assert.ErrorContains(t, err, field[strings.LastIndex(field, ".")+1:])
	}
	for _, field := range []string{"create_time", "update_time", "partner.appid", "authorized_data.scenarios"} {
		m.mt.RegisterNoResponder(m.signed(200, string(must(json.Marshal(edit(full, field, nil))))))
		_, err := m.client.BuildPartnership(ctx, validBuild())
		assert.NoError(t, err, field)
	}
	m.mt.RegisterNoResponder(m.signed(200, `{}`))
	_, err := m.client.TerminatePartnership(ctx, busifavor.TerminatePartnershipRequest(validBuild()))
	assert.ErrorIs(t, err, busifavor.ErrMalformedResponse)
	list := busifavor.ListPartnershipsRequest{AuthorizedData: validBuild().AuthorizedData}
	for body, ok := range map[string]bool{`{"offset":1,"limit":20}`: true, `{"limit":20}`: false, `{"offset":0}`: false} {
		m.mt.RegisterNoResponder(m.signed(200, body))
		_, err := m.client.ListPartnerships(ctx, list)
		assert.Equal(t, ok, err == nil, "%s: %v", body, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAllPartnershipsWalksPages walks the fake's list, which pages by page
// number and gives total_count on page 0 only, as the pages say: from page
// 0 and from page 1 (which reads page 0 for the total), each partnership
// once.
func TestAllPartnershipsWalksPages(t *testing.T) {
	_, c := newFake(t, nil)
	stockID := newCouponStock(t, c, busifavor.CouponCodeModeWechatPay, "partner-walk")
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("wx%016d", i)
		_, err := c.BuildPartnership(ctx, busifavor.BuildPartnershipRequest{IdempotencyKey: fmt.Sprint("walk-", i),
			Partner:        busifavor.Partner{Type: busifavor.PartnerTypeAppID, AppID: id},
			AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stockID}})
		require.NoError(t, err)
		want = append(want, id)
	}
	req := busifavor.ListPartnershipsRequest{Limit: 3, AuthorizedData: busifavor.AuthorizedData{BusinessType: busifavor.BusinessTypeBusifavorStock, StockID: stockID}}
	page1, err := c.ListPartnerships(ctx, busifavor.ListPartnershipsRequest{Limit: 3, Offset: 1, AuthorizedData: req.AuthorizedData})
	require.NoError(t, err)
	require.Len(t, page1.Data, 3)
	assert.Zero(t, page1.TotalCount, "the fake, as the pages, gives total_count on page 0 only")
	walk := func(from int64) []string {
		var got []string
		r := req
		r.Offset = from
		for p, err := range c.AllPartnerships(ctx, r) {
			require.NoError(t, err)
			got = append(got, p.Partner.AppID)
		}
		return got
	}
	assert.Equal(t, want, walk(0))
	assert.Equal(t, want[3:], walk(1))
	assert.Empty(t, walk(3))
}

// TestAllPartnershipsStopsOnBrokenPages: a page 0 without total_count is
// ErrMalformedResponse, a page repeating the one before or a short page in
// the middle is ErrPaging, and the walk ends there.
func TestAllPartnershipsStopsOnBrokenPages(t *testing.T) {
	item := func(i int) string {
		return fmt.Sprintf(`{"partner":{"type":"APPID","appid":"wx%016d"},"authorized_data":{"business_type":"BUSIFAVOR_STOCK","stock_id":"1"}}`, i)
	}
	page := func(total string, items ...int) string {
		var data []string
		for _, i := range items {
			data = append(data, item(i))
		}
		return fmt.Sprintf(`{"data":[%s],%s"offset":0,"limit":2}`, strings.Join(data, ","), total)
	}
	for name, tc := range map[string]struct {
		pages []string
		want  error
		items int
	}{
		"no total on page 0":    {[]string{page("", 0, 1)}, busifavor.ErrMalformedResponse, 0},
		"page 1 repeats page 0": {[]string{page(`"total_count":4,`, 0, 1), page("", 0, 1)}, busifavor.ErrPaging, 2},
		"short page mid-list":   {[]string{page(`"total_count":5,`, 0, 1), page("", 2)}, busifavor.ErrPaging, 3},
		"empty page mid-list":   {[]string{page(`"total_count":5,`, 0, 1), page("")}, busifavor.ErrPaging, 2},
	} {
		t.Run(name, func(t *testing.T) {
			m := newMockWechat(t)
			n := 0
			m.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				body := tc.pages[min(n, len(tc.pages)-1)]
				n++
				return m.signed(200, body)(r)
			})
			items := 0
			var last error
			for _, err := range m.client.AllPartnerships(ctx, busifavor.ListPartnershipsRequest{Limit: 2, AuthorizedData: validBuild().AuthorizedData}) {
				if err != nil {
					last = err
					continue
				}
				items++
			}
			assert.ErrorIs(t, last, tc.want)
			assert.Equal(t, tc.items, items)
			assert.LessOrEqual(t, n, len(tc.pages))
		})
	}
}
