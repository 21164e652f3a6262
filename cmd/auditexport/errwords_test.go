package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
)

// userError gives library errors the CLI's words: setting names for the
// schema's typed errors, wherever they sit in the chain, and the verify
// hint, once, at the end of an error that means a damaged archive.
func TestUserErrorText(t *testing.T) {
	unknown := &schema.HeaderError{Pos: 2, Header: "Foo Bar", Problem: schema.HeaderUnknown, ID: "FOO_BAR"}
	damaged := &archive.DamagedError{Key: "_auditexport/log/00000000000000000003.json",
		Err: errors.New("commit 3 (_auditexport/log/00000000000000000003.json) says it is number 2")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"strict, wrapped", fmt.Errorf("resolve the header of in/a.csv: %w", errors.Join(
			&schema.HeaderError{Pos: 1, Problem: schema.HeaderEmpty}, unknown)),
			"resolve the header of in/a.csv: column 1 has an empty header\n" +
				`column 2: header "Foo Bar" is not in the catalog or schema.columns, and schema.strict is on; map it in schema.columns (it would derive to FOO_BAR) or turn schema.strict off`},
		{"nothing to derive", &schema.HeaderError{Pos: 2, Header: "(%)", Problem: schema.HeaderNoID},
			`column 2: header "(%)" has no letters or digits to derive a column ID from; map it in schema.columns`},
		{"derived field ID taken", fmt.Errorf("resolve header: %w", &schema.HeaderError{Pos: 1, Header: "Foo Bar", Problem: schema.HeaderFieldIDTaken, ID: "FOO_BAR", FieldID: 636439837, Column: "OTHER"}),
			`resolve header: column 1: header "Foo Bar" derives to FOO_BAR, whose field ID 636439837 is already used by column OTHER; map it in schema.columns with a field_id`},
		{"same field ID", &schema.HeaderError{Pos: 4, Header: "B", Problem: schema.HeaderSameFieldID, ID: "B", FieldID: 1000001, PrevPos: 1, PrevHeader: "A"},
			`headers "A" (column 1) and "B" (column 4) both get field ID 1000001; give one of them a field_id in schema.columns`},
		{"same ID: no setting to name", &schema.HeaderError{Pos: 3, Header: "EVENT_TYPE", Problem: schema.HeaderSameID, ID: "EVENT_TYPE", PrevPos: 2, PrevHeader: "Event Type"},
			`headers "Event Type" (column 2) and "EVENT_TYPE" (column 3) both resolve to column ID EVENT_TYPE`},
		{"mapping entries", errors.Join(
			&schema.MappingError{Index: 2, Header: "Who", ID: "bad id", Problem: `id "bad id" is not a valid column ID (upper snake case, e.g. USER_EMAIL)`, Earlier: -1},
			&schema.MappingError{Index: 3, Header: " WHO", ID: "USER_ID", Problem: "the header is already mapped to USER_EMAIL", Earlier: 0},
			&schema.MappingError{Index: 4, ID: "B_COL", Problem: "field_id 1000000 is already used by column A_COL", Earlier: -1}),
			`schema.columns[2] (header "Who"): id "bad id" is not a valid column ID (upper snake case, e.g. USER_EMAIL)` + "\n" +
				`schema.columns[3] (header " WHO"): the header is already mapped to USER_EMAIL by schema.columns[0]` + "\n" +
				`schema.columns[4] (id "B_COL"): field_id 1000000 is already used by column A_COL`},
		{"damaged archive", fmt.Errorf("load the archive's state: %w", damaged),
			"load the archive's state: commit 3 (_auditexport/log/00000000000000000003.json) says it is number 2; run auditexport verify"},
		{"keys missing", &archive.DamagedError{Key: "_auditexport/keys/event_date=2026-11-24/",
			Err: fmt.Errorf("%w in event_date=2026-11-24: key file x is missing; a run would archive those events again, so nothing is written: restore the key files from object versioning or a backup (their commits record size and sha256)", archive.ErrKeysMissing)},
			"committed event keys are missing in event_date=2026-11-24: key file x is missing; a run would archive those events again, so nothing is written: restore the key files from object versioning or a backup (their commits record size and sha256); run auditexport verify"},
		{"no time column", fmt.Errorf("read: %w", &exporter.MissingColumnError{Input: "a.csv", Column: "TIMESTAMP", Role: exporter.TimeColumn, Headers: []string{"When", "Who"}}),
			"read: the header of a.csv has no event time column TIMESTAMP (headers: When, Who); map it with schema.columns or set schema.time_column"},
		{"no key column", &exporter.MissingColumnError{Input: "a.csv", Column: "REQUEST_ID", Role: exporter.KeyColumn, Headers: []string{"Timestamp"}},
			"the header of a.csv has no event key column REQUEST_ID (headers: Timestamp); it is named in dedup.key: map it with schema.columns or change dedup.key"},
		{"rejects over max_rows", &exporter.RejectsError{Rejected: 3, Read: 10, Over: exporter.RejectsMaxRows, MaxRows: 2, Where: "see r.jsonl"},
			"3 of 10 rows were rejected, over rejects.max_rows=2; nothing was written (see r.jsonl)"},
		{"rejects over max_fraction", &exporter.RejectsError{Rejected: 3, Read: 10, Over: exporter.RejectsMaxFraction, MaxFraction: 0.2, Where: "see r.jsonl"},
			"3 of 10 rows were rejected, over rejects.max_fraction=0.2; nothing was written (see r.jsonl)"},
		{"work directory", fmt.Errorf("write: %w", &exporter.WorkDirError{Op: "write a key file", Err: errors.New("no space left on device")}),
			"write: write a key file in the work directory: no space left on device (run.work_dir)"},
		{"two damaged objects, one hint", errors.Join(damaged, &archive.DamagedError{Key: "m", Err: errors.New("manifest m is damaged: EOF")}),
			"commit 3 (_auditexport/log/00000000000000000003.json) says it is number 2\nmanifest m is damaged: EOF; run auditexport verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := userError(tt.err)
			if got.Error() != tt.want {
				t.Errorf("userError:\ngot  %s\nwant %s", got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("userError(%v) lost the original chain", tt.err)
			}
			if again := userError(got); again.Error() != tt.want {
				t.Errorf("userError twice:\ngot  %s\nwant %s", again, tt.want)
			}
			if wrapped := userError(fmt.Errorf("stopped: %w", got)); wrapped.Error() != "stopped: "+tt.want {
				t.Errorf("userError of a worded error, wrapped:\ngot  %s\nwant stopped: %s", wrapped, tt.want)
			}
		})
	}
}

