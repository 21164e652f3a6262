package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/exporter/generate"
	"github.com/auditexport/auditexport/exporter/source/sigmaapi"
	"github.com/auditexport/auditexport/exporter/source/sigmaapi/sigmatest"
	"github.com/auditexport/auditexport/schema"
)

const (
	e2eClientID     = "e2e-client-id-5f3a"
	e2eClientSecret = "e2e-secret-9c1d-never-print"
)

// landedRows reads every export file under dir (CSV, CSV.gz) into one
// header and the rows of all files in file order, duplicates included: the
// audit log as Sigma's element would hold it. The element's time column is
// typed, so its export renders every time one way (UTC, microseconds);
// rows whose time does not parse are left out, as the element holds none.
func landedRows(t *testing.T, dir string) ([]string, [][]string) {
	t.Helper()
	var header []string
	var rows [][]string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			r = zr
		}
		recs, err := csv.NewReader(r).ReadAll()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if header == nil {
			header = recs[0]
		} else if !slices.Equal(header, recs[0]) {
			return fmt.Errorf("%s: another header", p)
		}
		ts := slices.Index(header, "Timestamp")
		for _, rec := range recs[1:] {
			at, err := schema.ParseTimestamp(rec[ts], time.UTC)
			if err != nil {
				continue
			}
			rec[ts] = at.UTC().Format("2006-01-02 15:04:05.999999")
			rows = append(rows, rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return header, rows
}

// archiveRows is every row of every data file under dir, rendered, sorted,
// per partition: two archives of the same events compare equal whatever
// their files, run IDs and row order.
func archiveRows(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") || strings.Contains(p, "_auditexport") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return err
		}
		part, _ := filepath.Rel(dir, filepath.Dir(p))
		for _, rg := range f.RowGroups() {
			rr := rg.Rows()
			buf := make([]parquet.Row, 64)
			for {
				n, err := rr.ReadRows(buf)
				for _, row := range buf[:n] {
					out[part] = append(out[part], fmt.Sprint(row))
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					rr.Close()
					return err
				}
			}
			rr.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range out {
		slices.Sort(rows)
	}
	return out
}

// sigmaServer serves rows as the element of a Sigma workbook.
func sigmaServer(t *testing.T, header []string, rows [][]string, mod func(*sigmatest.Options)) *sigmatest.Server {
	t.Helper()
	o := sigmatest.Options{
		ClientID: e2eClientID, ClientSecret: e2eClientSecret,
		WorkbookID: "wb-audit", ElementID: "el-audit", ControlID: sigmaapi.DefaultControlID,
		Header: header, Rows: rows, TimeColumn: "Timestamp",
	}
	if mod != nil {
		mod(&o)
	}
	srv := sigmatest.New(o)
	t.Cleanup(srv.Close)
	return srv
}

// sigmaConfig writes a config pulling from srv into out.
func sigmaConfig(t *testing.T, dir, name, url, out, extra string) string {
	t.Helper()
	return writeFile(t, dir, name, fmt.Sprintf(`source:
  kind: sigma-api
  sigma_api:
    base_url: %s
    workbook_id: wb-audit
    element_id: el-audit
    poll_interval: 10ms
    retry_for: 30s
    requests_per_minute: 400
%sdestination:
  url: %s
`, url, extra, out))
}

// The same audit log pulled through Sigma's API and landed as export files
// makes the same archive, event for event; a rerun adds nothing; a run
// whose token expires half way succeeds; verify --source agrees; neither
// the client ID nor the secret appears in any output.
func TestSigmaAPIMatchesExports(t *testing.T) {
	dir := t.TempDir()
	land, outA, outB := filepath.Join(dir, "land"), filepath.Join(dir, "exports"), filepath.Join(dir, "api")
	start := time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly)
	code, stdout, stderr := cli(t, "generate", "--out", land, "--start", start, "--days", "5",
		"--rows-per-day", "600", "--exports", "3", "--format", "csv.gz",
		"--duplicate-rate", "0.05", "--late-rate", "0.05", "--seed", "7")
	if code != exitOK {
		t.Fatalf("generate: %d %s", code, stderr)
	}
	var truth generate.Truth
	if err := json.Unmarshal([]byte(stdout), &truth); err != nil {
		t.Fatal(err)
	}
	cfgA := writeFile(t, dir, "exports.yaml", fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\n", land, outA))
	if code, _, stderr := cli(t, "run", "--config", cfgA); code != exitOK {
		t.Fatalf("run over the exports: %d %s", code, stderr)
	}

	header, rows := landedRows(t, land)
	// A row cap below a day's rows: every window is read in chunks.
	srv := sigmaServer(t, header, rows, func(o *sigmatest.Options) { o.MaxRows = 1000; o.Polls = 2 })
	cfgB := sigmaConfig(t, dir, "api.yaml", srv.URL, outB, "    row_limit: 1000\n")
	t.Setenv(sigmaapi.EnvClientID, e2eClientID)
	t.Setenv(sigmaapi.EnvClientSecret, e2eClientSecret)
	var outputs []string
	today := time.Now().UTC().Format(time.DateOnly)
	code, stdout, stderr = cli(t, "backfill", "--config", cfgB, "--from", start, "--to", today, "--log.level", "debug")
	outputs = append(outputs, stdout, stderr)
	if code != exitOK {
		t.Fatalf("run over the API: %d %s", code, stderr)
	}
	s := summaryLine(t, stdout)
	if s.RowsRead != int64(len(rows)) || s.RowsWritten != int64(truth.Distinct) {
		t.Errorf("API run read %d and wrote %d; the element holds %d rows of %d distinct events", s.RowsRead, s.RowsWritten, len(rows), truth.Distinct)
	}
	a, b := archiveRows(t, outA), archiveRows(t, outB)
	if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("the archives differ:\nexports %d partitions\napi     %d partitions", len(a), len(b))
	}
	if st := srv.Stats(); st.Exports <= 6 || st.Status429 != 0 {
		t.Errorf("server stats %+v: want chunked exports of every window and no 429", st)
	}

	// A rerun whose token expires after its first exports commits nothing
	// new and succeeds.
	before := srv.Stats()
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				if srv.Stats().Exports >= before.Exports+3 {
					srv.ExpireTokens()
					return
				}
			}
		}
	}()
	code, stdout, stderr = cli(t, "run", "--config", cfgB)
	close(stop)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK {
		t.Fatalf("rerun: %d %s", code, stderr)
	}
	if s := summaryLine(t, stdout); s.RowsWritten != 0 || s.RowsRead == 0 {
		t.Errorf("rerun read %d, wrote %d; want the windows read again and nothing written", s.RowsRead, s.RowsWritten)
	}
	if after := srv.Stats(); after.Status401 == 0 || after.Tokens < before.Tokens+2 {
		t.Errorf("server stats %+v (before the rerun %+v): want a 401 after the tokens expired, and a new token", after, before)
	}

	// plan names the windows it would ask for, one a day, and writes nothing.
	code, stdout, stderr = cli(t, "plan", "--config", cfgB, "--from", start, "--to", start)
	outputs = append(outputs, stdout, stderr)
	var plan struct {
		Progress struct {
			Inputs []struct {
				Key  string `json:"key"`
				Rows int64  `json:"rows"`
			} `json:"inputs"`
		} `json:"progress"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil || len(plan.Progress.Inputs) != 3 ||
		plan.Progress.Inputs[1].Key != "sigma-api/wb-audit/el-audit/"+start || plan.Progress.Inputs[1].Rows == 0 {
		t.Fatalf("plan of %s: exit %d, want the day and one either side as windows:\n%s\n%s", start, code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "verify", "--config", cfgB, "--source", "--from", start, "--to", today)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK {
		t.Fatalf("verify --source: %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "check", "--config", cfgB)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, "token") || !strings.Contains(stdout, "header") {
		t.Fatalf("check: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, o := range outputs {
		if strings.Contains(o, e2eClientSecret) || strings.Contains(o, e2eClientID) {
			t.Fatalf("output holds the API client's ID or secret:\n%s", o)
		}
	}
}

// Wrong credentials, a wrong workbook and a missing secret fail with the
// setting or variable to fix, and never echo the secret.
func TestSigmaAPIErrors(t *testing.T) {
	dir := t.TempDir()
	header := []string{"Timestamp", "Event Id", "Event Category", "Event Type"}
	rows := [][]string{{time.Now().UTC().Format("2006-01-02 15:04:05"), "e1", "ACCESS_SIGMA", "Login"}}
	srv := sigmaServer(t, header, rows, nil)
	cfg := sigmaConfig(t, dir, "api.yaml", srv.URL, filepath.Join(dir, "out"), "")

	t.Setenv(sigmaapi.EnvClientID, e2eClientID)
	t.Setenv(sigmaapi.EnvClientSecret, "")
	code, stdout, stderr := cli(t, "run", "--config", cfg)
	if code == exitOK || !strings.Contains(stdout+stderr, sigmaapi.EnvClientSecret) {
		t.Errorf("no secret: exit %d\n%s\n%s", code, stdout, stderr)
	}

	t.Setenv(sigmaapi.EnvClientSecret, "wrong-"+e2eClientSecret)
	for _, args := range [][]string{{"run", "--config", cfg}, {"check", "--config", cfg}} {
		code, stdout, stderr = cli(t, args...)
		if code == exitOK || !strings.Contains(stdout+stderr, sigmaapi.EnvClientSecret) || strings.Contains(stdout+stderr, e2eClientSecret) {
			t.Errorf("%s with a wrong secret: exit %d\n%s\n%s", args[0], code, stdout, stderr)
		}
	}

	t.Setenv(sigmaapi.EnvClientSecret, e2eClientSecret)
	code, stdout, stderr = cli(t, "run", "--config", cfg, "--source.sigma_api.workbook_id", "wb-nope")
	if code == exitOK || !strings.Contains(stdout+stderr, "source.sigma_api.workbook_id") {
		t.Errorf("wrong workbook: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "check", "--config", cfg, "--source.sigma_api.control_id", "Other")
	if code == exitOK || !strings.Contains(stdout, "FAILED") || !strings.Contains(stdout+stderr, "source.sigma_api.control_id") {
		t.Errorf("check with a wrong control: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
