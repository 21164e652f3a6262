package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// One classification gives the exit status and the metric kind, so the two
// never disagree about an error.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		kind string
	}{
		{nil, exitOK, ""},
		{usagef("bad flag"), exitUsage, "config"},
		{fmt.Errorf("load: %w", &ConfigError{Setting: "destination.url"}), exitUsage, "config"},
		{errors.Join(&ConfigError{Setting: "partitioning.timezone"}, &ConfigError{Setting: "dedup.key"}), exitUsage, "config"},
		{fmt.Errorf("run: %w", &exporter.ShapeError{Commit: 1}), exitUsage, "config"},
		{fmt.Errorf("run: %w", &exporter.RejectsError{Rejected: 5, Read: 10}), exitRejects, "rejects"},
		{&verifyFindingsError{}, exitFindings, "other"},
		{fmt.Errorf("commit 4: %w", archive.ErrConflict), exitFailure, "conflict"},
		{fmt.Errorf("put x: %w", sinks.ErrPermission), exitFailure, "permission"},
		{fmt.Errorf("destination.url: %w", sinks.ErrCredentials), exitFailure, "credentials"},
		{fmt.Errorf("list: %w", errors.Join(sinks.ErrPermission, sinks.ErrCredentials)), exitFailure, "credentials"},
		{fmt.Errorf("read commit 3: %w", sinks.ErrNotFound), exitFailure, "not_found"},
		{errors.New("boom"), exitFailure, "other"},
		// Library errors classify the same before and after userError words them.
		{&schema.MappingError{Index: 0, Header: "Who", ID: "x", Problem: "bad", Earlier: -1}, exitUsage, "config"},
		{userError(errors.Join(&schema.MappingError{Index: 1, ID: "x", Problem: "bad", Earlier: -1})), exitUsage, "config"},
		{fmt.Errorf("resolve the header of a.csv: %w", &schema.HeaderError{Pos: 1, Header: "X", Problem: schema.HeaderUnknown, ID: "X"}), exitFailure, "other"},
		{userError(fmt.Errorf("resolve the header of a.csv: %w", &schema.HeaderError{Pos: 1, Header: "X", Problem: schema.HeaderUnknown, ID: "X"})), exitFailure, "other"},
		{userError(fmt.Errorf("publish commit 2: %w", &archive.DamagedError{Key: "k", Err: errors.New("k is damaged")})), exitFailure, "other"},
		{userError(fmt.Errorf("read commit 3: %w", &archive.DamagedError{Key: "k", Err: sinks.ErrNotFound})), exitFailure, "not_found"},
	} {
		code, kind := classify(c.err)
		if code != c.code || kind != c.kind || exitCode(c.err) != code || (c.err != nil && errorKind(c.err) != kind) {
			t.Errorf("classify(%v) = %d, %q; want %d, %q", c.err, code, kind, c.code, c.kind)
		}
	}
}
