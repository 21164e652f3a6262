package archive

import (
	"strings"
	"testing"
)

// verify reports every file in a partition directory that no commit lists
// as an error, since readers listing the directory read it: a temp file
// left by a killed write, a stray text file. _manifest.json and _SUCCESS
// are the only other names a partition directory may hold.
func TestVerifyStrayFilesInPartitions(t *testing.T) {
	fx := newFixture(t)
	fx.standard()
	tmp := "event_date=2026-11-02/part-00000-run1.parquet.abc.tmp"
	txt := "event_date=2026-11-03/event_category=LOGIN/foo.txt"
	fx.put(tmp, []byte("partial"))
	fx.put(txt, []byte("notes"))
	rep := fx.verify(VerifyOptions{})
	wantFindings(t, rep, "unexpected_file@"+tmp, "unexpected_file@"+txt)
	for _, f := range rep.Findings {
		if f.Severity != SeverityError {
			t.Errorf("%s is %s, want error", f.Key, f.Severity)
		}
	}
	if d := detailOf(rep, KindUnexpectedFile, tmp); !strings.Contains(d, "interrupted write") {
		t.Errorf("detail of the temp file: %q", d)
	}
}
