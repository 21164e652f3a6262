package sigmatest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDownloadPolls(t *testing.T) {
	s := start(t, numbered(2), func(o *Options) { o.Polls = 3 })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	for i := range 3 {
		r := download(t, s, tok, q)
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("poll %d: status %d body %q, want 204 and no body", i+1, r.status, r.body)
		}
	}
	for i := range 2 { // the file stays available
		r := download(t, s, tok, q)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("download %d after the polls: status %d, Content-Type %q, want 200 text/csv", i+1, r.status, r.header.Get("Content-Type"))
		}
	}
	if st := s.Stats(); st.Polls204 != 3 || st.Downloads != 2 || st.Exports != 1 || st.Tokens != 1 || st.Requests != 7 {
		t.Errorf("Stats() = %+v, want Polls204 3, Downloads 2, Exports 1, Tokens 1, Requests 7", st)
	}
}

func TestDownloadReadyAtOnce(t *testing.T) {
	s := start(t, numbered(2), func(o *Options) { o.Polls = -1 })
	tok := token(t, s).AccessToken
	if r := download(t, s, tok, export(t, s, tok, body("csv", ""))); r.status != http.StatusOK {
		t.Errorf("first download with Polls -1: status %d, want 200", r.status)
	}
}

func TestDownloadPendingAsJSON(t *testing.T) {
	s := start(t, numbered(2), func(o *Options) { o.PendingAsJSON = true })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("jsonl", ""))
	r := download(t, s, tok, q)
	var st struct{ Status int }
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || json.Unmarshal(r.body, &st) != nil || st.Status != 204 {
		t.Fatalf("pending download: status %d, Content-Type %q, body %s; want 200 application/json with status 204",
			r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := download(t, s, tok, q); r.status != http.StatusOK || r.header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("ready download: status %d, Content-Type %q, want 200 application/x-ndjson", r.status, r.header.Get("Content-Type"))
	}
}

func TestDownloadUnknownOrExpiredQuery(t *testing.T) {
	s := start(t, numbered(2), nil)
	tok := token(t, s).AccessToken
	r := download(t, s, tok, "q-unknown")
	if r.status != http.StatusNotFound {
		t.Fatalf("unknown query: status %d, want 404", r.status)
	}
	if e := r.errorBody(t); !strings.Contains(e.Message, "q-unknown") {
		t.Errorf("404 message %q does not name the query", e.Message)
	}
	q := export(t, s, tok, body("csv", ""))
	s.ExpireQueries()
	if r := download(t, s, tok, q); r.status != http.StatusNotFound {
		t.Errorf("expired query: status %d, want 404", r.status)
	}
}

func TestFail429Next(t *testing.T) {
	s := start(t, numbered(2), func(o *Options) { o.Polls = -1 })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	s.Fail429Next(2, 1500*time.Millisecond)
	for name, r := range map[string]response{
		"export":   exportRaw(t, s, tok, testWorkbook, body("csv", "")),
		"download": download(t, s, tok, q),
	} {
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
			t.Errorf("%s: status %d Retry-After %q, want 429 and 2", name, r.status, r.header.Get("Retry-After"))
			continue
		}
		r.errorBody(t)
	}
	if r := download(t, s, tok, q); r.status != http.StatusOK {
		t.Errorf("download after the 429s: status %d, want 200", r.status)
	}
	if st := s.Stats(); st.Status429 != 2 || st.Exports != 1 || st.Downloads != 1 {
		t.Errorf("Stats() = %+v, want Status429 2, Exports 1, Downloads 1", st)
	}
}

func TestRateLimit(t *testing.T) {
	c := newClock()
	s := start(t, numbered(2), func(o *Options) { o.RateLimit = 3; o.Now = c.Now; o.Polls = -1 })
	tok := token(t, s).AccessToken
	var qs []string
	for range 3 {
		qs = append(qs, export(t, s, tok, body("csv", "")))
		c.Advance(10 * time.Second)
	}
	// Exports at 0, 10 and 20 s; at 40 s the first leaves the window in 20 s.
	c.Advance(10 * time.Second)
	r := exportRaw(t, s, tok, testWorkbook, body("csv", ""))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "20" {
		t.Fatalf("fourth export in a minute: status %d Retry-After %q, want 429 and 20", r.status, r.header.Get("Retry-After"))
	}
	if e := r.errorBody(t); !strings.Contains(e.Message, "3 requests per minute") {
		t.Errorf("429 message %q does not state the limit", e.Message)
	}
	// The download endpoint has its own window.
	for _, q := range qs {
		if r := download(t, s, tok, q); r.status != http.StatusOK {
			t.Errorf("download while exports are limited: status %d, want 200", r.status)
		}
	}
	if r := download(t, s, tok, qs[0]); r.status != http.StatusTooManyRequests {
		t.Errorf("fourth download in a minute: status %d, want 429", r.status)
	}
	c.Advance(19 * time.Second) // 59 s: the first export is still in the window
	if r := exportRaw(t, s, tok, testWorkbook, body("csv", "")); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Errorf("export at 59 s: status %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
	}
	c.Advance(time.Second)
	export(t, s, tok, body("csv", ""))
	if st := s.Stats(); st.MaxPerMinute != 5 || st.Status429 != 3 {
		t.Errorf("Stats() = %+v, want MaxPerMinute 5 (429s included) and Status429 3", st)
	}
}

