module github.com/busifavor-go/busifavor/redisdedup

go 1.24

require (
	github.com/busifavor-go/busifavor v0.0.0
	github.com/redis/go-redis/v9 v9.17.3
	github.com/stretchr/testify v1.12.1
	github.com/wechatpay-apiv3/wechatpay-go v0.2.21
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

// Until busifavor is published, the module beside this one.
replace github.com/busifavor-go/busifavor => ../
