package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// duckdbRunner is the DuckDB SQL runner that integration/scripts/duckdb.sh
// builds; the test fails, naming the script, when it is missing.
func duckdbRunner(t *testing.T) string {
	t.Helper()
	p := os.Getenv("AUDITEXPORT_TEST_DUCKDB")
	if p == "" {
		t.Fatal(`AUDITEXPORT_TEST_DUCKDB is not set: run bash integration/scripts/duckdb.sh install && eval "$(bash integration/scripts/duckdb.sh env)" (integration/test.sh does both)`)
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("AUDITEXPORT_TEST_DUCKDB=%s is not the DuckDB runner (%v): run bash integration/scripts/duckdb.sh install", p, err)
	}
	return p
}

// duckResult is one query's result as the runner prints it.
type duckResult struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

// duckdb runs the script file, then the queries, in one in-memory database.
func duckdb(t *testing.T, runner, script string, queries ...string) []duckResult {
	t.Helper()
	args := []string{"--exec", script}
	for _, q := range queries {
		args = append(args, "--query", q)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, runner, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb-sql %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var res []duckResult
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var r duckResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("duckdb-sql output: %v\n%s", err, out)
		}
		res = append(res, r)
	}
	if len(res) != len(queries) {
		t.Fatalf("duckdb-sql printed %d results for %d queries", len(res), len(queries))
	}
	return res
}

