package generate

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/schema"
)

var testStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// baseOptions is a small run with every quirk switched on.
func baseOptions() Options {
	return Options{
		Start:         testStart,
		Days:          4,
		RowsPerDay:    1500,
		Format:        FormatCSV,
		WithEventID:   true,
		DuplicateRate: 0.03,
		LateRate:      0.05,
		Seed:          42,
	}
}

// export is one file read back independently of the generator.
type export struct {
	name   string
	run    time.Time // from the file name
	header []string
	rows   [][]string
}

func (e export) col(t *testing.T, name string) int {
	t.Helper()
	i := slices.Index(e.header, name)
	if i < 0 {
		t.Fatalf("%s: no column %q in header %q", e.name, name, e.header)
	}
	return i
}

func generate(t *testing.T, opts Options) (Truth, []export) {
	t.Helper()
	dir := t.TempDir()
	truth, err := Generate(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return truth, readExports(t, dir, truth, opts)
}

// readExports reads the files with encoding/csv or encoding/json. The files
// in dir must be exactly truth.Files.
func readExports(t *testing.T, dir string, truth Truth, opts Options) []export {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, truth.Files) {
		t.Fatalf("files in dir = %q, want Truth.Files %q", names, truth.Files)
	}
	var out []export
	for _, name := range names {
		run, err := time.Parse("2006-01-02T15-04-05Z", strings.SplitN(name, "_", 2)[0])
		if err != nil {
			t.Fatalf("file name %q: %v", name, err)
		}
		e := export{name: name, run: run}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		switch {
		case strings.HasSuffix(name, ".csv.gz"):
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			r = zr
			fallthrough
		case strings.HasSuffix(name, ".csv"):
			cr := csv.NewReader(r)
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			e.header, e.rows = recs[0], recs[1:]
		case strings.HasSuffix(name, ".jsonl"):
			e.header = planHeader(t, opts)
			e.rows = readJSONL(t, name, r, e.header)
		default:
			t.Fatalf("unexpected file %q", name)
		}
		f.Close()
		out = append(out, e)
	}
	return out
}

func planHeader(t *testing.T, opts Options) []string {
	t.Helper()
	cat, err := schema.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlan(cat, opts.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return p.header
}

// readJSONL decodes each line and renders it as CSV would hold it.
func readJSONL(t *testing.T, name string, r io.Reader, header []string) [][]string {
	t.Helper()
	var rows [][]string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s:%d: %v", name, line, err)
		}
		row := make([]string, len(header))
		for k, v := range m {
			i := slices.Index(header, k)
			if i < 0 {
				t.Fatalf("%s:%d: key %q is not in the header", name, line, k)
			}
			switch v := v.(type) {
			case string:
				if v == "" {
					t.Fatalf("%s:%d: key %q has an empty string; want it absent", name, line, k)
				}
				row[i] = v
			case json.Number:
				row[i] = v.String()
			case bool:
				row[i] = "false"
				if v {
					row[i] = "true"
				}
			case nil:
			default:
				b, _ := json.Marshal(v)
				row[i] = string(b)
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

// parseTS parses the Snowflake text forms with the time package's layouts.
func parseTS(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10] + " " + s[11:]
	}
	switch {
	case strings.HasSuffix(s, "Z"):
		return time.Parse("2006-01-02 15:04:05Z07:00", s)
	case len(s) > 20 && (strings.Contains(s[19:], " +") || strings.Contains(s[19:], " -")):
		return time.Parse("2006-01-02 15:04:05 -0700", s)
	default:
		return time.Parse("2006-01-02 15:04:05", s)
	}
}
