package main

import (
	"errors"
	"fmt"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/sinks"
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

// shapeConfigError turns a run refused for settings that differ from the
// archive's shape into configuration errors (exit 2), one per setting,
// naming the setting, the run's value and the archive's.
func shapeConfigError(err error, dest *sinks.Bucket) error {
	se, ok := errors.AsType[*exporter.ShapeError](err)
	if !ok || dest == nil {
		return err
	}
	errs := make([]error, 0, len(se.Fields))
	for _, f := range se.Fields {
		setting := shapeSettings[f.Name]
		if setting == "" {
			setting = f.Name
		}
		errs = append(errs, &ConfigError{Setting: setting, Value: f.Other, Problem: fmt.Sprintf(
			"the archive at %s was written with %q (its shape, recorded by commit %d); a run with another value would write archived events again: set it back to %q, or write a new archive under another destination.prefix (docs/archive-format.md, \"Shape\")",
			dest, f.Archive, se.Commit, f.Archive)})
	}
	return errors.Join(errs...)
}
