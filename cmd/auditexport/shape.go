package main

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter"
)

// shapeSettings name, for each field of an archive's shape, the setting
// that sets it; fields no setting reaches are named as the archive does.
var shapeSettings = map[string]string{
	"partition_timezone": "partitioning.timezone",
	"by_category":        "partitioning.by_category",
	"time_column":        "schema.time_column",
	"key_columns":        "dedup.key",
	"lower_case_columns": "parquet.lower_case_columns",
}

// shapeWords names, for each setting a run's shape differs in, the
// setting, the run's value and the archive's, one line each, as
// configuration errors read.
func shapeWords(e *exporter.ShapeError) string {
	lines := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		setting := shapeSettings[f.Name]
		if setting == "" {
			setting = f.Name
		}
		lines = append(lines, (&ConfigError{Setting: setting, Value: f.Other, Problem: fmt.Sprintf(
			"the archive at %s was written with %q (its shape, recorded by commit %d); a run with another value would write archived events again: set it back to %q, or write a new archive under another destination.prefix (docs/archive-format.md, \"Shape\")",
			e.Archive, f.Archive, e.Commit, f.Archive)}).Error())
	}
	return strings.Join(lines, "\n")
}