// committedCounts sums the rows the commit log records per event date and
// per partition.
func committedCounts(t *testing.T, dir string) (perDay, perPartition map[string]int64) {
	t.Helper()
	ctx := t.Context()
	b, err := sinks.Open(ctx, dir, sinks.OpenOptions{Prefix: "sigma"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := archive.LoadState(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	perDay, perPartition = map[string]int64{}, map[string]int64{}
	for _, n := range st.Numbers {
		c, _, err := archive.ReadCommit(ctx, b, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.Files {
			d, _ := archive.PartitionDate(f.Partition)
			perDay[d] += f.Rows
			perPartition[f.Partition] += f.Rows
		}
	}
	return perDay, perPartition
}

// TestDuckDBQueriesTheArchive runs `auditexport ddl --engine duckdb` in a
// real DuckDB against archives the exporter wrote, in both layouts and with
// lower-case columns: the view's rows per day and per category are the
// commit log's, a column a later run added is read (NULL in the files
// before it), and the view's types are the archive's.
func TestDuckDBQueriesTheArchive(t *testing.T) {
	runner := duckdbRunner(t)
	// A second export, read by a second run, with a header no catalog has:
	// its files gain a column the first run's files lack.
	extra := t.TempDir()
	if err := os.WriteFile(filepath.Join(extra, "2026-11-04T06-00-00Z_audit_logs.csv"), []byte(
		"Timestamp,Event Id,Event Category,Event Type,Ticket Ref\n"+
			"2026-11-03 10:00:00,ddl-extra-1,QUERY_EXECUTIONS,Run Query,T-1\n"+
			"2026-11-04 10:00:00,ddl-extra-2,NEW/THING,Mystery,T-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		flags      []string
		byCategory bool
		lower      bool
	}{
		{"flat", nil, false, false},
		{"by_category", []string{"--partitioning.by_category=true"}, true, false},
		{"by_category_lower_case", []string{"--partitioning.by_category=true", "--parquet.lower_case_columns=true"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := []string{"--destination.url", dir, "--destination.prefix", "sigma"}
			for _, src := range []string{landing, extra} {
				r := cli(t, nil, append(append([]string{"run", "--source.url", src}, dest...), tc.flags...)...)
				if r.code != 0 {
					t.Fatalf("run over %s: exit %d\n%s", src, r.code, r.stderr)
				}
			}
			// No layout flags: the statement follows the archive's recorded shape.
			r := cli(t, nil, append([]string{"ddl", "--engine", "duckdb", "--source.url", landing}, dest...)...)
			if r.code != 0 {
				t.Fatalf("ddl: exit %d\n%s", r.code, r.stderr)
			}
			script := filepath.Join(t.TempDir(), "ddl.sql")
			if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			col := func(id string) string {
				if tc.lower {
					return `"` + strings.ToLower(id) + `"`
				}
				return `"` + id + `"`
			}
			category := col("EVENT_CATEGORY")
			if tc.byCategory {
				category = "event_category"
			}
			res := duckdb(t, runner, script,
				"SELECT CAST(event_date AS VARCHAR), count(*) FROM sigma_audit GROUP BY ALL ORDER BY ALL",
				fmt.Sprintf("SELECT CAST(event_date AS VARCHAR), coalesce(%s, ''), count(*) FROM sigma_audit GROUP BY ALL ORDER BY ALL", category),
				fmt.Sprintf("SELECT %s, CAST(event_date AS VARCHAR), %s FROM sigma_audit WHERE %s IS NOT NULL ORDER BY 1", col("EVENT_ID"), category, col("TICKET_REF")),
				"SELECT column_name, column_type FROM (DESCRIBE sigma_audit)",
			)
			perDay, perPartition := committedCounts(t, dir)

			got := map[string]int64{}
			for _, row := range res[0].Rows {
				got[row[0].(string)] = int64(row[1].(float64))
			}
			if len(got) != len(perDay) {
				t.Errorf("view has %d days, the commit log %d: %v vs %v", len(got), len(perDay), got, perDay)
			}
			for d, n := range perDay {
				if got[d] != n {
					t.Errorf("day %s: view counts %d rows, the commit log %d", d, got[d], n)
				}
			}

			gotCat := map[string]int64{}
			for _, row := range res[1].Rows {
				gotCat[row[0].(string)+"/"+row[1].(string)] += int64(row[2].(float64))
			}
			if tc.byCategory {
				// Each (day, category) is a partition of the commit log; the
				// view reads its value unescaped (NEW%2FTHING -> NEW/THING).
				if len(gotCat) != len(perPartition) {
					t.Errorf("view has %d (day, category) groups, the commit log %d partitions", len(gotCat), len(perPartition))
				}
				for p, n := range perPartition {
					d, _ := archive.PartitionDate(p)
					_, cat, _ := strings.Cut(p, "/"+archive.CategoryKey+"=")
					cat = strings.ReplaceAll(cat, "%2F", "/")
					if cat == archive.DefaultPartitionValue {
						cat = ""
					}
					if gotCat[d+"/"+cat] != n {
						t.Errorf("partition %s: view counts %d rows, the commit log %d", p, gotCat[d+"/"+cat], n)
					}
				}
			} else {
				// One partition per day: the categories are the generator's.
				perCat := map[string]int64{}
				for k, n := range gotCat {
					_, cat, _ := strings.Cut(k, "/")
					perCat[cat] += n
				}
				for cat, n := range truth.Categories {
					want := int64(n)
					if cat == "QUERY_EXECUTIONS" {
						want++ // ddl-extra-1
					}
					if perCat[cat] != want {
						t.Errorf("category %s: view counts %d rows, want %d", cat, perCat[cat], want)
					}
				}
				if perCat["NEW/THING"] != 1 {
					t.Errorf("category NEW/THING: view counts %d rows, want 1", perCat["NEW/THING"])
				}
			}

			wantTickets := [][]any{{"ddl-extra-1", "2026-11-03", "QUERY_EXECUTIONS"}, {"ddl-extra-2", "2026-11-04", "NEW/THING"}}
			if fmt.Sprint(res[2].Rows) != fmt.Sprint(wantTickets) {
				t.Errorf("rows with a ticket ref = %v, want %v", res[2].Rows, wantTickets)
			}

			types := map[string]string{}
			for _, row := range res[3].Rows {
				types[row[0].(string)] = row[1].(string)
			}
			name := func(id string) string { return strings.Trim(col(id), `"`) }
			for c, want := range map[string]string{
				name("TIMESTAMP"): "TIMESTAMP WITH TIME ZONE", name("ROWS_RETURNED"): "BIGINT", name("IS_MFA_USED"): "BOOLEAN",
				name("RESPONSE_SECONDS"): "DOUBLE", name("TICKET_REF"): "VARCHAR", "event_date": "DATE",
			} {
				if types[c] != want {
					t.Errorf("view column %s is %q, want %s (columns: %v)", c, types[c], want, types)
				}
			}
			if tc.byCategory && types["event_category"] != "VARCHAR" {
				t.Errorf("view has no event_category partition column: %v", types)
			}

			// The hand-written DuckDB queries of the README and docs read this
			// layout too: every row, nothing but data files.
			var total int64
			for _, n := range perDay {
				total += n
			}
			for _, g := range documentedGlobs(t) {
				q := fmt.Sprintf("SELECT count(*) FROM read_parquet('%s/sigma/%s', hive_partitioning = true)", dir, g.glob)
				if got := duckdb(t, runner, script, q)[0].Rows[0][0].(float64); int64(got) != total {
					t.Errorf("%s's glob %s reads %d rows of this layout, the commit log holds %d", g.doc, g.glob, int64(got), total)
				}
			}
		})
	}
}

type documentedGlob struct{ doc, glob string }

// documentedGlobs are the globs of the read_parquet('out/sigma-audit/...')
// examples in the README and docs/output.md; there must be one.
func documentedGlobs(t *testing.T) []documentedGlob {
	t.Helper()
	const marker = "read_parquet('out/sigma-audit/"
	var globs []documentedGlob
	for _, doc := range []string{"../README.md", "../docs/output.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for rest := string(data); ; {
			_, after, ok := strings.Cut(rest, marker)
			if !ok {
				break
			}
			glob, _, _ := strings.Cut(after, "'")
			globs = append(globs, documentedGlob{doc: doc, glob: glob})
			rest = after
		}
	}
	if len(globs) == 0 {
		t.Fatalf("no %s...') example in the README or docs/output.md", marker)
	}
	return globs
}
