package busifavor

import (
	"context"
	"net/http"
	"net/url"
)

// callbacksPath is the one resource of this API.
const callbacksPath = "/v3/marketing/busifavor/callbacks"

// SetCallbacks sets the URL that receives the merchant's coupon events
// (设置商家券事件通知地址). The request is validated first; when it breaks a
// rule, a *ValidationError is returned and nothing is sent.
//
// WeChat Pay API: POST /v3/marketing/busifavor/callbacks
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/call-back/set-coupon-notify.html
func (c *Client) SetCallbacks(ctx context.Context, req SetCallbacksRequest) (*SetCallbacksResponse, error) {
	out := &SetCallbacksResponse{}
	if err := c.send(ctx, "SetCallbacks", &req, http.MethodPost, callbacksPath, nil, &req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetCallbacks reads the URL that receives the merchant's coupon events
// (查询商家券事件通知地址). MchID is sent as a query parameter only when set;
// empty means the calling merchant.
//
// WeChat Pay API: GET /v3/marketing/busifavor/callbacks
// https://pay.weixin.qq.com/docs/merchant/apis/merchant-exclusive-coupon/call-back/get-coupon-notify.html
func (c *Client) GetCallbacks(ctx context.Context, req GetCallbacksRequest) (*GetCallbacksResponse, error) {
	var query url.Values
	if req.MchID != "" {
		query = url.Values{"mchid": {req.MchID}}
	}
	out := &GetCallbacksResponse{}
	if err := c.send(ctx, "GetCallbacks", req, http.MethodGet, callbacksPath, query, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
