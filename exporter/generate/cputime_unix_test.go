//go:build unix

package generate

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used. Benchmarks
// report rows per CPU second too, which a busy shared machine disturbs far
// less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
