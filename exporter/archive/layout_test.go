package archive

import (
	"strings"
	"testing"
	"time"
)

func TestEscapePartitionValue(t *testing.T) {
	cases := map[string]string{
		"ACCESS_SIGMA":   "ACCESS_SIGMA",
		"":               "__HIVE_DEFAULT_PARTITION__",
		".":              "%2E",
		"..":             "%2E%2E",
		"../../x":        "..%2F..%2Fx",
		"a/b":            "a%2Fb",
		`a\b`:            "a%5Cb",
		"k=v":            "k%3Dv",
		"50%":            "50%25",
		"tab\there":      "tab%09here",
		"new\nline":      "new%0Aline",
		"with space":     "with space",
		"Zürich":         "Zürich",
		"a:b?c#d*e\"f'g": "a%3Ab%3Fc%23d%2Ae%22f%27g",
	}
	for in, want := range cases {
		got := EscapePartitionValue(in)
		if got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "/") || got == "." || got == ".." {
			t.Errorf("escape(%q) = %q is not one safe path segment", in, got)
		}
	}
}

func FuzzEscapePartitionValue(f *testing.F) {
	for _, s := range []string{"", ".", "..", "../x", "a/b", "%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := EscapePartitionValue(v)
		if got == "" || got == "." || got == ".." || strings.ContainsAny(got, "/\\\x00") {
			t.Fatalf("escape(%q) = %q is not one safe path segment", v, got)
		}
	})
}

func TestPartitionPath(t *testing.T) {
	tm := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	if got := PartitionPath(tm, time.UTC, false, "X"); got != "event_date=2026-11-25" {
		t.Errorf("got %q", got)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	if got := PartitionPath(tm, la, true, "A/B"); got != "event_date=2026-11-24/event_category=A%2FB" {
		t.Errorf("got %q", got)
	}
}

func TestPartitionDate(t *testing.T) {
	for in, want := range map[string]string{
		"event_date=2026-11-25":                          "2026-11-25",
		"event_date=2026-11-25/event_category=A%2FB":     "2026-11-25",
		"event_category=X/event_date=2026-11-25":         "",
		"_auditexport/keys/event_date=2026-11-25/r.keys": "",
	} {
		if got, ok := PartitionDate(in); got != want || ok != (want != "") {
			t.Errorf("PartitionDate(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// Names built here parse back here.
func TestLayoutNamesRoundTrip(t *testing.T) {
	name := DataFileName(7, "20261126T060000Z-3f9a1c2b7d4e")
	if name != "part-00007-20261126T060000Z-3f9a1c2b7d4e.parquet" {
		t.Fatalf("DataFileName = %q", name)
	}
	if run, ok := DataFileRun("event_date=2026-11-25/" + name); !ok || run != "20261126T060000Z-3f9a1c2b7d4e" {
		t.Errorf("DataFileRun(%q) = %q, %v", name, run, ok)
	}
	if got := KeyFileKey("event_date=2026-11-25", "r1"); got != "_auditexport/keys/event_date=2026-11-25/r1.keys" || partitionOfKeys(got) != "event_date=2026-11-25" {
		t.Errorf("KeyFileKey = %q (partition %q)", got, partitionOfKeys(got))
	}
	if got := StagingDir("r1", 2); got != "_auditexport/staging/r1/2/" || stagingRunDir(got+"x.parquet") != "_auditexport/staging/r1/" {
		t.Errorf("StagingDir = %q", got)
	}
	if got := RejectsKey("r1"); got != "_auditexport/rejects/r1.jsonl" {
		t.Errorf("RejectsKey = %q", got)
	}
}

func TestCategoryTooLong(t *testing.T) {
	if CategoryTooLong(strings.Repeat("y", MaxCategoryBytes)) || !CategoryTooLong(strings.Repeat("y", MaxCategoryBytes+1)) {
		t.Error("plain categories: the limit is MaxCategoryBytes")
	}
	if !CategoryTooLong(strings.Repeat("/", MaxCategoryBytes/3+1)) {
		t.Error("a category that escaping triples past the limit is too long")
	}
}