func TestRateLimitDefault(t *testing.T) {
	s := start(t, numbered(1), nil)
	tok := token(t, s).AccessToken
	for i := range DefaultRateLimit {
		if r := exportRaw(t, s, tok, testWorkbook, body("csv", "")); r.status != http.StatusOK {
			t.Fatalf("export %d: status %d, want 200", i+1, r.status)
		}
	}
	if r := exportRaw(t, s, tok, testWorkbook, body("csv", "")); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("export %d: status %d Retry-After %q, want 429 with a Retry-After", DefaultRateLimit+1, r.status, r.header.Get("Retry-After"))
	}
}

func TestFail500Next(t *testing.T) {
	s := start(t, numbered(2), func(o *Options) { o.Polls = -1 })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	s.Fail500Next(1)
	r := download(t, s, tok, q)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("download with a 500 armed: status %d, want 500", r.status)
	}
	r.errorBody(t)
	if r := download(t, s, tok, q); r.status != http.StatusOK {
		t.Errorf("next download: status %d, want 200", r.status)
	}
	if st := s.Stats(); st.Status5xx != 1 || st.Downloads != 1 {
		t.Errorf("Stats() = %+v, want Status5xx 1, Downloads 1", st)
	}
}

// readCut downloads q and returns what the body yielded and the read error.
func readCut(t *testing.T, s *Server, tok, q string) ([]byte, error) {
	t.Helper()
	resp, err := http.DefaultClient.Do(downloadReq(t, s, tok, q))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, want 200 before the cut", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func TestCutNextDownload(t *testing.T) {
	s := start(t, numbered(5000), func(o *Options) { o.Polls = -1 })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	whole := fetch(t, s, tok, q)

	s.CutNextDownload(100_000)
	got, err := readCut(t, s, tok, q)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a cut body: error %v, want an unexpected EOF", err)
	}
	if len(got) != 100_000 || !bytes.Equal(got, whole[:100_000]) {
		t.Errorf("cut body: %d bytes, want the file's first 100000", len(got))
	}

	// A cut beyond the end still ends the body without its end marker.
	s.CutNextDownload(len(whole) + 10)
	got, err = readCut(t, s, tok, q)
	if err == nil {
		t.Errorf("reading a body cut after its last byte: no error, want one")
	}
	if !bytes.Equal(got, whole) {
		t.Errorf("body cut after its last byte: %d bytes, want the whole %d", len(got), len(whole))
	}

	// The cut is consumed: the next download is whole.
	if again := fetch(t, s, tok, q); !bytes.Equal(again, whole) {
		t.Errorf("download after the cuts: %d bytes, want %d", len(again), len(whole))
	}
	if st := s.Stats(); st.Cuts != 2 || st.Downloads != 4 {
		t.Errorf("Stats() = %+v, want Cuts 2 and Downloads 4", st)
	}
}

// awkwardRows returns n rows whose values need CSV quoting and JSON escaping, with empty values.
func awkwardRows(n int) [][]string {
	notes := []string{"plain", `a "quoted" word`, "comma, inside", "line\nbreak", "crlf\r\nend", "ünïcödé ✓", "", " lead space", "tab\there", "ctl\x01"}
	rows := make([][]string, n)
	start := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		email := fmt.Sprintf("user%d@example.com", i%97)
		if i%13 == 0 {
			email = ""
		}
		rows[i] = []string{start.Add(time.Duration(i) * time.Second).Format("2006-01-02 15:04:05.000000"),
			fmt.Sprintf("evt-%06d", i), email, notes[i%len(notes)]}
	}
	return rows
}

