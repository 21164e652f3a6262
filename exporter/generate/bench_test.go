package generate

import (
	"context"
	"testing"
	"time"
)

// BenchmarkGenerate measures rows written per second on one core (Workers 1):
// two days of 100k events, two exports, so 300k rows with the overlap. It
// reports rows/s (wall) and rows/cpu-s (CPU time of the whole process).
func BenchmarkGenerate(b *testing.B) {
	for _, format := range []string{FormatCSV, FormatCSVGzip, FormatJSONL} {
		b.Run(format, func(b *testing.B) {
			opts := Options{
				Start:         time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
				Days:          2,
				RowsPerDay:    100_000,
				Format:        format,
				WithEventID:   true,
				DuplicateRate: 0.01,
				LateRate:      0.01,
				Seed:          1,
				Workers:       1,
			}
			dir := b.TempDir()
			rows := 0
			cpu0 := cpuTime()
			for b.Loop() {
				truth, err := Generate(context.Background(), dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				rows += truth.RowsWritten
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
			}
		})
	}
}
