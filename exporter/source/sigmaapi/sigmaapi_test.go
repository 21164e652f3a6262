package sigmaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/sigmaapi/sigmatest"
)

const (
	testID     = "client-id-1234"
	testSecret = "s3cr3t-value-that-must-never-show"
)

var testHeader = []string{"Timestamp", "Event Id", "Event Category", "Event Type"}

// now is the tests' clock: 2026-11-26 06:00 UTC.
var now = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

// dayRows makes n events on each of days (YYYY-MM-DD), in time order.
func dayRows(n int, days ...string) [][]string {
	var rows [][]string
	for _, d := range days {
		start, _ := time.Parse(time.DateOnly, d)
		for i := range n {
			at := start.Add(time.Duration(i) * (24 * time.Hour) / time.Duration(n))
			rows = append(rows, []string{at.Format("2006-01-02 15:04:05"), fmt.Sprintf("%s-%06d", d, i), "QUERY_EXECUTIONS", "Run"})
		}
	}
	return rows
}

// fixture is a test server and a source pulling from it.
type fixture struct {
	t   *testing.T
	srv *sigmatest.Server
	src *Source
	cfg Config
}

func newFixture(t *testing.T, rows [][]string, so func(*sigmatest.Options), co func(*Config)) *fixture {
	t.Helper()
	o := sigmatest.Options{
		ClientID: testID, ClientSecret: testSecret,
		WorkbookID: "wb1", ElementID: "el1", ControlID: DefaultControlID,
		Header: testHeader, Rows: rows, TimeColumn: "Timestamp",
		Now: func() time.Time { return now },
	}
	if so != nil {
		so(&o)
	}
	srv := sigmatest.New(o)
	t.Cleanup(srv.Close)
	cfg := *Kind.NewConfig().(*Config)
	cfg.BaseURL, cfg.WorkbookID, cfg.ElementID = srv.URL, "wb1", "el1"
	cfg.PollInterval, cfg.RetryFor, cfg.RequestsPerMinute = 5*time.Millisecond, 20*time.Second, 6000
	if co != nil {
		co(&cfg)
	}
	if errs := Kind.Validate(&cfg, source.Deps{}); len(errs) > 0 && cfg.RequestsPerMinute <= MaxRequestsPerMinute {
		t.Fatalf("settings: %v", errs)
	}
	src, err := New(cfg, testID, testSecret, source.Deps{Now: now, Setting: func(k string) string { return "source.sigma_api." + k }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, src: src, cfg: cfg}
}

// readAll reads every input of window w and returns the Event Id of each
// row, per input key, and the first error.
func (f *fixture) readAll(w source.Window) (map[string][]string, error) {
	f.t.Helper()
	ctx := context.Background()
	ins, err := f.src.List(ctx, w)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, in := range ins {
		rd, err := f.src.Open(ctx, in, w)
		if err != nil {
			return out, err
		}
		ids := []string{}
		for {
			rec, err := rd.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rd.Close()
				return out, err
			}
			ids = append(ids, rec.Fields[slices.Index(rec.Header.Names, "Event Id")])
		}
		rd.Close()
		out[in.Key] = ids
	}
	return out, nil
}

// exportOf returns the export requests the server received for day,
// chunks in order.
func exportOf(f *fixture, day string) []sigmatest.ExportRequest {
	var out []sigmatest.ExportRequest
	for _, e := range f.srv.Exports() {
		if e.Parameters[DefaultControlID] == "min:"+day+",max:"+day {
			out = append(out, e)
		}
	}
	return out
}

// dayInput is the input of List(w) for day.
func dayInput(t *testing.T, f *fixture, w source.Window, day string) source.Input {
	t.Helper()
	ins, err := f.src.List(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		if strings.HasSuffix(in.Key, "/"+day) {
			return in
		}
	}
	t.Fatalf("no window of %s in %v", day, ins)
	return source.Input{}
}

func ids(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[1]
	}
	return out
}

