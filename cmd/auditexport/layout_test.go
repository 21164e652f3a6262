package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is the module whose packages the layering table covers.
const modulePath = "github.com/auditexport/auditexport"

// layer is one package's row in the layering table: the module packages it
// may import, and the design rule that says why. Paths are relative to the
// module; "x/..." means x and every package below it, "..." the whole
// module. Imports from outside the module (std, third party) are not
// checked here.
type layer struct {
	rule    string
	imports []string // allowed in its non-test files (and so in its tests)
	tests   []string // allowed in addition in its _test.go files (internal and external)
}

// layering is the explicit table of which module package may import which,
// derived from docs (design.md "Layout"): the direction is
// cmd -> exporter -> (schema, sinks); schema and sinks know nothing of each
// other or of exporter; inside exporter the stages (archive, source) and the
// generate tool are leaves that pass values through exporter, so none of them
// imports exporter or a sibling. It covers test imports too. A package must
// have a row here; add one when you add a package.
var layering = map[string]layer{
	"schema": {
		rule: "schema knows nothing of sinks or exporter: it imports no module package, not even in tests",
	},
	"sinks": {
		rule:  "sinks knows nothing of schema or exporter: it imports no module package; its tests may use its own test helpers (sinktest and below)",
		tests: []string{"sinks/sinktest/..."},
	},
	"sinks/sinktest": {
		rule:    "sinktest is the sinks conformance suite: sinks and its fault-injecting driver only",
		imports: []string{"sinks", "sinks/sinktest/faultblob"},
	},
	"sinks/sinktest/faultblob": {
		rule: "faultblob is a fault-injecting blob driver for sinks' own tests, so it imports no module package (not even sinks)",
	},
	"exporter": {
		rule:    "exporter -> (schema, sinks) and its own stages archive and source; it reads through the source.Source contract, never a source package (cmd opens one), so a source package, generate (a demo tool) and the conformance suites only in tests",
		imports: []string{"exporter/archive", "exporter/source", "schema", "sinks"},
		tests:   []string{"exporter/generate", "exporter/source/exports", "exporter/source/sourcetest", "sinks/sinktest/..."},
	},
	"exporter/archive": {
		rule:    "an exporter stage: schema and sinks only, never exporter or another exporter package (stages pass values through exporter)",
		imports: []string{"schema", "sinks"},
		tests:   []string{"sinks/sinktest/..."},
	},
	"exporter/source": {
		rule:    "an exporter stage: schema and sinks only, never exporter, another exporter package or a source below it (sources are registered by cmd); its tests run its conformance suite",
		imports: []string{"schema", "sinks"},
		tests:   []string{"exporter/source/sourcetest", "sinks/sinktest/..."},
	},
	// One source per package under exporter/source; add each with sourceLayer.
	"exporter/source/exports":  sourceLayer,
	"exporter/source/postgres": sourceLayer,
	"exporter/source/sigmaapi": {
		rule:    sourceLayer.rule + "; its tests use its API test server",
		imports: sourceLayer.imports,
		tests:   append([]string{"exporter/source/sigmaapi/sigmatest"}, sourceLayer.tests...),
	},
	"exporter/source/sigmaapi/sigmatest": {
		rule: "sigmatest is a Sigma REST API test server written from Sigma's published contract: it imports no module package",
	},
	"exporter/source/sourcetest": {
		rule:    "sourcetest is the source conformance suite: exporter/source, schema and sinks only",
		imports: []string{"exporter/source", "schema", "sinks"},
	},
	"exporter/ddl": {
		rule:    "ddl writes SQL over an archive: a consumer of exporter like cmd (exporter never imports it), reading the archive through exporter/archive and naming columns through exporter; its tests build real archives with a source",
		imports: []string{"exporter", "exporter/archive", "schema", "sinks"},
		tests:   []string{"exporter/source", "exporter/source/exports"},
	},
	"exporter/generate": {
		rule:    "generate writes synthetic Sigma exports: schema and sinks only, never exporter or another exporter package",
		imports: []string{"schema", "sinks"},
	},
	"cmd/auditexport": {
		rule:    "cmd is the top: it wires exporter, schema and sinks (any of their packages)",
		imports: []string{"exporter/...", "schema/...", "sinks/..."},
	},
	"integration": {
		rule:  "integration is tests only and may import any module package",
		tests: []string{"..."},
	},
}

// sourceLayer is the row of every source package under exporter/source.
var sourceLayer = layer{
	rule:    "a source: the exporter/source contract, schema and sinks only, never exporter, archive or another source; cmd registers it",
	imports: []string{"exporter/source", "schema", "sinks"},
	tests:   []string{"exporter/source/sourcetest", "sinks/sinktest/..."},
}

// testOnly are the conformance suites and their helpers: only _test.go files
// and other test-only packages may import them.
var testOnly = []string{"sinks/sinktest", "sinks/sinktest/faultblob", "exporter/source/sourcetest", "exporter/source/sigmaapi/sigmatest"}

// listedPackage is what go list says of one package.
type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// modulePackages lists every package of the module (nested modules such as
// configs/kubernetes/validate and bench are not part of it), with its
// imports, test imports and external test imports.
func modulePackages(t *testing.T) []listedPackage {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	// -e: a package go list cannot load is still listed, with its Error, and
	// its imports are still checked.
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./... in %s: %v\n%s", root, err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// allowedBy reports whether the module-relative path imp matches one of the
// patterns.
func allowedBy(imp string, patterns []string) bool {
	for _, p := range patterns {
		if p == "..." || p == imp {
			return true
		}
		if base, ok := strings.CutSuffix(p, "/..."); ok && (imp == base || strings.HasPrefix(imp, base+"/")) {
			return true
		}
	}
	return false
}

// TestDependencyDirectionLayering checks every package of the module, and its
// test imports, against the layering table above.
func TestDependencyDirectionLayering(t *testing.T) {
	pkgs := modulePackages(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, modulePath+"/")
		if !ok {
			t.Errorf("go list ./... returned %s, which is not under %s", p.ImportPath, modulePath)
			continue
		}
		seen[rel] = true
		if p.Error != nil {
			// Its import lists may be incomplete; the rules below still run on
			// what was read.
			t.Errorf("%s: go list: %s", rel, p.Error.Err)
		}
		row, ok := layering[rel]
		if !ok {
			t.Errorf("package %s is not in the layering table (cmd/auditexport/layout_test.go): add a row with the module packages it may import and the design rule that says why", rel)
			continue
		}
		check := func(kind string, imports []string, allowed []string) {
			for _, imp := range imports {
				irel, ok := strings.CutPrefix(imp, modulePath+"/")
				if !ok {
					continue // std or third party
				}
				if kind == "non-test files" && slices.Contains(testOnly, irel) && !slices.Contains(testOnly, rel) {
					t.Errorf("%s (%s) imports %s: a test helper may be imported only by _test.go files and other test helpers", rel, kind, irel)
					continue
				}
				if !allowedBy(irel, allowed) {
					t.Errorf("%s (%s) imports %s: not allowed by its layering row: %s", rel, kind, irel, row.rule)
				}
			}
		}
		check("non-test files", p.Imports, row.imports)
		inTests := slices.Concat(row.imports, row.tests, []string{rel})
		check("test files", p.TestImports, inTests)
		check("external test files", p.XTestImports, inTests)
	}
	// A row may land before its package (or outlive a move in progress), so
	// a row without a package is only noted.
	for rel := range layering {
		if !seen[rel] {
			t.Logf("the layering table has a row for %s, which go list ./... does not report as a package of the module: remove or rename the row", rel)
		}
	}
}
