package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// Profiling for performance work: AUDITEXPORT_CPUPROFILE and
// AUDITEXPORT_MEMPROFILE name files that receive a pprof CPU profile of the
// whole command and a heap profile at its end.
const (
	cpuProfileEnv = "AUDITEXPORT_CPUPROFILE"
	memProfileEnv = "AUDITEXPORT_MEMPROFILE"
)

// startProfiles starts the profiles the environment asks for and returns
// the function that finishes them.
func startProfiles(stderr io.Writer) func() {
	var stops []func()
	if path := os.Getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "auditexport: %s: %v\n", cpuProfileEnv, err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "auditexport: %s: %v\n", cpuProfileEnv, err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv(memProfileEnv); path != "" {
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(stderr, "auditexport: %s: %v\n", memProfileEnv, err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(stderr, "auditexport: %s: %v\n", memProfileEnv, err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
