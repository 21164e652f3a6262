package main

import (
	"errors"
	"fmt"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Exit statuses, mapped from errors in one place.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitRejects = 3
)

// usageError is a bad command line: the message names the flag and its
// valid form.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// Error kinds (label kind of auditexport_errors_total).
var errorKinds = []string{"credentials", "permission", "not_found", "rejects", "conflict", "config", "other"}

// classify maps an error to its exit status and to its kind in metrics
// and logs: by type and sentinel, never by message, in this one place.
func classify(err error) (code int, kind string) {
	switch {
	case err == nil:
		return exitOK, ""
	case errors.As(err, new(*usageError)), errors.As(err, new(*ConfigError)), errors.As(err, new(*schema.MappingError)),
		errors.As(err, new(*exporter.ShapeError)):
		return exitUsage, "config"
	case errors.As(err, new(*exporter.RejectsError)):
		return exitRejects, "rejects"
	case errors.As(err, new(*verifyFindingsError)):
		return exitFindings, "other"
	case errors.Is(err, archive.ErrConflict):
		return exitFailure, "conflict"
	case errors.Is(err, sinks.ErrCredentials): // before permission: a refused key is both
		return exitFailure, "credentials"
	case errors.Is(err, sinks.ErrPermission):
		return exitFailure, "permission"
	case errors.Is(err, sinks.ErrNotFound):
		return exitFailure, "not_found"
	}
	return exitFailure, "other"
}

// exitCode is the process's exit status for err.
func exitCode(err error) int {
	code, _ := classify(err)
	return code
}

// errorKind is the class of a failed run's error (label kind of
// auditexport_errors_total).
func errorKind(err error) string {
	_, kind := classify(err)
	return kind
}
