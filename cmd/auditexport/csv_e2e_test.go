package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// auditCSV renders rows of a Sigma export with the given line end; row i
// is event ev-i, one second after the previous one. objectName(i) gives
// the raw (already quoted, if need be) Object Name field.
func auditCSV(rows int, eol string, objectName func(i int) string) string {
	var b strings.Builder
	b.WriteString("Timestamp,Event Id,Event Category,Event Type,User Email,Object Name" + eol)
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := range rows {
		fmt.Fprintf(&b, "%s,ev-%d,OBJECT_INTERACTION,View Workbook,user%d@example.com,%s%s",
			t0.Add(time.Duration(i)*time.Second).Format("2006-01-02 15:04:05"), i, i%7, objectName(i), eol)
	}
	return b.String()
}

// committed lists the commit log entries and Parquet files under dir.
func committed(t *testing.T, dir string) (commits, parquets []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.Contains(rel, "_auditexport/log/"):
			commits = append(commits, rel)
		case strings.HasSuffix(rel, ".parquet"):
			parquets = append(parquets, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return commits, parquets
}

// A quote opening a field and never closed takes in every line after it.
// Those lines are rows the run did not read: they count as rejected, so the
// run fails on the reject thresholds instead of archiving a third of the
// export and exiting 0.
func TestCSVStrayQuoteFailsOnRejects(t *testing.T) {
	dir := t.TempDir()
	land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
	const rows, bad = 2984, 999
	data := auditCSV(rows, "\n", func(i int) string {
		if i == bad {
			return `"Board`
		}
		return "Board " + fmt.Sprint(i%40)
	})
	if err := os.MkdirAll(land, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, land, "2026-11-21T06-00-00Z_audit_logs.csv", data)

	code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
	if code != exitRejects {
		t.Fatalf("run: code %d, want %d (rejects)\nstdout %s\nstderr %s", code, exitRejects, stdout, stderr)
	}
	var s struct {
		Status       string `json:"status"`
		RowsRead     int64  `json:"rows_read"`
		RowsRejected int64  `json:"rows_rejected"`
		RejectSample []struct {
			Line   int64  `json:"line"`
			Reason string `json:"reason"`
		} `json:"reject_samples"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &s); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	if s.Status != "failed" || s.RowsRead != rows || s.RowsRejected != rows-bad {
		t.Errorf("summary: status %q, %d read, %d rejected; want failed, %d read, %d rejected (the open quote's row and every line after it)",
			s.Status, s.RowsRead, s.RowsRejected, rows, rows-bad)
	}
	if len(s.RejectSample) != 1 || s.RejectSample[0].Line != bad+2 || !strings.Contains(s.RejectSample[0].Reason, fmt.Sprintf("%d lines", rows-bad)) {
		t.Errorf("reject samples = %+v, want one at line %d saying it took in %d lines", s.RejectSample, bad+2, rows-bad)
	}
	commits, parquets := committed(t, out)
	if len(commits) != 0 || len(parquets) != 0 {
		t.Errorf("failed run committed %v and wrote %v", commits, parquets)
	}
}

// An export with old Mac line ends (a bare CR after every line) is read
// row by row; a second run finds nothing new. To encoding/csv alone such a
// file is one long header and no rows or, with quoted fields, a malformed
// header.
func TestCSVCROnlyLineEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		quoted bool
	}{{"plain", false}, {"quoted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			land, out := filepath.Join(dir, "land"), filepath.Join(dir, "out")
			const rows = 1000
			data := auditCSV(rows, "\r", func(i int) string {
				if tc.quoted && i%100 == 3 {
					return `"Revenue, by region ""Q4"""`
				}
				return "Board " + fmt.Sprint(i%40)
			})
			if err := os.MkdirAll(land, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, land, "2026-11-21T06-00-00Z_audit_logs.csv", data)
			archived := func() (total int64) {
				for _, n := range parquetRowsByPartition(t, out) {
					total += n
				}
				return total
			}

			code, stdout, stderr := cli(t, "run", "--source.url", land, "--destination.url", out)
			if code != exitOK {
				t.Fatalf("run: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if s := summaryLine(t, stdout); s.RowsRead != rows || s.RowsWritten != rows {
				t.Errorf("read %d, wrote %d; want %d of each", s.RowsRead, s.RowsWritten, rows)
			}
			if n := archived(); n != rows {
				t.Errorf("archive holds %d rows, want %d", n, rows)
			}
			commits, _ := committed(t, out)
			if len(commits) != 1 {
				t.Fatalf("commits after the first run: %v, want one", commits)
			}

			code, stdout, stderr = cli(t, "run", "--source.url", land, "--destination.url", out)
			if code != exitOK {
				t.Fatalf("second run: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if again := summaryLine(t, stdout); again.RowsRead != 0 || again.RowsWritten != 0 {
				t.Errorf("second run read %d and wrote %d rows, want none: the export is recorded as read", again.RowsRead, again.RowsWritten)
			}
			if n := archived(); n != rows {
				t.Errorf("after the second run the archive holds %d rows, want %d", n, rows)
			}
			if again, _ := committed(t, out); len(again) != 1 {
				t.Errorf("commits after the second run: %v, want still one", again)
			}
		})
	}
}
