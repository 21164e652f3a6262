package main

import (
	"errors"
	"fmt"

	"github.com/auditexport/auditexport/exporter"
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

func exitCode(err error) int {
	var ue *usageError
	var ce *ConfigError
	var re *exporter.RejectsError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	case errors.As(err, &re):
		return exitRejects
	case errors.As(err, new(*verifyFindingsError)):
		return exitFindings
	}
	return exitFailure
}
