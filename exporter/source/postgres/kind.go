package postgres

import (
	"context"
	"fmt"

	"github.com/auditexport/auditexport/exporter/source"
)

// Kind is the postgres source kind: a table or view of audit rows. Its
// settings are Config's, under source.postgres.
var Kind source.Kind = kind{}

type kind struct{}

func (kind) Name() string    { return "postgres" }
func (kind) Section() string { return "postgres" }
func (kind) About() source.About {
	return source.About{
		Summary: "a table or view",
		Probe:   "connect, find the table and its time column, check the SELECT privilege, and count the rows of the last 24 hours.",
	}
}
func (kind) NewConfig() any {
	return &Config{TimeColumn: DefaultTimeColumn, FetchRows: DefaultFetchRows}
}

// Validate requires the table and a positive fetch size, and refuses a
// password written in a config file.
func (kind) Validate(cfg any, d source.Deps) []error {
	c := cfg.(*Config)
	var errs []error
	if c.Table == "" {
		errs = append(errs, &source.FieldError{Field: "table", Required: true})
	}
	if c.FetchRows <= 0 {
		errs = append(errs, &source.FieldError{Field: "fetch_rows", Value: fmt.Sprint(c.FetchRows), Problem: "must be > 0"})
	}
	if d.FromFile != nil && d.FromFile("dsn") && dsnHasPassword(c.DSN) {
		errs = append(errs, &source.FieldError{Field: "dsn", Secret: true, Problem: "holds a password in the config file; set PGPASSWORD or " + d.EnvVarName("dsn") + " in the environment instead"})
	}
	return errs
}

// Open connects and checks the table and its time column.
func (kind) Open(ctx context.Context, cfg any, d source.Deps) (source.Source, error) {
	return Open(ctx, *cfg.(*Config), d)
}
