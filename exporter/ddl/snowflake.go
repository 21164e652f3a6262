package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// snowflake writes a stage over the archive and an external table on it.
// The table's PATTERN matches data files only, anchored at the archive's
// prefix (it holds the prefix's path as an optional group, since a stage's
// files are named with the path of the stage URL): nothing under
// _auditexport/ (where staged files wait for their commit), no
// _manifest.json, no _SUCCESS. The partition columns are parsed from
// METADATA$FILENAME, as Snowflake requires.
func snowflake(b *strings.Builder, t *Table, o Options) {
	name := quoteName(Snowflake, t.Name)
	stageParts := append([]string(nil), t.Name...)
	stageParts[len(stageParts)-1] += "_stage"
	stage := quoteName(Snowflake, stageParts)
	fmt.Fprintf(b, "CREATE STAGE IF NOT EXISTS %s\n", stage)
	fmt.Fprintf(b, "  URL = %s\n", literal(Snowflake, snowflakeURL(t.Location)))
	fmt.Fprintf(b, "  STORAGE_INTEGRATION = %s\n", o.StorageIntegration)
	b.WriteString("  FILE_FORMAT = (TYPE = PARQUET);\n\n")
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
	fmt.Fprintf(b, "  %s DATE AS TO_DATE(%s, 'YYYY-MM-DD'),\n", archive.DateKey, snowflakeKey(archive.DateKey))
	if t.ByCategory {
		fmt.Fprintf(b, "  %s VARCHAR AS %s,\n", archive.CategoryKey, snowflakeKey(archive.CategoryKey))
	}
	for i, c := range t.Columns {
		typ := typeName(Snowflake, c.Type)
		fmt.Fprintf(b, "  -- %s\n", describe(c, jsonHints[Snowflake]))
		fmt.Fprintf(b, "  %s %s AS (VALUE:%s::%s)%s\n", quoteColumn(Snowflake, c.Name), typ,
			`"`+strings.ReplaceAll(c.Name, `"`, `""`)+`"`, typ, comma(i, len(t.Columns)))
	}
	b.WriteString(")\n")
	fmt.Fprintf(b, "PARTITION BY (%s", archive.DateKey)
	if t.ByCategory {
		fmt.Fprintf(b, ", %s", archive.CategoryKey)
	}
	b.WriteString(")\n")
	fmt.Fprintf(b, "LOCATION = @%s\n", stage)
	b.WriteString("AUTO_REFRESH = FALSE\n")
	fmt.Fprintf(b, "PATTERN = %s\n", literal(Snowflake, snowflakePattern(t)))
	b.WriteString("FILE_FORMAT = (TYPE = PARQUET)\n")
	b.WriteString("COMMENT = 'Sigma audit log events archived by auditexport';\n")
	b.WriteString("\n-- After each auditexport run, register its new files (or set up AUTO_REFRESH with the\n")
	b.WriteString("-- bucket's event notifications):\n")
	fmt.Fprintf(b, "--   ALTER EXTERNAL TABLE %s REFRESH;\n", name)
	b.WriteString("-- TIMESTAMP_NTZ columns hold UTC wall-clock time.\n")
	b.WriteString("-- Example: SELECT event_date, COUNT(*) FROM " + name + "\n")
	b.WriteString("--   WHERE event_date >= DATEADD(day, -7, CURRENT_DATE()) GROUP BY 1 ORDER BY 1;\n")
}

// snowflakeURL is the stage URL of the archive: s3://, gcs:// or
// azure://<account>.blob.core.windows.net/<container>/.
func snowflakeURL(l Location) string {
	switch l.Scheme {
	case "gs":
		return "gcs://" + l.Bucket + "/" + l.Path
	case "azblob":
		return "azure://" + l.Account + ".blob.core.windows.net/" + l.Bucket + "/" + l.Path
	}
	return l.Scheme + "://" + l.Bucket + "/" + l.Path
}

// snowflakeKey extracts a partition key's value from METADATA$FILENAME.
func snowflakeKey(key string) string {
	return fmt.Sprintf("SPLIT_PART(SPLIT_PART(METADATA$FILENAME, '%s=', 2), '/', 1)", key)
}

// snowflakePattern is the regular expression of the data files' paths:
// [<prefix>]event_date=YYYY-MM-DD/[event_category=<value>/]<name>.parquet.
func snowflakePattern(t *Table) string {
	var p strings.Builder
	p.WriteString("^")
	if t.Location.Path != "" {
		p.WriteString("(" + regexQuote(t.Location.Path) + ")?")
	}
	p.WriteString(archive.DateKey + "=[0-9]{4}-[0-9]{2}-[0-9]{2}/")
	if t.ByCategory {
		p.WriteString(archive.CategoryKey + "=[^/]+/")
	}
	p.WriteString("[^/]+" + regexQuote(archive.DataExt) + "$")
	return p.String()
}

// regexQuote escapes s for a POSIX regular expression, using bracket
// expressions where it can (no backslashes to double in the literal).
func regexQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '.', '+', '*', '?', '(', ')', '{', '}', '|', '$':
			b.WriteString("[" + string(r) + "]")
		case '[', ']', '^', '\\':
			b.WriteString(`\` + string(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
