package exporter

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
)

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestRowCodecRoundTrip(t *testing.T) {
	types := []schema.Type{schema.Timestamp, schema.String, schema.Int, schema.Float, schema.Bool, schema.JSON}
	key := eventKey{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	in := []field{
		{0, schema.Value{Int: -1234567}},
		{1, schema.Value{Str: "héllo, \"world\"\n"}},
		{2, schema.Value{Int: 1 << 60}},
		{3, schema.Value{Float: -0.25}},
		{4, schema.Value{Bool: true}},
		{5, schema.Value{Str: `{"a":[1]}`}},
	}
	var buf []byte
	buf = encodeRow(buf, key, 42, in, types)
	buf = encodeRow(buf, key, 43, in[:2], types)
	// Strip the fixed 5-byte length prefix as the spill reader does.
	body := buf[5 : len(buf)-len(encodeRow(nil, key, 43, in[:2], types))]
	gotKey, micros, out, err := decodeRow(body, types, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gotKey != key || micros != 42 || len(out) != len(in) {
		t.Fatalf("decoded key %v micros %d fields %d", gotKey, micros, len(out))
	}
	for i, f := range out {
		w := in[i]
		switch types[f.col] {
		case schema.String, schema.JSON:
			if string(f.bytes) != w.v.Str {
				t.Errorf("field %d = %q, want %q", i, f.bytes, w.v.Str)
			}
		default:
			if f.v != w.v {
				t.Errorf("field %d = %+v, want %+v", i, f.v, w.v)
			}
		}
	}
	if _, _, _, err := decodeRow(body[:len(body)-3], types, nil); err == nil {
		t.Error("a truncated row decoded without error")
	}
}

// The partitioner's cache never names a row differently from
// archive.PartitionPath: zones with half- and quarter-hour offsets, daylight saving
// changes at midnight, local mean time before 1900, times before 1970.
func TestPartitionerMatchesPartitionPath(t *testing.T) {
	zones := []string{"UTC", "America/Los_Angeles", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe",
		"America/Santiago", "Europe/Amsterdam", "Pacific/Chatham"}
	rng := rand.New(rand.NewPCG(1, 2))
	cats := []string{"", "ACCESS_SIGMA", "A/B", "QUERY_EXECUTIONS"}
	for _, name := range zones {
		zone, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, byCat := range []bool{false, true} {
			p := newPartitioner(zone, byCat)
			var times []int64
			for _, start := range []time.Time{
				time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
			} {
				// Every minute around two months, plus random instants.
				for m := int64(0); m < 60*24*61; m += 7 {
					times = append(times, start.UnixMicro()+m*60e6+rng.Int64N(60e6))
				}
			}
			for i, us := range times {
				cat := cats[i%len(cats)]
				got := p.path(us, cat)
				want := archive.PartitionPath(time.UnixMicro(us), zone, byCat, cat)
				if got != want {
					t.Fatalf("%s by category %v: %s (%d) named %s, want %s", name, byCat, time.UnixMicro(us).In(zone), us, got, want)
				}
				// Asked again, from the cache.
				if got := p.path(us, cat); got != want {
					t.Fatalf("%s: cached %s, want %s", name, got, want)
				}
			}
		}
	}
}

func TestPartitionerCachedPathAllocs(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	us := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixMicro()
	for _, byCat := range []bool{false, true} {
		p := newPartitioner(la, byCat)
		p.path(us, "QUERY_EXECUTIONS")
		if got := testing.AllocsPerRun(1000, func() { _ = p.path(us+1, "QUERY_EXECUTIONS") }); got != 0 {
			t.Errorf("partitioner.path by category %v, cached slot: %v allocs per row, want 0", byCat, got)
		}
	}
}
