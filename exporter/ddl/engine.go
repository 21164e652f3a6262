package ddl

import (
	"fmt"
	"strings"
)

// Engine is a query engine a statement is written for.
type Engine string

// The engines Generate writes for.
const (
	Athena     Engine = "athena"
	BigQuery   Engine = "bigquery"
	Snowflake  Engine = "snowflake"
	Databricks Engine = "databricks"
	Trino      Engine = "trino"
	DuckDB     Engine = "duckdb"
)

// Engines lists every engine, in the order help and errors name them.
var Engines = []Engine{Athena, BigQuery, Snowflake, Databricks, Trino, DuckDB}

// EngineNames is Engines joined with "|", for usage lines.
func EngineNames() string {
	names := make([]string, len(Engines))
	for i, e := range Engines {
		names[i] = string(e)
	}
	return strings.Join(names, "|")
}

// ParseEngine returns the engine named s (case-insensitive; "spark" is
// Databricks' statement, which open-source Spark runs as well).
func ParseEngine(s string) (Engine, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "spark" {
		return Databricks, nil
	}
	for _, e := range Engines {
		if string(e) == v {
			return e, nil
		}
	}
	if s == "" {
		return "", &InputError{Setting: "--engine", Problem: "is required: one of " + EngineNames()}
	}
	return "", &InputError{Setting: "--engine", Value: s, Problem: "is not an engine: use one of " + EngineNames()}
}

// InputError is an input a statement cannot be written for: an unknown
// engine, a destination the engine cannot read, a table name the engine
// cannot take. Setting names the input (a flag or a config key), Value is
// the offending value where showing it helps, Problem says why and what
// would work.
type InputError struct {
	Setting string
	Value   string
	Problem string
}

func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s %s", e.Setting, e.Problem)
	}
	return fmt.Sprintf("%s %q %s", e.Setting, e.Value, e.Problem)
}
