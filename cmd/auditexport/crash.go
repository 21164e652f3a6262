package main

import (
	"os"
	"syscall"
)

// crashEnv names a run phase (read, stage, staged, committed, publish) at
// which the process kills itself with SIGKILL. It exists for the crash tests
// that prove a run can die anywhere and the next run repairs the archive;
// nothing else sets it.
const crashEnv = "AUDITEXPORT_TEST_CRASH_AT"

// crashPhase returns the phase hook that honours crashEnv, or nil.
func crashPhase() func(string) {
	at := os.Getenv(crashEnv)
	if at == "" {
		return nil
	}
	return func(phase string) {
		if phase == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