func TestCSVDownload50000Rows(t *testing.T) {
	rows := awkwardRows(50_000)
	s := start(t, rows, nil)
	tok := token(t, s).AccessToken
	file := fetch(t, s, tok, export(t, s, tok, body("csv", "min:2026-11-17,max:2026-11-17")))
	recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
	if err != nil {
		t.Fatalf("parsing the CSV file: %v", err)
	}
	if !reflect.DeepEqual(recs[0], testHeader) {
		t.Errorf("header = %q, want %q", recs[0], testHeader)
	}
	// encoding/csv reads a quoted \r\n as \n.
	want := make([][]string, len(rows))
	for i, r := range rows {
		want[i] = []string{r[0], r[1], r[2], strings.ReplaceAll(r[3], "\r\n", "\n")}
	}
	if len(recs)-1 != len(want) {
		t.Fatalf("the file has %d rows, want %d", len(recs)-1, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(recs[i+1], want[i]) {
			t.Fatalf("row %d = %q, want %q", i, recs[i+1], want[i])
		}
	}
}

func TestJSONLinesAndJSONDownloads(t *testing.T) {
	rows := awkwardRows(40)
	s := start(t, rows, nil)
	tok := token(t, s).AccessToken
	// want is each row as an object, an empty value as nil.
	want := make([]map[string]any, len(rows))
	for i, r := range rows {
		want[i] = map[string]any{}
		for j, h := range testHeader {
			if r[j] == "" {
				want[i][h] = nil
			} else {
				want[i][h] = r[j]
			}
		}
	}

	file := fetch(t, s, tok, export(t, s, tok, body("jsonl", "")))
	sc := bufio.NewScanner(bytes.NewReader(file))
	var got []map[string]any
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d is not a JSON object: %v: %s", len(got)+1, err, sc.Bytes())
		}
		got = append(got, obj)
		if keys := objectKeys(t, sc.Bytes()); !reflect.DeepEqual(keys, testHeader) {
			t.Fatalf("line %d keys %q, want the header in order %q", len(got), keys, testHeader)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jsonl objects differ from the rows:\n got %v\nwant %v", got, want)
	}
	if bytes.Count(file, []byte("\n")) != len(rows) {
		t.Errorf("jsonl file has %d lines, want %d", bytes.Count(file, []byte("\n")), len(rows))
	}

	var arr []map[string]any
	if err := json.Unmarshal(fetch(t, s, tok, export(t, s, tok, body("json", ""))), &arr); err != nil {
		t.Fatalf("json file is not a JSON array: %v", err)
	}
	if !reflect.DeepEqual(arr, want) {
		t.Errorf("json objects differ from the rows")
	}
	var empty []map[string]any
	if err := json.Unmarshal(fetch(t, s, tok, export(t, s, tok, body("json", "min:2030-01-01"))), &empty); err != nil || len(empty) != 0 {
		t.Errorf("json file of no rows = %v (%v), want an empty array", empty, err)
	}
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestWrongMethodAndPath(t *testing.T) {
	s := start(t, nil, nil)
	tok := token(t, s).AccessToken
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v2/auth/token", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v2/workbooks/" + testWorkbook + "/export", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v2/query/q-1/download", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/workbooks/" + testWorkbook + "/export", http.StatusNotFound},
		{http.MethodPost, "/workbooks/" + testWorkbook + "/export", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tt.method, s.URL+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r := do(t, req)
		if r.status != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, r.status, tt.status)
			continue
		}
		r.errorBody(t)
	}
}

// TestFaultsWhileRequestsInFlight arms faults from another goroutine while downloads run (run with -race).
func TestFaultsWhileRequestsInFlight(t *testing.T) {
	s := start(t, numbered(2000), func(o *Options) { o.Polls = -1 })
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for range 40 {
		wg.Go(func() {
			resp, err := http.DefaultClient.Do(downloadReq(t, s, tok, q))
			if err != nil {
				t.Errorf("download: %v", err)
				return
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body) // a cut body errs here, as it should
			statuses <- resp.StatusCode
		})
	}
	s.Fail429Next(3, time.Second)
	s.Fail500Next(2)
	s.CutNextDownload(10)
	s.SetRows(numbered(10))
	_ = s.Stats()
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	if counts[http.StatusOK]+counts[http.StatusTooManyRequests]+counts[http.StatusInternalServerError] != 40 ||
		counts[http.StatusTooManyRequests] > 3 || counts[http.StatusInternalServerError] > 2 {
		t.Errorf("statuses %v: want 40 answers, at most three 429s and two 500s", counts)
	}
	if st := s.Stats(); st.Downloads != counts[http.StatusOK] {
		t.Errorf("Stats().Downloads = %d, want the %d 200s seen", st.Downloads, counts[http.StatusOK])
	}
}
