package exports_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/exports"
	"github.com/auditexport/auditexport/exporter/source/sourcetest"
	"github.com/auditexport/auditexport/sinks"
)

// loadExports writes the rows as Sigma exports split over two files (the
// second gzipped) in a fresh landing directory.
func loadExports(format string) func(t *testing.T, header []string, rows [][]string) source.Source {
	return func(t *testing.T, header []string, rows [][]string) source.Source {
		t.Helper()
		dir := t.TempDir()
		half := len(rows) / 2
		for i, part := range [][][]string{rows[:half], rows[half:]} {
			var buf bytes.Buffer
			switch format {
			case "jsonl":
				for _, r := range part {
					obj := map[string]any{}
					for j, h := range header {
						if r[j] == "" {
							obj[h] = nil
						} else {
							obj[h] = r[j]
						}
					}
					b, _ := json.Marshal(obj)
					buf.Write(b)
					buf.WriteByte('\n')
				}
			default:
				w := csv.NewWriter(&buf)
				w.Write(header)
				w.WriteAll(part)
			}
			data := buf.Bytes()
			name := "2026-11-2" + string(rune('4'+i)) + "T06-00-00Z_audit_logs." + format
			if i == 1 {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(data)
				zw.Close()
				data, name = z.Bytes(), name+".gz"
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := sinks.Open(context.Background(), dir, sinks.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		src := exports.New(b)
		t.Cleanup(func() { src.Close() })
		return src
	}
}

func TestExportsConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Name: "sigma-csv", Load: loadExports("csv")})
	sourcetest.Run(t, sourcetest.Harness{Name: "sigma-jsonl", Load: loadExports("jsonl")})
}

// Source lists only export objects, in key order, with their identity.
func TestExportsList(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.csv", "a.csv.gz", "notes.txt", "sub/c.jsonl"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755)
		os.WriteFile(filepath.Join(dir, n), []byte("Timestamp\n"), 0o644)
	}
	b, err := sinks.Open(context.Background(), dir, sinks.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := exports.New(b)
	defer e.Close()
	ins, err := e.List(context.Background(), source.Window{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, in := range ins {
		keys = append(keys, in.Key)
		if in.ETag == "" || in.Size != int64(len("Timestamp\n")) {
			t.Errorf("%s: etag %q size %d, want an ETag and the size", in.Key, in.ETag, in.Size)
		}
	}
	if got := strings.Join(keys, " "); got != "a.csv.gz b.csv sub/c.jsonl" {
		t.Errorf("inputs = %s", got)
	}
	if len(e.Skipped) != 1 || e.Skipped[0] != "notes.txt" {
		t.Errorf("skipped = %v", e.Skipped)
	}
}
