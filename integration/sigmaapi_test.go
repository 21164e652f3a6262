package integration

// The sigma-api source under crashes: the audit log of a landing directory
// served as a workbook element by the contract's test server (in this
// process), pulled by real processes of the binary that SIGKILL themselves
// at each phase of the commit protocol, or are killed at random and
// repaired by two runs at once. The archive ends exact, as from exports.

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source/sigmaapi"
	"github.com/auditexport/auditexport/exporter/source/sigmaapi/sigmatest"
	"github.com/auditexport/auditexport/schema"
)

const (
	sigmaClientID     = "integration-client"
	sigmaClientSecret = "integration-secret-never-shown"
)

// sigmaEnv is the environment a pulling process gets: the API client's
// credentials, which come from nowhere else.
var sigmaEnv = []string{sigmaapi.EnvClientID + "=" + sigmaClientID, sigmaapi.EnvClientSecret + "=" + sigmaClientSecret}

// sigmaElement serves every row of data's export files, in file order,
// duplicates included, as one workbook element; its time column renders
// as a typed column's would (UTC).
func sigmaElement(t *testing.T, data landingData) *sigmatest.Server {
	t.Helper()
	var header []string
	var rows [][]string
	for _, name := range data.truth.Files {
		f, err := os.Open(filepath.Join(data.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(name, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		recs, err := csv.NewReader(r).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		header = recs[0]
		ts := slices.Index(header, "Timestamp")
		for _, rec := range recs[1:] {
			at, err := schema.ParseTimestamp(rec[ts], time.UTC)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rec[ts] = at.UTC().Format("2006-01-02 15:04:05.999999")
			rows = append(rows, rec)
		}
	}
	srv := sigmatest.New(sigmatest.Options{
		ClientID: sigmaClientID, ClientSecret: sigmaClientSecret,
		WorkbookID: "wb", ElementID: "el", ControlID: sigmaapi.DefaultControlID,
		Header: header, Rows: rows, TimeColumn: "Timestamp",
		MaxRows: 700, // below a day's rows: windows are read in chunks
	})
	t.Cleanup(srv.Close)
	return srv
}

// sigmaArgs backfills 2026-11-01..03 from srv into prefix of d.
func sigmaArgs(t *testing.T, srv *sigmatest.Server, d archiveDest, prefix string) []string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"backfill", "--from", "2026-11-01", "--to", "2026-11-03",
		"--source.kind", "sigma-api", "--source.sigma_api.base_url", srv.URL,
		"--source.sigma_api.workbook_id", "wb", "--source.sigma_api.element_id", "el",
		"--source.sigma_api.row_limit", "700", "--source.sigma_api.poll_interval", "10ms",
		"--source.sigma_api.requests_per_minute", "400",
		"--destination.url", d.url, "--destination.prefix", prefix, "--run.work_dir", work, "--log.format", "json"}
}

// TestSigmaAPICrashAtEachPhase: a pull SIGKILLed at each phase leaves
// readers a clean view; the next pull makes the archive exact, and one
// more writes nothing.
func TestSigmaAPICrashAtEachPhase(t *testing.T) {
	data := smallLanding(t)
	srv := sigmaElement(t, data)
	for _, kind := range destKinds {
		for _, phase := range crashPhases {
			t.Run(kind+"/"+phase, func(t *testing.T) {
				d := newDest(t, kind)
				const prefix = "sigma"
				args := sigmaArgs(t, srv, d, prefix)
				r := startCLI(t, append([]string{"AUDITEXPORT_TEST_CRASH_AT=" + phase}, sigmaEnv...), args...).wait(t)
				if !r.killed {
					t.Fatalf("with AUDITEXPORT_TEST_CRASH_AT=%s the pull must die by SIGKILL; %s", phase, r)
				}
				mid := readArchive(t, d.url, prefix)
				checkReaderView(t, mid)
				r = mustRun(t, sigmaEnv, args...)
				assertExact(t, d, prefix, data, exactOptions{debris: mid.staging})
				if s := summaryOf(t, mustRun(t, sigmaEnv, args...)); s.RowsWritten != 0 {
					t.Errorf("a pull after the repair wrote %d rows again", s.RowsWritten)
				}
				if strings.Contains(r.stdout+r.stderr, sigmaClientSecret) {
					t.Errorf("the output holds the client secret")
				}
			})
		}
	}
}

// TestSigmaAPIRandomKill: a pull killed at a random moment, then two
// pulls at once to repair it: the archive is exact.
func TestSigmaAPIRandomKill(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (replay: AUDITEXPORT_TEST_SEED=%d go test -run TestSigmaAPIRandomKill ./integration/)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x51a))
	data := smallLanding(t)
	srv := sigmaElement(t, data)
	d := newDest(t, "local")
	normal := mustRun(t, sigmaEnv, sigmaArgs(t, srv, d, "normal")...).elapsed
	assertExact(t, d, "normal", data)
	for i := range 2 {
		delay := time.Duration(rng.Int64N(int64(normal)))
		t.Run(destKinds[i%len(destKinds)], func(t *testing.T) {
			d := newDest(t, destKinds[i%len(destKinds)])
			args := sigmaArgs(t, srv, d, "random")
			r := startCLI(t, sigmaEnv, args...).killAfter(t, delay)
			t.Logf("seed %d: killed after %s: %v", seed, delay, r.killed)
			mid := readArchive(t, d.url, "random")
			checkReaderView(t, mid)
			concurrentRecovery(t, 2, sigmaEnv, args)
			assertExact(t, d, "random", data, exactOptions{debris: mid.staging})
		})
	}
}
