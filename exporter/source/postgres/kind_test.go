package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
)

// Validate needs no server: the table is required, the fetch size
// positive, and a DSN written in a config file holds no password.
func TestKindValidate(t *testing.T) {
	fromFile := func(key string) bool { return key == "dsn" }
	d := source.Deps{FromFile: fromFile, EnvVar: func(key string) string { return "ENV_" + strings.ToUpper(key) }}
	fields := func(errs []error) string {
		var out []string
		for _, err := range errs {
			var fe *source.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%v is not a *source.FieldError", err)
			}
			out = append(out, fe.Field)
		}
		return strings.Join(out, " ")
	}
	def := postgres.Kind.NewConfig().(*postgres.Config)
	if def.TimeColumn != postgres.DefaultTimeColumn || def.FetchRows != postgres.DefaultFetchRows {
		t.Errorf("defaults %+v", *def)
	}
	for _, tt := range []struct {
		cfg  postgres.Config
		want string
	}{
		{postgres.Config{Table: "audit.audit_logs", FetchRows: 10, DSN: "host=db user=auditor"}, ""},
		{postgres.Config{FetchRows: 0}, "table fetch_rows"},
		{postgres.Config{Table: "t", FetchRows: 1, DSN: "postgres://u:planted-pw@db/audit"}, "dsn"},
		{postgres.Config{Table: "t", FetchRows: 1, DSN: "host=db password=planted-pw"}, "dsn"},
	} {
		errs := postgres.Kind.Validate(&tt.cfg, d)
		if got := fields(errs); got != tt.want {
			t.Errorf("%+v: fields %q, want %q (%v)", tt.cfg, got, tt.want, errs)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), "planted-pw") {
				t.Errorf("error shows the password: %v", err)
			}
		}
	}
	// The same DSN from the environment is fine.
	d.FromFile = func(string) bool { return false }
	if errs := postgres.Kind.Validate(&postgres.Config{Table: "t", FetchRows: 1, DSN: "postgres://u:pw@db/audit"}, d); len(errs) != 0 {
		t.Errorf("DSN from the environment: %v", errs)
	}
}

// The library names its settings by their keys; the caller's Deps turn them
// into the CLI's names.
func TestOpenNamesSettingsAsTold(t *testing.T) {
	_, err := postgres.Open(context.Background(), postgres.Config{}, source.Deps{})
	if err == nil || !strings.HasPrefix(err.Error(), "table is empty") {
		t.Errorf("no names: %v", err)
	}
	_, err = postgres.Open(context.Background(), postgres.Config{Table: "a.b.c"}, cliNames)
	if err == nil || !strings.HasPrefix(err.Error(), `source.postgres.table "a.b.c"`) {
		t.Errorf("CLI names: %v", err)
	}
}
