package ddl

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// DefaultTable is the table (or view) name when none is given.
const DefaultTable = "sigma_audit"

// ParseName splits a table name into its dotted parts
// ([catalog.][schema.]table). A part may hold any printable character but
// quotes and backticks, which no engine below takes in a name it quotes
// the same way; each engine then checks the parts against its own rules.
func ParseName(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &InputError{Setting: "--table", Problem: "is empty: give a name such as " + DefaultTable + " or a_schema." + DefaultTable}
	}
	parts := strings.Split(s, ".")
	for _, p := range parts {
		switch {
		case p == "":
			return nil, &InputError{Setting: "--table", Value: s, Problem: "has an empty part: write [catalog.][schema.]table, each part non-empty"}
		case strings.ContainsAny(p, "\"`'"):
			return nil, &InputError{Setting: "--table", Value: s, Problem: "holds a quote or backtick: give the name unquoted; the statement quotes it as the engine needs"}
		case strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			return nil, &InputError{Setting: "--table", Value: s, Problem: "holds a control character"}
		}
	}
	return parts, nil
}

var (
	glueName     = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	bqDataset    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	bqProject    = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	plainIdent   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)
	partsWording = map[Engine]string{
		Athena:     "[database.]table",
		BigQuery:   "[project.]dataset.table",
		Snowflake:  "[database.][schema.]table",
		Databricks: "[catalog.][schema.]table",
		Trino:      "[catalog.]schema.table",
		DuckDB:     "[catalog.][schema.]view",
	}
)

// checkName checks a parsed name against the engine's rules.
func checkName(e Engine, parts []string) error {
	name := strings.Join(parts, ".")
	bad := func(problem string) error {
		return &InputError{Setting: "--table", Value: name, Problem: problem}
	}
	min, max := 1, 3
	switch e {
	case Athena:
		max = 2
	case BigQuery, Trino:
		min = 2
	}
	if len(parts) < min || len(parts) > max {
		why := ""
		switch e {
		case BigQuery:
			why = ": BigQuery creates a table in a dataset, so name it (e.g. --table audit." + DefaultTable + ")"
		case Trino:
			why = ": sync_partition_metadata takes the schema by name (e.g. --table hive.audit." + DefaultTable + ")"
		}
		return bad(fmt.Sprintf("has %d part(s); %s wants %s%s", len(parts), e, partsWording[e], why))
	}
	switch e {
	case Athena:
		for _, p := range parts {
			if !glueName.MatchString(p) {
				return bad(fmt.Sprintf("part %q: Athena (AWS Glue) names hold only letters, digits and _ (and are stored in lower case)", p))
			}
		}
	case BigQuery:
		ds := parts[len(parts)-2]
		if !bqDataset.MatchString(ds) {
			return bad(fmt.Sprintf("dataset %q: BigQuery dataset names hold only letters, digits and _", ds))
		}
		if len(parts) == 3 && !bqProject.MatchString(parts[0]) {
			return bad(fmt.Sprintf("project %q: BigQuery project IDs hold lower-case letters, digits and -", parts[0]))
		}
	}
	return nil
}

// quoteName renders a checked name as the engine writes it.
func quoteName(e Engine, parts []string) string {
	if e == BigQuery {
		return "`" + strings.Join(parts, ".") + "`"
	}
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = quoteIdent(e, p)
	}
	return strings.Join(q, ".")
}

// quoteColumn quotes a column name. Every column is quoted, since some
// (TIMESTAMP) are reserved words. Snowflake folds unquoted names to upper
// case and quoted ones keep their case, so its columns are named by the
// upper-case column ID, which users can then write unquoted.
func quoteColumn(e Engine, name string) string {
	if e == Snowflake {
		name = strings.ToUpper(name)
	}
	switch e {
	case Athena, BigQuery, Databricks:
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteIdent quotes one part of a table name for the engine: backticks
// for the Hive-dialect engines and BigQuery, double quotes for Trino and
// DuckDB; Snowflake keeps a plain identifier unquoted (quoting would make
// it case-sensitive) and quotes the rest.
func quoteIdent(e Engine, s string) string {
	switch e {
	case Athena, BigQuery, Databricks:
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	case Snowflake:
		if plainIdent.MatchString(s) && !snowflakeReserved[strings.ToUpper(s)] {
			return s
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// snowflakeReserved are Snowflake's reserved words that could be a column
// ID or a name part; such an identifier is quoted.
var snowflakeReserved = map[string]bool{
	"ACCOUNT": true, "ALL": true, "ALTER": true, "AND": true, "ANY": true, "AS": true, "BETWEEN": true, "BY": true,
	"CASE": true, "CAST": true, "CHECK": true, "COLUMN": true, "CONNECT": true, "CONNECTION": true, "CONSTRAINT": true,
	"CREATE": true, "CROSS": true, "CURRENT": true, "CURRENT_DATE": true, "CURRENT_TIME": true, "CURRENT_TIMESTAMP": true,
	"CURRENT_USER": true, "DATABASE": true, "DELETE": true, "DISTINCT": true, "DROP": true, "ELSE": true, "EXISTS": true,
	"FALSE": true, "FOLLOWING": true, "FOR": true, "FROM": true, "FULL": true, "GRANT": true, "GROUP": true, "GSCLUSTER": true,
	"HAVING": true, "ILIKE": true, "IN": true, "INCREMENT": true, "INNER": true, "INSERT": true, "INTERSECT": true, "INTO": true,
	"IS": true, "ISSUE": true, "JOIN": true, "LATERAL": true, "LEFT": true, "LIKE": true, "LOCALTIME": true, "LOCALTIMESTAMP": true,
	"MINUS": true, "NATURAL": true, "NOT": true, "NULL": true, "OF": true, "ON": true, "OR": true, "ORDER": true,
	"ORGANIZATION": true, "QUALIFY": true, "REGEXP": true, "REVOKE": true, "RIGHT": true, "RLIKE": true, "ROW": true,
	"ROWS": true, "SAMPLE": true, "SCHEMA": true, "SELECT": true, "SET": true, "SOME": true, "START": true, "TABLE": true,
	"TABLESAMPLE": true, "THEN": true, "TO": true, "TRIGGER": true, "TRUE": true, "TRY_CAST": true, "UNION": true,
	"UNIQUE": true, "UPDATE": true, "USING": true, "VALUES": true, "VIEW": true, "WHEN": true, "WHENEVER": true,
	"WHERE": true, "WITH": true,
}

// literal renders a string literal as the engine reads it: Trino and
// DuckDB follow standard SQL (a quote is doubled); Hive's DDL (Athena),
// Spark, BigQuery and Snowflake read backslash escapes, and Spark would
// read a doubled quote as two adjacent literals, so there a quote and a
// backslash are escaped with a backslash.
func literal(e Engine, s string) string {
	switch e {
	case Trino, DuckDB:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// oneLine makes text safe inside a -- comment: one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
}
