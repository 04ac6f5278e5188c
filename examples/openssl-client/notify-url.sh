#!/bin/sh
# Reads the merchant's coupon notify URL (GET /v3/marketing/busifavor/callbacks)
# with nothing but curl and openssl: it signs the request with the merchant's
# private key and verifies the answer's signature with WeChat Pay's public key,
# as every APIv3 client must. It calls $WECHATPAY_BASE_URL when set (busifavor
# sandbox writes it into sandbox.env), else WeChat Pay itself:
#
#   . DIR/sandbox.env && sh notify-url.sh
#
# It prints the answer's JSON and exits 0 only when the status is 200 and the
# signature verifies.
set -eu
base=${WECHATPAY_BASE_URL:-https://api.mch.weixin.qq.com}
path=/v3/marketing/busifavor/callbacks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The request: sign "METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n" (a GET has an
# empty body) with SHA256withRSA, and send the Authorization header.
timestamp=$(date +%s)
nonce=$(openssl rand -hex 16)
printf 'GET\n%s\n%s\n%s\n\n' "$path" "$timestamp" "$nonce" >"$tmp/request"
signature=$(openssl dgst -sha256 -sign "$WECHATPAY_PRIVATE_KEY_FILE" "$tmp/request" | openssl base64 -A)
authorization="WECHATPAY2-SHA256-RSA2048 mchid=\"$WECHATPAY_MCHID\",nonce_str=\"$nonce\",timestamp=\"$timestamp\",serial_no=\"$WECHATPAY_CERT_SERIAL\",signature=\"$signature\""
status=$(curl --silent --show-error --max-time 30 --output "$tmp/body" --dump-header "$tmp/headers" \
	--write-out '%{http_code}' --header "Authorization: $authorization" --header 'Accept: application/json' "$base$path")

# The answer: verify "TIMESTAMP\nNONCE\nBODY\n" from the Wechatpay-* headers
# with WeChat Pay's public key, named by its id in Wechatpay-Serial.
header() {
	awk -v name="$1" '{
		sub(/\r$/, ""); i = index($0, ":")
		if (i > 0 && tolower(substr($0, 1, i - 1)) == tolower(name)) { v = substr($0, i + 1); sub(/^ +/, "", v); print v; exit }
	}' "$tmp/headers"
}
if [ "$(header Wechatpay-Serial)" != "$WECHATPAY_PUBLIC_KEY_ID" ]; then
	echo "the answer (HTTP $status) is not signed with WECHATPAY_PUBLIC_KEY_ID" >&2
	exit 1
fi
{
	printf '%s\n%s\n' "$(header Wechatpay-Timestamp)" "$(header Wechatpay-Nonce)"
	cat "$tmp/body"
	printf '\n'
} >"$tmp/answer"
header Wechatpay-Signature | openssl base64 -d -A >"$tmp/signature"
if ! openssl dgst -sha256 -verify "$WECHATPAY_PUBLIC_KEY_FILE" -signature "$tmp/signature" "$tmp/answer" >/dev/null; then
	echo "the answer's signature does not verify: it is not from WeChat Pay" >&2
	exit 1
fi
cat "$tmp/body"
echo
[ "$status" = 200 ]
