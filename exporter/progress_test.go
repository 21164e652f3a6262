package exporter

import (
	"sync"
	"testing"
)

// Progress covers the whole run: every input read, then every partition
// written, with the rows encoded and the bytes uploaded, ending at the
// summary's totals.
func TestProgressCoversTheWrite(t *testing.T) {
	for _, dry := range []bool{false, true} {
		var mu sync.Mutex
		var events []ProgressEvent
		a := "Timestamp,Event Id\n2026-11-23 10:00:00,e1\n2026-11-24 10:00:00,e2\n2026-11-24 11:00:00,e3\n2026-11-25 10:00:00,e4\n"
		r := exportFiles(t, map[string][]byte{"a.csv": []byte(a)}, func(o *Options) {
			o.DryRun = dry
			o.Workers = 2
			o.Progress = func(ev ProgressEvent) {
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
			}
		})
		if r.err != nil {
			t.Fatal(r.err)
		}
		var reads, writes []ProgressEvent
		for _, ev := range events {
			switch ev.Stage {
			case StageRead:
				if len(writes) > 0 {
					t.Errorf("dry %v: a read event after the write began: %+v", dry, ev)
				}
				reads = append(reads, ev)
			case StageWrite:
				writes = append(writes, ev)
			default:
				t.Errorf("dry %v: event of stage %q", dry, ev.Stage)
			}
		}
		if len(reads) == 0 || !reads[len(reads)-1].Done || reads[len(reads)-1].RowsRead != 4 {
			t.Errorf("dry %v: read events %+v", dry, reads)
		}
		if len(writes) < 4 { // the start, then one per partition at least
			t.Fatalf("dry %v: write events %+v", dry, writes)
		}
		for i := 1; i < len(writes); i++ {
			p, c := writes[i-1], writes[i]
			if c.Partitions < p.Partitions || c.RowsWritten < p.RowsWritten || c.BytesStaged < p.BytesStaged {
				t.Errorf("dry %v: progress went back: %+v then %+v", dry, p, c)
			}
		}
		last := writes[len(writes)-1]
		wantBytes := r.sum.BytesWritten
		if dry {
			wantBytes = 0
		}
		if last.Partitions != 3 || last.PartitionsTotal != 3 || last.RowsWritten != r.sum.RowsWritten || last.BytesStaged != wantBytes {
			t.Errorf("dry %v: last write event %+v; summary wrote %d rows, %d bytes in %d partitions",
				dry, last, r.sum.RowsWritten, r.sum.BytesWritten, len(r.sum.Partitions))
		}
		if !dry && last.BytesStaged == 0 {
			t.Errorf("no bytes uploaded reported")
		}
	}
}
