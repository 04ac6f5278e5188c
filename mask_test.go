package busifavor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// maskedTypes are the package's types that hold personal data or coupon
// codes (a field tagged log:"…", directly or nested).
var maskedTypes = []any{
	busifavor.UploadCouponCodesRequest{}, busifavor.UploadCouponCodesResponse{}, busifavor.CouponCodeFailure{},
	busifavor.ListCouponCodesResponse{}, busifavor.UploadedCode{}, busifavor.GetCouponCodeRequest{},
	busifavor.GetCouponCodeResponse{}, busifavor.DeleteCouponCodeRequest{},
	busifavor.SendCouponRequest{}, busifavor.SendCouponResponse{}, busifavor.UseCouponRequest{}, busifavor.UseCouponResponse{},
	busifavor.GetUserCouponRequest{}, busifavor.GetUserCouponResponse{}, busifavor.ListUserCouponsRequest{},
	busifavor.ListUserCouponsResponse{}, busifavor.TradeInfoRequest{}, busifavor.ReturnCouponRequest{},
	busifavor.DeactivateCouponRequest{}, busifavor.SendGovCardRequest{}, busifavor.SendGovCardResponse{},
	busifavor.CouponEvent{}, busifavor.CouponSend{}, busifavor.UserCoupon{}, busifavor.AttachInfo{},
	busifavor.CreateSubsidyPayReceiptRequest{}, busifavor.SubsidyPayReceipt{}, busifavor.SubsidyPayReceiptResponse{},
	busifavor.ListSubsidyPayReceiptsRequest{}, busifavor.ListSubsidyPayReceiptsResponse{},
	busifavor.CreateSubsidyReturnReceiptRequest{}, busifavor.SubsidyReturnReceipt{}, busifavor.SubsidyReturnReceiptResponse{},
	busifavor.BatchUploadCouponCodesRequest{}, busifavor.CodeResult{}, busifavor.BatchUploadCouponCodesResponse{},
	busifavor.SendCouponItem{}, busifavor.MiniProgramCoupons{}, busifavor.MiniProgramCouponParam{}, busifavor.AddCardItem{},
	busifavor.MiniProgramSendResult{}, busifavor.MiniProgramCouponResult{},
}

// TestEveryTypeHoldingSecretsIsListed reads the package's source: every
// struct with a field tagged log:"…", and every struct holding one, must be
// in maskedTypes, so that a new type cannot forget to mask.
func TestEveryTypeHoldingSecretsIsListed(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	require.NoError(t, err)
	fields := map[string][]string{} // struct name → names of the types its fields use
	tagged := map[string]bool{}
	for _, f := range pkgs["busifavor"].Files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Tag != nil && strings.Contains(fl.Tag.Value, `log:"`) {
					tagged[ts.Name.Name] = true
				}
				ast.Inspect(fl.Type, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok {
						fields[ts.Name.Name] = append(fields[ts.Name.Name], id.Name)
					}
					return true
				})
			}
			return true
		})
	}
	for changed := true; changed; {
		changed = false
		for name, uses := range fields {
			for _, u := range uses {
				if tagged[u] && !tagged[name] {
					tagged[name], changed = true, true
				}
			}
		}
	}
	listed := map[string]bool{}
	for _, v := range maskedTypes {
		listed[reflect.TypeOf(v).Name()] = true
	}
	var missing []string
	for name := range tagged {
		if !listed[name] && ast.IsExported(name) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "types holding personal data or codes, not in maskedTypes (give each a Format and a LogValue)")
}

// fillSecrets sets every tagged field of v (addressable) to a secret, and
// gives every nested struct, pointer and slice one element, so that each
// tagged field somewhere holds a secret.
func fillSecrets(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			secret := map[string]string{"id": testOpenid, "code": secretCode, "omit": `{"openid":"` + testOpenid + `"}`}[sf.Tag.Get("log")]
			switch {
			case secret != "" && f.Kind() == reflect.String:
				f.SetString(secret)
			case secret != "" && f.Kind() == reflect.Slice:
				f.Set(reflect.MakeSlice(f.Type(), 1, 1))
				if f.Index(0).Kind() == reflect.String {
					f.Index(0).SetString(secret)
				} else {
					f.SetBytes([]byte(secret))
				}
			default:
				fillSecrets(f)
			}
		}
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem().PkgPath() == reflect.TypeOf(busifavor.Client{}).PkgPath() {
			v.Set(reflect.New(v.Type().Elem()))
			fillSecrets(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fillSecrets(v.Index(0))
		}
	}
}

// TestEveryTypeHoldingSecretsPrintsThemMasked fills every secret field of
// every listed type and prints it every way: no openid, unionid, code or
// payload shows, while json.Marshal keeps them.
func TestEveryTypeHoldingSecretsPrintsThemMasked(t *testing.T) {
	for _, zero := range maskedTypes {
		ptr := reflect.New(reflect.TypeOf(zero))
		fillSecrets(ptr.Elem())
		v, typ := ptr.Elem().Interface(), reflect.TypeOf(zero).String()
		b, err := json.Marshal(v)
		assert.True(t, err == nil || typ == "busifavor.BatchUploadCouponCodesRequest", "%s: %v", typ, err) // that one holds a func
		assert.True(t, err != nil || strings.Contains(string(b), testOpenid) || strings.Contains(string(b), secretCode) ||
			!strings.Contains(typ, "Request") && !strings.Contains(typ, "Response"), "%s: json.Marshal keeps the data: %s", typ, b)
		for _, verb := range formatVerbs {
			for _, x := range []any{v, ptr.Interface()} {
				out := fmt.Sprintf(verb, x)
				for _, secret := range []string{testOpenid, secretCode, secretCode[4:16], testOpenid[4:16]} {
					assert.NotContains(t, out, secret, "%s of %s", verb, typ)
				}
			}
		}
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v, slog.Any("p", ptr.Interface()))
		for _, secret := range []string{testOpenid, secretCode, secretCode[4:16], testOpenid[4:16]} {
			assert.NotContains(t, logs.String(), secret, "slog of %s", typ)
		}
		assert.Contains(t, fmt.Sprintf("%#v", v), typ+"{", "%#v keeps the type's name")
	}
}
