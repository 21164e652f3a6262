package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// gcPercentUnderLimit is the collector's GOGC while run.memory_limit holds
// the heap: the heap may grow to five times what is live, up to the limit.
// An export allocates fast and keeps little (batches, dictionaries, key
// sets), so collecting less often saves about a tenth of its CPU time
// while the limit keeps the footprint where it was.
const gcPercentUnderLimit = 400

// applyMemoryLimit sets the Go heap's soft limit from run.memory_limit,
// unless GOMEMLIMIT is set (the runtime has applied it already). The limit
// makes the garbage collector collect sooner as the heap nears it; it never
// fails an allocation. Under our own limit, and unless GOGC is set, the
// collector also runs less often (gcPercentUnderLimit).
func applyMemoryLimit(c *Config, log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Debug("memory limit from GOMEMLIMIT", "limit", v)
		return
	}
	n, err := parseSize(c.Run.MemoryLimit)
	if err != nil || n == 0 {
		return // validated already; 0 means no limit
	}
	debug.SetMemoryLimit(n)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercentUnderLimit)
	}
	log.Debug("memory limit", "limit", c.Run.MemoryLimit)
}
