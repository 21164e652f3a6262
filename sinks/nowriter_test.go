package sinks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// TestNoStreamingWriter fails if any Go file of this package or of sinktest
// (tests included) refers to NewWriter or WriteAll, the two entry points of
// gocloud's streaming writer, whose azureblob implementation panics in Close
// after a failed write (see azure.go). Writes go through Upload.
func TestNoStreamingWriter(t *testing.T) {
	forbidden := map[string]bool{"NewWriter": true, "WriteAll": true}
	for _, dir := range []string{".", "sinktest"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && forbidden[sel.Sel.Name] {
					t.Errorf("%s: uses %s; write through (*blob.Bucket).Upload instead", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
