package postgres_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/exporter/source/postgres"
	"github.com/auditexport/auditexport/exporter/source/sourcetest"
)

// hourlyTable creates a table with one row per hour for four days from day(0), plus one row whose time
// is NULL, and returns its name. The time column is "TIMESTAMP" of type typ.
func hourlyTable(db *pgTest, name, typ string) string {
	db.t.Helper()
	db.exec(`CREATE TABLE ` + db.ident(name) + ` ("TIMESTAMP" ` + typ + `, "EVENT_ID" text)`)
	at := `$1::timestamptz + h * interval '1 hour'`
	if typ != "timestamptz" { // the wall clock in UTC
		at = "(" + at + ") AT TIME ZONE 'UTC'"
	}
	db.exec(`INSERT INTO `+db.ident(name)+` SELECT `+at+`, 'h' || h FROM generate_series(95, 0, -1) AS h`, day(0))
	db.exec(`INSERT INTO ` + db.ident(name) + ` VALUES (NULL, 'no-time')`)
	return db.schema + "." + name
}

func TestPostgresWindowIsPushedDown(t *testing.T) {
	db := newPGTest(t)
	src := db.open(postgres.Config{Table: hourlyTable(db, "hourly", "timestamptz")})
	tests := []struct {
		w          source.Window
		first, end int // hours [first, end) of day(0)
	}{
		{source.Window{From: day(1), To: day(2)}, 24, 48},
		{source.Window{From: day(1).Add(90 * time.Minute)}, 26, 96},
		{source.Window{To: day(0).Add(5 * time.Hour)}, 0, 5},
		{source.Window{From: day(9), To: day(10)}, 0, 0},
		{source.Window{}, 0, 96},
	}
	for _, tt := range tests {
		recs := readRecords(t, src, tt.w)
		var want []string
		for h := tt.first; h < tt.end; h++ {
			want = append(want, "h"+strconv.Itoa(h))
		}
		// The row without a time comes with every window, for the caller to reject rather than lose. Rows
		// come in no particular order.
		want = append(want, "no-time")
		got := column(t, recs, "EVENT_ID")
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("window %s: EVENT_ID = %q, want %q", tt.w, got, want)
		}
		for i, rec := range recs {
			if rec.Line != int64(i+1) {
				t.Errorf("window %s: record %d has Line %d", tt.w, i+1, rec.Line)
				break
			}
		}
	}
}

// A time column without zone holds wall-clock times whose zone only the schema package knows: the bounds are
// widened by the extreme UTC offsets (-12:00, +14:00) so that no row of the window is missed in any zone.
func TestPostgresWindowOnNaiveTimeColumns(t *testing.T) {
	db := newPGTest(t)
	w := source.Window{From: day(1), To: day(2)}
	for _, tt := range []struct {
		typ        string
		first, end int
	}{
		{"timestamp", 24 - 12, 48 + 14},
		{"date", 24, 72}, // dates are midnights: day(1) and day(2) (from 12:00 of day 0 to 14:00 of day 2)
	} {
		table := hourlyTable(db, "naive_"+tt.typ, tt.typ)
		src := db.open(postgres.Config{Table: table})
		got := column(t, readRecords(t, src, w), "EVENT_ID")
		var want []string
		for h := tt.first; h < tt.end; h++ {
			want = append(want, "h"+strconv.Itoa(h))
		}
		want = append(want, "no-time")
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s column, window %s: EVENT_ID = %q, want %q", tt.typ, w, got, want)
		}
	}
}

