package exporter

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

// corpus runs the exporter on one file of testdata/bad alone.
func corpus(t *testing.T, name string, mutate func(*Options)) testRun {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "bad", name))
	if err != nil {
		t.Fatal(err)
	}
	return exportFiles(t, map[string][]byte{name: data}, mutate)
}

// archivedIDs returns the EVENT_IDs in the archive.
func archivedIDs(t *testing.T, b *sinks.Bucket) []string {
	t.Helper()
	var ids []string
	for _, f := range readArchive(t, b) {
		for _, row := range f.rows {
			ids = append(ids, row["EVENT_ID"].(string))
		}
	}
	return sortedCopy(ids)
}

func readRejects(t *testing.T, r testRun) []Reject {
	t.Helper()
	if r.sum.RejectsKey == "" {
		return nil
	}
	data, err := r.dest.ReadAll(context.Background(), r.sum.RejectsKey)
	if err != nil {
		t.Fatal(err)
	}
	var out []Reject
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rj Reject
		if err := json.Unmarshal([]byte(line), &rj); err != nil {
			t.Fatalf("rejects line %q: %v", line, err)
		}
		out = append(out, rj)
	}
	return out
}

func noParquet(t *testing.T, b *sinks.Bucket) {
	t.Helper()
	for _, k := range keys(t, b) {
		if strings.HasSuffix(k, ".parquet") {
			t.Errorf("failed run left %s in the destination", k)
		}
	}
}