// The windows of a run: one per calendar day in the control's zone, from
// the day before the window's first through the day after its last (today
// at the latest), and the 30 days Sigma keeps when its start is open.
func TestWindows(t *testing.T) {
	f := newFixture(t, nil, nil, nil)
	from := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	keys := func(w source.Window) []string {
		ins, err := f.src.List(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range ins {
			out = append(out, strings.TrimPrefix(in.Key, "sigma-api/wb1/el1/"))
		}
		return out
	}
	if got, want := keys(source.Window{From: from}), []string{"2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"}; !slices.Equal(got, want) {
		t.Errorf("open window: %v, want %v", got, want)
	}
	to := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if got, want := keys(source.Window{From: from, To: to}), []string{"2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"}; !slices.Equal(got, want) {
		t.Errorf("[11-23 06:00, 11-25 00:00): %v, want %v (midnight ends the day before; one day either side)", got, want)
	}
	if got := keys(source.Window{}); len(got) != RetentionDays+1 || got[0] != "2026-10-27" {
		t.Errorf("unbounded: %d windows from %v, want %d from 2026-10-27", len(got), got[:1], RetentionDays+1)
	}
	if len(f.src.Warnings()) != 0 {
		t.Errorf("warnings %v for windows Sigma keeps", f.src.Warnings())
	}
	keys(source.Window{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: to})
	if w := f.src.Warnings(); len(w) != 1 || !strings.Contains(w[0], "30 days") {
		t.Errorf("a window older than Sigma keeps: warnings %v", w)
	}

	ny := newFixture(t, nil, nil, func(c *Config) { c.ControlTimeZone = "America/New_York"; c.WindowDays = 2 })
	f = ny
	// 2026-11-23 03:00 UTC is 11-22 in New York; 11-26 06:00 UTC is 11-26 01:00 there.
	if got, want := keys(source.Window{From: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)}), []string{"2026-11-21..2026-11-22", "2026-11-23..2026-11-24", "2026-11-25..2026-11-26"}; !slices.Equal(got, want) {
		t.Errorf("New York, two days a window: %v, want %v", got, want)
	}
	if got := ny.srv.Exports(); len(got) != 0 {
		t.Errorf("List made %d export requests, want none", len(got))
	}
}

// Each window's export holds that day's events, in the element's order,
// asked for with the control's date range; the token is fetched once.
func TestPullDays(t *testing.T) {
	rows := dayRows(50, "2026-11-24", "2026-11-25")
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			f := newFixture(t, rows, nil, func(c *Config) { c.Format = format })
			got, err := f.readAll(source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := got["sigma-api/wb1/el1/2026-11-24"], got["sigma-api/wb1/el1/2026-11-25"]; !slices.Equal(a, ids(rows[:50])) || !slices.Equal(b, ids(rows[50:])) {
				t.Fatalf("got %d + %d rows, want each day's 50 in order", len(a), len(b))
			}
			ex := exportOf(f, "2026-11-24")
			if len(ex) != 1 || ex[0].Format != format || ex[0].ElementID != "el1" || !ex[0].RunAsynchronously || ex[0].Offset != 0 {
				t.Fatalf("export requests of 11-24 %+v, want one", ex)
			}
			if n := len(f.srv.Exports()); n != 4 {
				t.Fatalf("%d export requests, want 4 (11-23 to 11-26: the window and a day either side)", n)
			}
			if st := f.srv.Stats(); st.Tokens != 1 || st.Status429+st.Status401+st.Status5xx+st.Status4xx != 0 {
				t.Fatalf("server stats %+v: want one token and no error answer", st)
			}
		})
	}
}

// A window with more rows than the row limit is read in overlapping
// chunks: every row exactly once, in order.
func TestRowLimitChunks(t *testing.T) {
	rows := dayRows(2500, "2026-11-24")
	for _, limit := range []int{100, 1000, 2500} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			f := newFixture(t, rows, func(o *sigmatest.Options) { o.MaxRows = limit }, func(c *Config) { c.RowLimit = limit })
			got, err := f.readAll(source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if g := got["sigma-api/wb1/el1/2026-11-24"]; !slices.Equal(g, ids(rows)) {
				t.Fatalf("got %d rows, want the 2500 once each in order", len(g))
			}
			ex := exportOf(f, "2026-11-24")
			if len(ex) < 2 || ex[1].Offset != limit-overlapRows(limit) {
				t.Fatalf("%d exports of the day, the second at offset %d; want chunks overlapping by %d", len(ex), ex[min(1, len(ex)-1)].Offset, overlapRows(limit))
			}
		})
	}
}