// Errors without other words pass through as they are.
func TestUserErrorUnchanged(t *testing.T) {
	for _, err := range []error{
		nil,
		errors.New("boom"),
		fmt.Errorf("commit 4: %w", archive.ErrConflict),
		&ConfigError{Setting: "destination.url", Problem: "is required"},
	} {
		if got := userError(err); got != err {
			t.Errorf("userError(%v) = %v, want it unchanged", err, got)
		}
	}
}

// The words reach the person running the command: stderr, the summary
// line and check's report.
func TestUserErrorOutput(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "source:\n  url: ./in\ndestination:\n  url: "+dir+"/out\nschema:\n  columns:\n    - header: Who\n      id: not an id\n    - header: who\n      id: USER_ID\n    - header: \" WHO\"\n      id: USER_EMAIL\n")
	code, out, errOut := cli(t, "plan", "--config", p, "--log.level", "error")
	wantMsg := `schema.columns[0] (header "Who"): id "not an id" is not a valid column ID (upper snake case, e.g. USER_EMAIL)` + "\n" +
		`schema.columns[2] (header " WHO"): the header is already mapped to USER_ID by schema.columns[1]`
	if code != exitUsage {
		t.Errorf("plan with a bad mapping: exit %d, want %d", code, exitUsage)
	}
	if !strings.HasSuffix(errOut, "auditexport plan: "+wantMsg+"\nTry: auditexport plan --help\n") {
		t.Errorf("stderr:\n%s\nwant it to end with the mapping's errors and a Try line", errOut)
	}
	if s := summaryLine(t, out); s.Error != wantMsg {
		t.Errorf("summary error:\ngot  %s\nwant %s", s.Error, wantMsg)
	}

	code, _, errOut = cli(t, "schema", "--header", "Timestamp,Foo Bar,(%)", "--schema.strict", "true")
	want := "auditexport schema: resolve header: " +
		`column 2: header "Foo Bar" is not in the catalog or schema.columns, and schema.strict is on; map it in schema.columns (it would derive to FOO_BAR) or turn schema.strict off` + "\n" +
		`column 3: header "(%)" has no letters or digits to derive a column ID from; map it in schema.columns` + "\n"
	if code != exitFailure || errOut != want {
		t.Errorf("schema --schema.strict true: exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", code, errOut, exitFailure, want)
	}

	c := &Config{}
	c.Schema.Strict, c.Schema.TimeColumn = true, "TIMESTAMP"
	st := checkHeader(c, []string{"Timestamp", "Foo Bar"})
	var sec checkSection
	sec.fail(st.Name, st.Err, st.Needs)
	want = `column 2: header "Foo Bar" is not in the catalog or schema.columns, and schema.strict is on; map it in schema.columns (it would derive to FOO_BAR) or turn schema.strict off`
	if len(sec.Steps) != 1 || sec.Steps[0].Error != want {
		t.Errorf("check's header step: %+v\nwant error %s", sec.Steps, want)
	}
}
