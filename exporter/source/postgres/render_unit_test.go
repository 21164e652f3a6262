package postgres

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditexport/auditexport/exporter/source"
)

// The renderers decode PostgreSQL's binary formats by hand. These tests hold them to what pgtype decodes and
// package time formats (the renderings before the hand-written ones), over edge cases and random values.

// The microseconds since 2000-01-01 of PostgreSQL's first and last timestamps, 4714-11-24 00:00:00 BC and
// 294276-12-31 23:59:59.999999.
const (
	pgMinMicros = -211813488000000000
	pgMaxMicros = 9223371331199999999
)

func TestRenderTimestampsAsPgtypeAndTime(t *testing.T) {
	m := pgtype.NewMap()
	values := []int64{0, 1, -1, 999_999, 1_000_000, -999_999, -1_000_000, 86_399_999_999, -86_400_000_000,
		math.MaxInt64, math.MinInt64, pgMinMicros, pgMaxMicros, pgMinMicros - 1, pgMaxMicros + 1,
		math.MaxInt64 - 1, math.MinInt64 + 1, 849_019_512_123_456, 849_019_512_500_000,
		849_019_512_000_001, 849_019_512_000_010, 849_019_512_100_000}
	for _, at := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1600, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2026, 11, 25, 13, 45, 12, 123456000, time.UTC),
	} {
		values = append(values, at.UnixMicro()-pgEpochUnixSeconds*1e6)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// The span overflows int64, the sum does not: wrapping arithmetic gives it exactly.
		values = append(values, pgMinMicros+int64(rng.Uint64N(pgMaxMicros-pgMinMicros)))
	}
	for range 200_000 { // 1900 to 2100, where the real events are
		values = append(values, -3_155_760_000_000_000+rng.Int64N(6_311_520_000_000_000))
	}
	raw := make([]byte, 8)
	var dst []byte
	for _, us := range values {
		binary.BigEndian.PutUint64(raw, uint64(us))

		var tz pgtype.Timestamptz
		wantErr := m.Scan(oidTimestamptz, pgx.BinaryFormatCode, raw, &tz)
		want := pgtypeTime(tz.Time.UTC(), tz.InfinityModifier, time.RFC3339Nano)
		var err error
		dst, err = renderTimestamptz(dst[:0], raw)
		checkRendering(t, "timestamptz", us, dst, err, want, wantErr)

		var ts pgtype.Timestamp
		wantErr = m.Scan(oidTimestamp, pgx.BinaryFormatCode, raw, &ts)
		want = pgtypeTime(ts.Time, ts.InfinityModifier, naiveTimestampLayout)
		dst, err = renderTimestamp(dst[:0], raw)
		checkRendering(t, "timestamp", us, dst, err, want, wantErr)
	}
	if _, err := renderTimestamptz(nil, raw[:7]); err == nil {
		t.Error("renderTimestamptz of 7 bytes: no error")
	}
}

func TestRenderDatesAsPgtypeAndTime(t *testing.T) {
	m := pgtype.NewMap()
	var values []int32
	for d := int32(-40_000); d <= 120_000; d++ { // 1890 to 2328, every day
		values = append(values, d)
	}
	for d := int32(-800_000); d <= 3_000_000; d += 13 { // 0190 BC to 10213 AD
		values = append(values, d)
	}
	// PostgreSQL's first and last dates, the days either side of them, the infinities and the int32's extremes.
	values = append(values, -2_451_545, 2_145_031_948, -2_451_546, 2_145_031_949, math.MaxInt32, math.MinInt32,
		math.MaxInt32-1, math.MinInt32+1)
	raw := make([]byte, 4)
	var dst []byte
	for _, d := range values {
		binary.BigEndian.PutUint32(raw, uint32(d))
		var v pgtype.Date
		wantErr := m.Scan(oidDate, pgx.BinaryFormatCode, raw, &v)
		want := pgtypeTime(v.Time, v.InfinityModifier, dateLayout)
		var err error
		dst, err = renderDate(dst[:0], raw)
		checkRendering(t, "date", int64(d), dst, err, want, wantErr)
	}
}

func TestRenderFloatsAndBools(t *testing.T) {
	m := pgtype.NewMap()
	f8 := []float64{0, math.Copysign(0, -1), 1.5, 0.1, 1e20, 1e21, -2.5, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), 123456789.123456789}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		f8 = append(f8, math.Float64frombits(rng.Uint64()))
	}
	raw := make([]byte, 8)
	for _, f := range f8 {
		binary.BigEndian.PutUint64(raw, math.Float64bits(f))
		var v float64
		if err := m.Scan(oidFloat8, pgx.BinaryFormatCode, raw, &v); err != nil {
			t.Fatal(err)
		}
		want := pgtypeFloat(v, 64)
		if got, err := renderFloat8(nil, raw); err != nil || string(got) != want {
			t.Fatalf("float8 %v: got %q, %v; want %q", f, got, err, want)
		}
		binary.BigEndian.PutUint32(raw, math.Float32bits(float32(f)))
		var v4 float32
		if err := m.Scan(oidFloat4, pgx.BinaryFormatCode, raw[:4], &v4); err != nil {
			t.Fatal(err)
		}
		want = pgtypeFloat(float64(v4), 32)
		if got, err := renderFloat4(nil, raw[:4]); err != nil || string(got) != want {
			t.Fatalf("float4 %v: got %q, %v; want %q", float32(f), got, err, want)
		}
	}
	for b, want := range map[byte]string{0: "false", 1: "true"} {
		if got, err := renderBool(nil, []byte{b}); err != nil || string(got) != want {
			t.Errorf("bool %d: got %q, %v; want %q", b, got, err, want)
		}
	}
}