// A row that moves between two chunks fails the window loudly instead of
// going missing.
func TestRowsMovedBetweenChunks(t *testing.T) {
	rows := dayRows(300, "2026-11-24")
	f := newFixture(t, rows, func(o *sigmatest.Options) { o.MaxRows = 100 }, func(c *Config) { c.RowLimit = 100 })
	ctx := context.Background()
	in := dayInput(t, f, source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}, "2026-11-24")
	rd, err := f.src.Open(ctx, in, source.Window{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for range 50 {
		if _, err := rd.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// An unsorted element: a row appears in the middle of what was read.
	moved := append(append(slices.Clone(rows[:20]), []string{"2026-11-24 00:00:01", "late", "QUERY_EXECUTIONS", "Run"}), rows[20:]...)
	f.srv.SetRows(moved)
	for {
		_, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			t.Fatal("the window was read to the end although its rows moved")
		}
		if err != nil {
			if !errors.Is(err, ErrRowsMoved) || !strings.Contains(err.Error(), "2026-11-24") {
				t.Fatalf("err %v, want ErrRowsMoved naming the window", err)
			}
			return
		}
	}
}

// 429 with Retry-After, a 500 on a download and an expired token are
// absorbed: the pull succeeds, with the new token fetched once.
func TestTransientAnswers(t *testing.T) {
	rows := dayRows(20, "2026-11-24", "2026-11-25")
	f := newFixture(t, rows, func(o *sigmatest.Options) { o.Polls = 2 }, nil)
	f.srv.Fail429Next(2, time.Second)
	f.srv.Fail500Next(1)
	w := source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	got, err := f.readAll(w)
	if err != nil || len(got["sigma-api/wb1/el1/2026-11-24"]) != 20 {
		t.Fatalf("read %v, %v; want the day's 20 rows", got, err)
	}
	f.srv.ExpireTokens()
	w = source.Window{From: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	if got, err := f.readAll(w); err != nil || len(got["sigma-api/wb1/el1/2026-11-25"]) != 20 {
		t.Fatalf("after the token expired: %v, %v", got, err)
	}
	st := f.srv.Stats()
	if st.Status429 != 2 || st.Status5xx != 1 || st.Status401 != 1 || st.Tokens != 2 || st.Polls204 < 2 {
		t.Fatalf("server stats %+v: want 2 x 429, 1 x 500, 1 x 401, 2 tokens, polls", st)
	}
	if f.src.Requests() < int64(st.Requests) {
		t.Errorf("the source counted %d requests, the server %d", f.src.Requests(), st.Requests)
	}
}

// A download cut short is a failed read, never fewer rows.
func TestCutDownloadFails(t *testing.T) {
	rows := dayRows(5000, "2026-11-24")
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			f := newFixture(t, rows, nil, func(c *Config) { c.Format = format })
			f.srv.CutNextDownload(100_000)
			got, err := f.readAll(source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
			if err == nil {
				t.Fatalf("a cut download read as %d rows with no error", len(got["sigma-api/wb1/el1/2026-11-24"]))
			}
			if !strings.Contains(err.Error(), "export of min:") {
				t.Errorf("err %v does not name the window", err)
			}
		})
	}
}

// Answers that will not change name the setting to fix, and the secret
// appears in no error.
func TestPermanentErrorsNameTheSetting(t *testing.T) {
	w := source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name string
		cfg  func(*Config)
		want []string
	}{
		{"workbook", func(c *Config) { c.WorkbookID = "nope" }, []string{"404", "source.sigma_api.workbook_id", "source.sigma_api.element_id"}},
		{"element", func(c *Config) { c.ElementID = "nope" }, []string{"source.sigma_api.element_id"}},
		{"control", func(c *Config) { c.ControlID = "Other-Control" }, []string{"400", "source.sigma_api.control_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, dayRows(5, "2026-11-24"), nil, tt.cfg)
			_, err := f.readAll(w)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err %q does not contain %q", err, s)
				}
			}
			if st := f.srv.Stats(); st.Exports+st.Status4xx > 2 {
				t.Errorf("a permanent answer was retried: %+v", st)
			}
		})
	}
	t.Run("credentials", func(t *testing.T) {
		f := newFixture(t, nil, nil, nil)
		src, err := New(f.cfg, testID, "wrong-secret-value", source.Deps{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = src.c.bearer(context.Background())
		err = src.tokenError(err)
		if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), EnvClientSecret) || strings.Contains(err.Error(), "wrong-secret-value") {
			t.Fatalf("err %v: want ErrCredentials naming %s, without the secret", err, EnvClientSecret)
		}
	})
	t.Run("poll timeout", func(t *testing.T) {
		f := newFixture(t, dayRows(5, "2026-11-24"), func(o *sigmatest.Options) { o.Polls = 1000 }, func(c *Config) { c.PollTimeout = 50 * time.Millisecond })
		_, err := f.readAll(w)
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "queryId") || !strings.Contains(err.Error(), "source.sigma_api.poll_timeout") {
			t.Fatalf("err %v: want ErrNotReady naming the queryId and poll_timeout", err)
		}
	})
}

