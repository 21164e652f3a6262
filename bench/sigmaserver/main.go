// Command sigmaserver serves Sigma exports as one workbook element through
// the Sigma REST API test server (exporter/source/sigmaapi/sigmatest), in a
// process of its own, so that bench/run.sh --sigma-api measures only the
// puller. It prints its base URL on stdout once it listens, and its request
// counters as JSON to --stats when it gets SIGUSR1 (and goes on serving) and
// when it gets SIGTERM or SIGINT (and stops).
//
//	sigmaserver --rows export.csv[.gz] --client-id ID --client-secret SECRET --stats stats.json
package main

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/auditexport/auditexport/exporter/source/sigmaapi/sigmatest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sigmaserver:", err)
		os.Exit(1)
	}
}

func run() error {
	rowsFile := flag.String("rows", "", "a Sigma export (CSV or CSV.gz) whose rows the element holds; its Timestamp column in UTC")
	id := flag.String("client-id", "", "the API client ID the server accepts")
	secret := flag.String("client-secret", "", "the API client secret the server accepts")
	maxRows := flag.Int("max-rows", 1_000_000, "the row cap of one export")
	stats := flag.String("stats", "", "where to write the request counters on SIGTERM")
	flag.Parse()
	if *rowsFile == "" || *id == "" || *secret == "" || *stats == "" {
		return fmt.Errorf("--rows, --client-id, --client-secret and --stats are required")
	}
	header, rows, err := load(*rowsFile)
	if err != nil {
		return err
	}
	if !slices.Contains(header, "Timestamp") {
		return fmt.Errorf("%s has no Timestamp column", *rowsFile)
	}
	srv := sigmatest.New(sigmatest.Options{
		ClientID: *id, ClientSecret: *secret,
		WorkbookID: "bench-wb", ElementID: "bench-el", ControlID: "API-Date-Filter",
		Header: header, Rows: rows, TimeColumn: "Timestamp", MaxRows: *maxRows,
	})
	defer srv.Close()
	// Listening for the signals before saying where it serves: a signal
	// sent as soon as the URL is read must not kill it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	fmt.Println(srv.URL)
	for s := range sig {
		data, err := json.Marshal(srv.Stats())
		if err != nil {
			return err
		}
		// Written whole, then renamed: a reader never sees half of it.
		if err := os.WriteFile(*stats+".tmp", data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(*stats+".tmp", *stats); err != nil {
			return err
		}
		if s != syscall.SIGUSR1 {
			return nil
		}
	}
	return nil
}

// load reads an export's header and rows.
func load(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, nil, err
		}
		r = zr
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var rows [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return header, rows, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, rec)
	}
}
