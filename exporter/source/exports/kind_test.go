package exports_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want *source.FieldError // nil: valid
	}{
		{"./landing", nil},
		{"s3://landing?region=us-east-1", nil},
		{"", &source.FieldError{Field: "url", Required: true, Problem: "e.g. s3://landing-bucket or ./configs/samples"}},
		{"s3://user:planted-pw@landing", &source.FieldError{Field: "url", Secret: true}},
		// What a run's open would refuse is refused here, before it.
		{"ftp://landing/sigma", &source.FieldError{Field: "url"}},
		{"s3://landing?regoin=us-east-1", &source.FieldError{Field: "url"}},
	} {
		errs := exports.Kind.Validate(&exports.Config{URL: tt.url}, source.Deps{})
		if tt.want == nil {
			if len(errs) != 0 {
				t.Errorf("%q: %v, want valid", tt.url, errs)
			}
			continue
		}
		var fe *source.FieldError
		if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Field != tt.want.Field || fe.Required != tt.want.Required || fe.Secret != tt.want.Secret {
			t.Errorf("%q: %v, want one error like %+v", tt.url, errs, tt.want)
			continue
		}
		if strings.Contains(fe.Error(), "planted-pw") {
			t.Errorf("%q: the error shows the password: %v", tt.url, fe)
		}
	}
}

// The probe of a landing directory: every step passes, and the header is
// handed to the caller's check.
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "2026-11-25-audit.csv"), []byte("TIMESTAMP,EVENT_ID\n2026-11-25T00:00:00Z,e1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var header []string
	d := source.Deps{Now: time.Now(), CheckHeader: func(names []string) source.ProbeStep {
		header = names
		return source.ProbeStep{Name: "header", Detail: "resolved"}
	}}
	r := exports.Kind.Probe(context.Background(), &exports.Config{URL: dir}, d)
	var got []string
	for _, s := range r.Steps {
		if s.Err != nil || s.Skipped {
			t.Errorf("step %s: %v %s", s.Name, s.Err, s.Detail)
		}
		got = append(got, s.Name)
	}
	if strings.Join(got, " ") != "connect list newest header" || strings.Join(header, ",") != "TIMESTAMP,EVENT_ID" {
		t.Errorf("steps %v, header %v", got, header)
	}

	// A missing directory fails connect, naming the setting, and skips the rest.
	d.Setting = func(key string) string { return "source." + key }
	r = exports.Kind.Probe(context.Background(), &exports.Config{URL: filepath.Join(dir, "missing")}, d)
	if len(r.Steps) != 4 || r.Steps[0].Err == nil || !strings.Contains(r.Steps[0].Err.Error(), "source.url") || !r.Steps[3].Skipped {
		t.Errorf("missing directory: %+v", r.Steps)
	}
}