// Requests are paced: a burst of windows never passes the server's
// per-minute limit.
func TestRequestsArePaced(t *testing.T) {
	days := []string{}
	for d := 1; d <= 10; d++ {
		days = append(days, fmt.Sprintf("2026-11-%02d", d))
	}
	f := newFixture(t, dayRows(3, days...), func(o *sigmatest.Options) { o.RateLimit = 600; o.Polls = -1 }, func(c *Config) { c.RequestsPerMinute = 600 })
	got, err := f.readAll(source.Window{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(got) != 12 {
		t.Fatalf("read %d windows, %v; want the 10 days and one either side", len(got), err)
	}
	if st := f.srv.Stats(); st.Status429 != 0 || st.MaxPerMinute > 600 {
		t.Fatalf("server stats %+v: the client went over the limit", st)
	}
}

// Settings are checked without reaching Sigma, each problem naming its
// setting.
func TestValidate(t *testing.T) {
	c := Kind.NewConfig().(*Config)
	errs := Kind.Validate(c, source.Deps{})
	var fields []string
	for _, err := range errs {
		fields = append(fields, err.(*source.FieldError).Field)
	}
	if !slices.Equal(fields, []string{"base_url", "workbook_id", "element_id"}) {
		t.Errorf("defaults: fields %v, want base_url, workbook_id, element_id required", fields)
	}
	c.BaseURL, c.WorkbookID, c.ElementID = "https://aws-api.sigmacomputing.com", "wb", "el"
	if errs := Kind.Validate(c, source.Deps{}); len(errs) != 0 {
		t.Fatalf("valid settings: %v", errs)
	}
	bad := *c
	bad.BaseURL, bad.Format, bad.RowLimit, bad.RequestsPerMinute, bad.ControlTimeZone = "ftp://x", "xlsx", 2_000_000, 500, "Mars/Base"
	fields = nil
	for _, err := range Kind.Validate(&bad, source.Deps{}) {
		fields = append(fields, err.(*source.FieldError).Field)
	}
	if !slices.Equal(fields, []string{"base_url", "control_timezone", "format", "row_limit", "requests_per_minute"}) {
		t.Errorf("bad settings: fields %v", fields)
	}
	bad = *c
	bad.BaseURL = "https://id:pw@api.sigmacomputing.com"
	if errs := Kind.Validate(&bad, source.Deps{}); len(errs) != 1 || !errs[0].(*source.FieldError).Secret {
		t.Errorf("user info in base_url: %v, want one Secret error", errs)
	}
}

// A download body that stalls is cancelled after the idle timeout, and
// its read fails, saying so, instead of hanging the run.
func TestStalledBodyFails(t *testing.T) {
	pr, pw := io.Pipe()
	go pw.Write([]byte("Timestamp,Event Id\n"))
	body := newIdleBody(pr, 50*time.Millisecond, func() { pw.CloseWithError(context.Canceled) })
	defer body.Close()
	buf := make([]byte, 64)
	if n, err := body.Read(buf); err != nil || n == 0 {
		t.Fatalf("first read: %d, %v", n, err)
	}
	_, err := body.Read(buf)
	if err == nil || !strings.Contains(err.Error(), "no data for 50ms") {
		t.Fatalf("stalled read: %v, want an error naming the idle timeout", err)
	}
}

// While a window is read, the next one's export is asked for ahead and
// used when that window is opened; if Sigma has dropped its result by
// then, the window is exported again, not lost.
func TestExportAhead(t *testing.T) {
	rows := dayRows(30, "2026-11-23", "2026-11-24", "2026-11-25")
	f := newFixture(t, rows, nil, nil)
	ctx := context.Background()
	w := source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	ins, err := f.src.List(ctx, w) // 11-23, 11-24, 11-25
	if err != nil || len(ins) != 3 {
		t.Fatalf("list: %v %v", ins, err)
	}
	read := func(in source.Input) int {
		t.Helper()
		rd, err := f.src.Open(ctx, in, w)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		n := 0
		for {
			if _, err := rd.Next(ctx); errors.Is(err, io.EOF) {
				return n
			} else if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n := read(ins[0]); n != 30 {
		t.Fatalf("window 1: %d rows", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.srv.Exports()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if ex := f.srv.Exports(); len(ex) != 2 || ex[1].Parameters[DefaultControlID] != "min:2026-11-24,max:2026-11-24" {
		t.Fatalf("exports after window 1: %+v, want window 2's asked for ahead", ex)
	}
	if n := read(ins[1]); n != 30 {
		t.Fatalf("window 2: %d rows", n)
	}
	for len(f.srv.Exports()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(f.srv.Exports()); n != 3 {
		t.Fatalf("%d exports after window 2, want 3: window 2 from the export asked ahead, and window 3's", n)
	}
	f.srv.ExpireQueries()
	if n := read(ins[2]); n != 30 || len(f.srv.Exports()) != 4 {
		t.Fatalf("window 3 after its result expired: %d rows, %d exports; want 30 rows from a new export", n, len(f.srv.Exports()))
	}
}

// A control that compares dates in another zone than control_timezone
// says (Los Angeles, configured as UTC) still yields every event of the
// window: the day either side covers the difference.
func TestControlZoneMismatch(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]string{
		{"2026-11-24 02:00:00", "early-utc", "QUERY_EXECUTIONS", "Run"}, // 11-23 in Los Angeles
		{"2026-11-24 23:00:00", "late-utc", "QUERY_EXECUTIONS", "Run"},  // 11-24 15:00 there
	}
	f := newFixture(t, rows, func(o *sigmatest.Options) { o.Zone = la }, nil)
	got, err := f.readAll(source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, ids := range got {
		all = append(all, ids...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"early-utc", "late-utc"}) {
		t.Fatalf("events read %v, want both events of 11-24 UTC", all)
	}
}

// A small JSON download answer with a numeric status is a status, never a
// file: 204 is "not ready", another status an error (a status body read
// as a CSV file would be an export of no rows). A JSON Lines row is a file.
func TestJSONStatusAnswers(t *testing.T) {
	tests := []struct {
		body  string
		ready bool
		err   bool
	}{
		{`{"status": 204, "message": "queued"}`, false, false},
		{`{"status": 200, "message": "done", "requestId": "r1"}`, false, true},
		{`{"status": 410, "message": "expired"}`, false, true},
		{`{"Timestamp": "2026-11-24 00:00:00", "Event Id": "e1", "status": "ok"}` + "\n", true, false},
		{`{"Timestamp": "2026-11-24 00:00:00", "Event Id": "e1"}` + "\n", true, false},
	}
	for _, tt := range tests {
		ready, body, err := jsonStatusReady(io.NopCloser(strings.NewReader(tt.body)))
		if ready != tt.ready || (err != nil) != tt.err {
			t.Errorf("%s: ready %v, err %v; want ready %v, error %v", tt.body, ready, err, tt.ready, tt.err)
			continue
		}
		if ready {
			if got, _ := io.ReadAll(body); string(got) != tt.body {
				t.Errorf("%s: the file read back as %q", tt.body, got)
			}
		}
	}
}

// A CSV download with no header at all (an empty 200) fails the window: it
// is not an export of no rows.
func TestEmptyCSVDownloadFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/auth/token":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token": "tok", "token_type": "bearer", "expires_in": 3600}`)
		case strings.HasSuffix(r.URL.Path, "/export"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"queryId": "q1"}`)
		default:
			w.Header().Set("Content-Type", "text/csv")
		}
	}))
	defer srv.Close()
	cfg := *Kind.NewConfig().(*Config)
	cfg.BaseURL, cfg.WorkbookID, cfg.ElementID = srv.URL, "wb1", "el1"
	src, err := New(cfg, testID, testSecret, source.Deps{Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := source.Window{From: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	ins, _ := src.List(context.Background(), w)
	if _, err := src.Open(context.Background(), ins[0], w); err == nil || !strings.Contains(err.Error(), "no CSV header") {
		t.Fatalf("open of an empty download: %v, want an error saying it holds no CSV header", err)
	}
}
