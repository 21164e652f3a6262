package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/auditexport/auditexport/exporter"
)

// isTerminalWriter reports whether w is a terminal: a terminal *os.File,
// or a writer in front of one that says so (the progress bar). newLogger
// writes text to a terminal and JSON elsewhere (log.format auto).
func isTerminalWriter(w io.Writer) bool {
	switch v := w.(type) {
	case *os.File:
		return isTerminal(v)
	case interface{ Terminal() bool }:
		return v.Terminal()
	}
	return false
}

// runLogger adds a finished run's ID to log, for the lines written after
// the run (a metrics push), so that every line about a run carries it.
func runLogger(log *slog.Logger, sum *exporter.Summary) *slog.Logger {
	if sum == nil || sum.RunID == "" {
		return log
	}
	return log.With("run_id", sum.RunID)
}
