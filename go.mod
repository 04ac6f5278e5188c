module github.com/busifavor-go/busifavor

go 1.24

require github.com/wechatpay-apiv3/wechatpay-go v0.2.21

require github.com/jarcoal/httpmock v1.4.2

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
