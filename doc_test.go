package busifavor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
)

// TestExportedIdentifiersAreDocumented fails on any exported identifier in
// the module's non-test code without a doc comment (its own or its group's).
func TestExportedIdentifiersAreDocumented(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Doc == nil && exportedReceiver(d) {
					t.Errorf("%s: func %s has no doc comment", fset.Position(d.Pos()), d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
							t.Errorf("%s: type %s has no doc comment", fset.Position(s.Pos()), s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
								t.Errorf("%s: %s has no doc comment", fset.Position(n.Pos()), n.Name)
							}
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exportedReceiver reports whether a method's receiver type is exported (or
// the function is not a method).
func exportedReceiver(d *ast.FuncDecl) bool {
	if d.Recv == nil {
		return true
	}
	typ := d.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

// TestEnumsAreTyped: every enum of the package is a type, its constants are
// of it, and the fields holding one have it. It reads the package's source:
// an exported constant named after an exported string type
// (SendChannelMiniApp after SendChannel) must be declared with that type,
// so that go doc lists it under the type.
func TestEnumsAreTyped(t *testing.T) {
	for _, c := range []struct {
		v     any
		field string
		want  reflect.Type
	}{
		{busifavor.CouponSend{}, "SendChannel", reflect.TypeFor[busifavor.SendChannel]()},
		{busifavor.CouponEvent{}, "EventType", reflect.TypeFor[busifavor.EventType]()},
		{busifavor.ReceiptFailedError{}, "PayReason", reflect.TypeFor[busifavor.SubsidyPayReceiptFailReason]()},
		{busifavor.ReceiptFailedError{}, "ReturnReason", reflect.TypeFor[busifavor.SubsidyReturnReceiptFailReason]()},
		{busifavor.ReceiptStatusError{}, "PayStatus", reflect.TypeFor[busifavor.SubsidyPayReceiptStatus]()},
		{busifavor.ReceiptStatusError{}, "ReturnStatus", reflect.TypeFor[busifavor.SubsidyReturnReceiptStatus]()},
	} {
		f, ok := reflect.TypeOf(c.v).FieldByName(c.field)
		if assert.True(t, ok, "%T.%s", c.v, c.field) {
			assert.Equal(t, c.want, f.Type, "%T.%s", c.v, c.field)
		}
	}
	assert.IsType(t, busifavor.H5ErrCode(""), busifavor.H5ErrCodeMissingFragment)
	assert.IsType(t, busifavor.H5ErrCode(""), busifavor.H5ErrCodeOpenIDNotBound)
	assert.IsType(t, busifavor.EventType(""), busifavor.EventTypeCouponSend)
	assert.IsType(t, busifavor.SendChannel(""), busifavor.SendChannelFinderLiveroom)

	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	files := pkgs["busifavor"].Files
	stringTypes := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if id, ok := ts.Type.(*ast.Ident); ok && id.Name == "string" && ts.Name.IsExported() {
						stringTypes[ts.Name.Name] = true
					}
				}
			}
		}
	}
	for _, name := range []string{"SendChannel", "EventType", "H5ErrCode"} {
		assert.True(t, stringTypes[name], "type %s string", name)
	}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for _, n := range vs.Names {
					for typ := range stringTypes {
						if !n.IsExported() || n.Name == typ || !strings.HasPrefix(n.Name, typ) {
							continue
						}
						id, ok := vs.Type.(*ast.Ident)
						assert.True(t, ok && strings.HasPrefix(n.Name, id.Name), "%s: %s is not declared as a %s", fset.Position(n.Pos()), n.Name, typ)
					}
				}
			}
		}
	}
}