func TestPostgresFetchBoundaries(t *testing.T) {
	db := newPGTest(t)
	for _, n := range []int{0, 1, 2, 3, 9, 10} {
		table := "rows_" + strconv.Itoa(n)
		db.exec(`CREATE TABLE ` + db.ident(table) + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text)`)
		db.exec(`INSERT INTO `+db.ident(table)+` SELECT $1::timestamptz + i * interval '1 minute', 'e' || i
			FROM generate_series(1, $2::int) AS i`, day(0), n)
		src := db.open(postgres.Config{Table: db.schema + "." + table, FetchRows: 3})
		recs := readRecords(t, src, source.Window{})
		if len(recs) != n {
			t.Errorf("%d rows read 3 at a time: got %d records", n, len(recs))
		}
		for i, rec := range recs {
			if want := "e" + strconv.Itoa(i+1); rec.Fields[1] != want || rec.Line != int64(i+1) {
				t.Errorf("%d rows: record %d = line %d %q, want line %d %q", n, i+1, rec.Line, rec.Fields[1], i+1, want)
			}
		}
	}
}

// A scan reads one snapshot: rows committed while it runs are not half-seen.
func TestPostgresScanReadsOneSnapshot(t *testing.T) {
	db := newPGTest(t)
	table := hourlyTable(db, "snap", "timestamptz")
	src := db.open(postgres.Config{Table: table, FetchRows: 2})
	ctx := context.Background()
	r, err := src.Open(ctx, source.Input{Key: "table:" + table}, source.Window{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	db.exec(`INSERT INTO ` + db.ident("snap") + ` SELECT now(), 'late' FROM generate_series(1, 50)`)
	n := 1
	for {
		_, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 97 {
		t.Errorf("read %d rows, want the 97 of the snapshot", n)
	}
	if got := len(readRecords(t, src, source.Window{})); got != 147 {
		t.Errorf("a new scan read %d rows, want 147", got)
	}
}

func TestPostgresConcurrentReaders(t *testing.T) {
	db := newPGTest(t)
	table := hourlyTable(db, "conc", "timestamptz")
	src := db.open(postgres.Config{Table: table, FetchRows: 5})
	ctx := context.Background()
	in := source.Input{Key: "table:" + table}
	a, err := src.Open(ctx, in, source.Window{From: day(0), To: day(2)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := src.Open(ctx, in, source.Window{From: day(2)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	counts := map[source.Reader]int{}
	for open := []source.Reader{a, b}; len(open) > 0; {
		r := open[0]
		open = open[1:]
		_, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[r]++
		open = append(open, r)
	}
	if counts[a] != 49 || counts[b] != 49 {
		t.Errorf("interleaved readers read %d and %d rows, want 49 and 49", counts[a], counts[b])
	}
}

func TestPostgresSeesColumnsAddedAfterOpen(t *testing.T) {
	db := newPGTest(t)
	table := hourlyTable(db, "grows", "timestamptz")
	src := db.open(postgres.Config{Table: table})
	db.exec(`ALTER TABLE ` + db.ident("grows") + ` ADD COLUMN "AI_PROMPT" text`)
	db.exec(`UPDATE ` + db.ident("grows") + ` SET "AI_PROMPT" = 'why?' WHERE "EVENT_ID" = 'h0'`)
	recs := readRecords(t, src, source.Window{To: day(0).Add(time.Hour)})
	ids, prompts := column(t, recs, "EVENT_ID"), column(t, recs, "AI_PROMPT")
	got := map[string]string{}
	for i := range ids {
		got[ids[i]] = prompts[i]
	}
	if want := map[string]string{"h0": "why?", "no-time": ""}; !maps.Equal(got, want) {
		t.Errorf("EVENT_ID -> AI_PROMPT = %q, want %q", got, want)
	}
}

// 200,000 rows of about 1 KiB (some 200 MiB on the wire) stream through a heap that stays far smaller: the
// cursor fetches FetchRows rows at a time and each row is rendered as it is read.
func TestPostgresStreamsLargeTableInBoundedMemory(t *testing.T) {
	const rows = 200_000
	const heapLimit = 64 << 20
	db := newPGTest(t)
	db.exec(`CREATE TABLE ` + db.ident("big") + ` ("TIMESTAMP" timestamptz, "EVENT_ID" text, "PAYLOAD" text)`)
	db.exec(`INSERT INTO `+db.ident("big")+` SELECT $1::timestamptz + i * interval '1 second', 'e' || i,
		repeat(md5(i::text), 32) FROM generate_series(1, $2::int) AS i`, day(0), rows)
	src := db.open(postgres.Config{Table: db.schema + ".big"})

	ctx := context.Background()
	r, err := src.Open(ctx, source.Input{Key: "table:" + db.schema + ".big"}, source.Window{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	var bytes, maxHeap uint64
	var ms runtime.MemStats
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d rows: %v", n, err)
		}
		n++
		bytes += uint64(len(rec.Fields[2]))
		if n%20_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Errorf("read %d rows, want %d", n, rows)
	}
	t.Logf("streamed %d rows, %d MiB of payload; largest live heap mid-stream %d MiB", n, bytes>>20, maxHeap>>20)
	if bytes < 2*heapLimit {
		t.Fatalf("payload %d MiB is too small to prove anything against a %d MiB limit", bytes>>20, heapLimit>>20)
	}
	if maxHeap > heapLimit {
		t.Errorf("live heap reached %d MiB mid-stream, want under %d MiB: the result is being buffered", maxHeap>>20, heapLimit>>20)
	}
}

// The conformance suite's time parsing accepts both of this source's renderings.
func TestPostgresRenderingsParseInTheSuite(t *testing.T) {
	for _, s := range []string{"2026-11-25T13:45:12.123456Z", "2026-11-25 13:45:12.123456", "2026-11-25 13:45:12"} {
		if _, err := sourcetest.ParseTime(s); err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
		}
	}
}

func TestPostgresNextHonoursContext(t *testing.T) {
	db := newPGTest(t)
	table := hourlyTable(db, "cancel", "timestamptz")
	src := db.open(postgres.Config{Table: table, FetchRows: 10})
	r, err := src.Open(context.Background(), source.Input{Key: "table:" + table}, source.Window{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a canceled context: err = %v, want context.Canceled", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
