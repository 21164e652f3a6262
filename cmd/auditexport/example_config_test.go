package main

import (
	"os"
	"sort"
	"testing"

	"go.yaml.in/yaml/v3"
)

const exampleConfig = "../../configs/example.yaml"

// configs/example.yaml says it holds every setting with its default: each
// setting's key is in it, it loads strictly, and every value it gives is
// the default (so a changed default or a new setting fails here until the
// file says so).
func TestExampleConfigHoldsEveryDefault(t *testing.T) {
	data, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			keys[prefix] = true
			return
		}
		for k, sub := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, sub)
		}
	}
	walk("", tree)

	got, want := defaultConfig(), defaultConfig()
	if err := loadYAML(exampleConfig, &got); err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	gotS, wantS := settingsOf(&got), settingsOf(&want)
	if len(gotS) != len(wantS) {
		t.Fatalf("%d settings after loading, %d by default", len(gotS), len(wantS))
	}
	for i, w := range wantS {
		if !keys[w.key] {
			t.Errorf("%s is not in configs/example.yaml (default %s)", w.key, w.display())
			continue
		}
		delete(keys, w.key)
		if g := gotS[i]; g.display() != w.display() {
			t.Errorf("%s: the example gives %q, the default is %q", w.key, g.display(), w.display())
		}
	}
	delete(keys, "schema.columns") // YAML only: the org's mapping
	if len(got.Schema.Columns) != 0 {
		t.Errorf("schema.columns: the example maps %d columns; the default maps none (show examples in comments)", len(got.Schema.Columns))
	}
	if len(keys) > 0 {
		var extra []string
		for k := range keys {
			extra = append(extra, k)
		}
		sort.Strings(extra)
		t.Errorf("configs/example.yaml has keys that are no setting: %v", extra)
	}
	if n := len(wantS); n < 40 {
		t.Errorf("only %d settings compared", n)
	}
}
