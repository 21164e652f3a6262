package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The dependency direction is cmd -> exporter -> (schema, sinks): schema
// and sinks know nothing of exporter or of each other.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/auditexport/auditexport/"
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string][]string{
		mod + "schema":   {mod + "exporter", mod + "sinks", mod + "cmd"},
		mod + "sinks":    {mod + "exporter", mod + "schema", mod + "cmd"},
		mod + "exporter": {mod + "cmd"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for owner, bad := range forbidden {
			if p.ImportPath != owner && !strings.HasPrefix(p.ImportPath, owner+"/") {
				continue
			}
			checked++
			for _, imp := range p.Imports {
				for _, b := range bad {
					if imp == b || strings.HasPrefix(imp, b+"/") {
						t.Errorf("%s imports %s", p.ImportPath, imp)
					}
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("checked %d packages, want schema, sinks and exporter at least", checked)
	}
}