func TestCorpus(t *testing.T) {
	type reject struct {
		line   int64
		column string
		reason string
	}
	cases := []struct {
		file    string
		mutate  func(*Options)
		wantErr []string // substrings of the run's error; nil means success
		ids     []string // EVENT_IDs archived
		rejects []reject
		check   func(t *testing.T, r testRun)
	}{
		{file: "bom.csv", ids: []string{"ev-1", "ev-2", "ev-3"}},
		{file: "crlf.csv", ids: []string{"ev-1", "ev-2", "ev-3"}, check: func(t *testing.T, r testRun) {
			for _, f := range readArchive(t, r.dest) {
				for _, row := range f.rows {
					if s, _ := row["OBJECT_NAME"].(string); strings.ContainsAny(s, "\r\n") {
						t.Errorf("CR kept in %q", s)
					}
				}
			}
		}},
		{file: "quoted.csv", ids: []string{"ev-1", "ev-2", "ev-3"}, check: func(t *testing.T, r testRun) {
			names := map[string]bool{}
			for _, f := range readArchive(t, r.dest) {
				for _, row := range f.rows {
					names[row["OBJECT_NAME"].(string)] = true
				}
			}
			for _, want := range []string{"Revenue, by region", "Q4 \"final\"\nsecond line", "Zürich — 東京"} {
				if !names[want] {
					t.Errorf("object name %q not archived exactly; got %v", want, names)
				}
			}
		}},
		{file: "empty.csv"},
		{file: "header-only.csv"},
		{file: "ragged.csv", ids: []string{"ev-1", "ev-2"}, rejects: []reject{
			{3, "", "row has 4 fields, the header has 6"},
			{4, "", "row has 7 fields, the header has 6"},
		}},
		{file: "non-utf8.csv", ids: []string{"ev-1", "ev-2"}, rejects: []reject{{3, "", "column \"User Email\" is not valid UTF-8"}}},
		{file: "bad-timestamp.csv", ids: []string{"ev-1", "ev-2"}, rejects: []reject{
			{3, "Timestamp", "yesterday at noon"},
			{4, "Timestamp", "2026-13-45"},
			{5, "Timestamp", "no event time"},
		}},
		{file: "duplicate-headers.csv", wantErr: []string{"duplicate-headers.csv", "Event Type", "EVENT_TYPE"}},
		{file: "bare-quote.csv", ids: []string{"ev-1", "ev-2"}, rejects: []reject{{3, "", "malformed CSV"}}},
		{file: "quoted-eof.csv", ids: []string{"ev-1"}, rejects: []reject{{3, "", "malformed CSV"}}},
		{file: "unknown-column.csv", ids: []string{"ev-1", "ev-2"}, check: func(t *testing.T, r testRun) {
			if len(r.sum.DerivedColumns) != 1 || r.sum.DerivedColumns[0] != "FAVOURITE_COLOUR" {
				t.Errorf("derived columns = %v, want [FAVOURITE_COLOUR]", r.sum.DerivedColumns)
			}
			if len(r.sum.Warnings) == 0 || !strings.Contains(strings.Join(r.sum.Warnings, "\n"), "Favourite Colour") {
				t.Errorf("warnings = %v, want one naming the header", r.sum.Warnings)
			}
			found := false
			for _, f := range readArchive(t, r.dest) {
				for _, row := range f.rows {
					if row["FAVOURITE_COLOUR"] == "blue" {
						found = true
					}
				}
			}
			if !found {
				t.Error("the unknown column's value was not kept")
			}
		}},
		{file: "unknown-column.csv", mutate: func(o *Options) { o.Strict = true }, wantErr: []string{`header "Favourite Colour"`, "strict resolution is on"}},
		{file: "truncated.csv.gz", wantErr: []string{"truncated.csv.gz", "ends unexpectedly"}},
		{file: "corrupt-crc.csv.gz", wantErr: []string{"corrupt-crc.csv.gz", "gzip"}},
		{file: "whole.jsonl", ids: []string{"ev-1", "ev-2", "ev-3"}, rejects: []reject{{4, "", "not a JSON object"}}, check: func(t *testing.T, r testRun) {
			for _, f := range readArchive(t, r.dest) {
				for _, row := range f.rows {
					if row["EVENT_ID"] == "ev-2" && row["RECIPIENTS"] != `["x@example.com","y@example.com"]` {
						t.Errorf("RECIPIENTS = %#v, want the JSON array as text", row["RECIPIENTS"])
					}
				}
			}
		}},
	}
	for _, c := range cases {
		name := c.file
		if c.mutate != nil {
			name += "/strict"
		}
		t.Run(name, func(t *testing.T) {
			r := corpus(t, c.file, c.mutate)
			if c.wantErr != nil {
				if r.err == nil {
					t.Fatalf("run succeeded, want an error naming %v", c.wantErr)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(r.err.Error(), w) {
						t.Errorf("error %q does not name %q", r.err, w)
					}
				}
				noParquet(t, r.dest)
				return
			}
			if r.err != nil {
				t.Fatalf("run: %v", r.err)
			}
			if got, want := strings.Join(archivedIDs(t, r.dest), ","), strings.Join(c.ids, ","); got != want {
				t.Errorf("archived events = [%s], want [%s]", got, want)
			}
			rej := readRejects(t, r)
			if len(rej) != len(c.rejects) || r.sum.RowsRejected != int64(len(c.rejects)) {
				t.Fatalf("rejects = %+v (summary %d), want %d", rej, r.sum.RowsRejected, len(c.rejects))
			}
			for i, w := range c.rejects {
				g := rej[i]
				if g.Source != c.file || g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) {
					t.Errorf("reject %d = %+v, want line %d column %q reason containing %q", i, g, w.line, w.column, w.reason)
				}
				if len(g.Row) == 0 && len(g.Fields) == 0 && w.reason != "malformed CSV" {
					t.Errorf("reject %d keeps no row content", i)
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

// Hostile category values stay one escaped path segment inside the prefix.
func TestCorpusHostileCategory(t *testing.T) {
	r := corpus(t, "hostile-category.csv", func(o *Options) { o.ByCategory = true })
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := map[string]bool{
		"event_date=2026-11-24/event_category=..%2F..%2Fx":                true,
		"event_date=2026-11-24/event_category=%2E%2E":                     true,
		"event_date=2026-11-24/event_category=a%2Fb%3Dc%25d":              true,
		"event_date=2026-11-24/event_category=__HIVE_DEFAULT_PARTITION__": true,
		"event_date=2026-11-24/event_category=BRAND_NEW_CATEGORY":         true,
	}
	for _, k := range keys(t, r.dest) {
		dir := filepath.Dir(k)
		if strings.HasSuffix(k, ".parquet") && !want[dir] {
			t.Errorf("unexpected partition %q", dir)
		}
		if strings.Contains(k, "/../") || strings.HasPrefix(k, "../") || strings.HasPrefix(k, "/") {
			t.Errorf("key %q leaves the prefix", k)
		}
	}
	if len(readArchive(t, r.dest)) != len(want) {
		t.Errorf("%d files, want one per partition (%d)", len(readArchive(t, r.dest)), len(want))
	}
	if r.sum.UnknownCategories["BRAND_NEW_CATEGORY"] != 1 || r.sum.UnknownCategories["../../x"] != 1 {
		t.Errorf("unknown categories = %v", r.sum.UnknownCategories)
	}
	if got := len(archivedIDs(t, r.dest)); got != 5 {
		t.Errorf("%d events archived, want 5", got)
	}
}