func TestRenderJSONCompacts(t *testing.T) {
	got, err := renderJSON([]byte("x"), []byte(`{ "z" : 1, "a" : [ 1 , 2.50 ] }`))
	if want := `x{"z":1,"a":[1,2.50]}`; err != nil || string(got) != want {
		t.Errorf("renderJSON = %q, %v; want %q", got, err, want)
	}
	if got, err := renderJSON([]byte("x"), []byte(`{"z":`)); err == nil || string(got) != "x" {
		t.Errorf("renderJSON of bad JSON = %q, %v; want x and an error", got, err)
	}
}

// Rendering a row allocates one string; the values themselves nothing.
func TestRenderAllocatesNothing(t *testing.T) {
	raws := [][]byte{be64(849_019_512_123_456), be64(849_019_512_000_000), be32(9_825), {1}, be64(math.Float64bits(0.1)),
		be32(math.Float32bits(2.5)), []byte("login")}
	renders := []renderFunc{renderTimestamptz, renderTimestamp, renderDate, renderBool, renderFloat8, renderFloat4, renderText}
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		dst = dst[:0]
		for i, render := range renders {
			dst, _ = render(dst, raws[i])
		}
	})
	if allocs != 0 {
		t.Errorf("rendering a row: %v allocations, want 0", allocs)
	}
}

// decode reuses the record's Fields, as source.Record allows, but a RowError's Raw is the caller's.
func TestPostgresDecodeReusesFieldsNotRaw(t *testing.T) {
	rows := &fakeRows{rows: [][][]byte{
		{be64(849_019_512_123_456), []byte("a"), nil},
		{be64(849_019_513_000_000), []byte("b"), []byte("bad")},
		{be64(849_019_514_000_000), []byte("c"), nil},
	}}
	r := &postgresReader{
		src:    &Source{},
		header: &source.Header{Names: []string{"TIMESTAMP", "EVENT_ID", "X"}},
		rows:   rows,
		render: []renderFunc{renderTimestamptz, renderText, renderer(0, pgx.BinaryFormatCode)},
		ends:   make([]int, 3),
		fields: make([]string, 3),
	}
	rows.Next()
	first, err := r.decode()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026-11-26T14:45:12.123456Z", "a", ""}; !slices.Equal(first.Fields, want) {
		t.Fatalf("first record = %q, want %q", first.Fields, want)
	}
	kept := slices.Clone(first.Fields)
	rows.Next()
	_, err = r.decode()
	re, ok := err.(*source.RowError)
	if !ok || !strings.Contains(re.Reason, `column "X": no binary rendering for type oid 0`) {
		t.Fatalf("second record: err = %v, want a source.RowError naming column X", err)
	}
	rows.Next()
	third, err := r.decode()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026-11-26T14:45:13Z", "b", "bad"}; !slices.Equal(re.Raw, want) {
		t.Errorf("source.RowError.Raw after the next record = %q, want %q", re.Raw, want)
	}
	if want := []string{"2026-11-26T14:45:14Z", "c", ""}; !slices.Equal(third.Fields, want) {
		t.Errorf("third record = %q, want %q", third.Fields, want)
	}
	if !slices.Equal(kept, []string{"2026-11-26T14:45:12.123456Z", "a", ""}) {
		t.Errorf("strings of the first record changed: %q", kept)
	}
}

// checkRendering compares a rendering with pgtype's: the same text, or the same error.
func checkRendering(t *testing.T, typ string, v int64, got []byte, err error, want string, wantErr error) {
	t.Helper()
	switch {
	case wantErr != nil && (err == nil || err.Error() != wantErr.Error()):
		t.Fatalf("%s %d: got %q, %v; want error %v", typ, v, got, err, wantErr)
	case wantErr == nil && (err != nil || string(got) != want):
		t.Fatalf("%s %d: got %q, %v; want %q", typ, v, got, err, want)
	}
}

// fakeRows serves raw rows to decode; only Next and RawValues are used.
type fakeRows struct {
	pgx.Rows
	rows [][][]byte
	i    int
}

func (f *fakeRows) Next() bool {
	f.i++
	return f.i <= len(f.rows)
}

func (f *fakeRows) RawValues() [][]byte { return f.rows[f.i-1] }

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// pgtypeTime and pgtypeFloat are the renderings as they were done before: pgtype's decoded value, formatted
// by package time and strconv.
func pgtypeTime(t time.Time, inf pgtype.InfinityModifier, layout string) string {
	switch inf {
	case pgtype.Infinity:
		return "infinity"
	case pgtype.NegativeInfinity:
		return "-infinity"
	}
	return t.Format(layout)
}

func pgtypeFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}
