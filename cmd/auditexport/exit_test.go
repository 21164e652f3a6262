package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
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
		{fmt.Errorf("run: %w", &exporter.RejectsError{Rejected: 5, Read: 10}), exitRejects, "rejects"},
		{&verifyFindingsError{}, exitFindings, "other"},
		{fmt.Errorf("commit 4: %w", archive.ErrConflict), exitFailure, "conflict"},
		{fmt.Errorf("put x: %w", sinks.ErrPermission), exitFailure, "permission"},
		{fmt.Errorf("read commit 3: %w", sinks.ErrNotFound), exitFailure, "not_found"},
		{errors.New("boom"), exitFailure, "other"},
	} {
		code, kind := classify(c.err)
		if code != c.code || kind != c.kind || exitCode(c.err) != code || (c.err != nil && errorKind(c.err) != kind) {
			t.Errorf("classify(%v) = %d, %q; want %d, %q", c.err, code, kind, c.code, c.kind)
		}
	}
}
