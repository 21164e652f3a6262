package main

import (
	"path/filepath"
	"testing"
)

// Every config shipped in configs/ passes config validate: none of them
// drifts from the settings this build knows. example.yaml holds the
// defaults, so it is given the two settings that have none.
func TestShippedConfigsValidate(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("configs/*.yaml: %v %v, want at least local, example and sigma-api", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			args := []string{"config", "validate", "--config", f}
			if filepath.Base(f) == "example.yaml" {
				args = append(args, "--source.url", "s3://landing", "--destination.url", "s3://archive")
			}
			if code, stdout, stderr := cli(t, args...); code != exitOK {
				t.Errorf("config validate %s: exit %d\n%s\n%s", f, code, stdout, stderr)
			}
		})
	}
}
