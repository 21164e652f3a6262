package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// databricks writes a Parquet table over the archive's location. Spark's
// file index skips every file and directory whose name starts with _ or .
// (unless it holds =), so _manifest.json, _SUCCESS and _auditexport/ are
// never read; MSCK REPAIR TABLE registers the event_date=... directories.
func databricks(b *strings.Builder, t *Table) {
	name := quoteName(Databricks, t.Name)
	hiveColumns(b, Databricks, t, "DATE", "STRING")
	partitions := quoteColumn(Databricks, archive.DateKey)
	if t.ByCategory {
		partitions += ", " + quoteColumn(Databricks, archive.CategoryKey)
	}
	b.WriteString("\n)\nUSING PARQUET\n")
	fmt.Fprintf(b, "PARTITIONED BY (%s)\n", partitions)
	fmt.Fprintf(b, "LOCATION %s\n", literal(Databricks, cloudURL(t.Location)))
	b.WriteString("COMMENT 'Sigma audit log events archived by auditexport';\n\n")
	b.WriteString("-- Register the partitions; run it again after each auditexport run to add new days.\n")
	fmt.Fprintf(b, "MSCK REPAIR TABLE %s;\n", name)
	b.WriteString("\n-- Unity Catalog needs an external location (with its storage credential) that covers this path.\n")
	b.WriteString("-- Example: SELECT event_date, count(*) FROM " + name + "\n")
	b.WriteString("--   WHERE event_date >= date_sub(current_date(), 7) GROUP BY 1 ORDER BY 1;\n")
}

// hiveColumns opens the CREATE TABLE of a Hive-style engine (Databricks,
// Trino): the data columns with their comments, then the partition
// columns, typed dateType and categoryType, left open for the engine's
// closing clauses.
func hiveColumns(b *strings.Builder, e Engine, t *Table, dateType, categoryType string) {
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", quoteName(e, t.Name))
	for _, c := range t.Columns {
		fmt.Fprintf(b, "  %s %s COMMENT %s,\n", quoteColumn(e, c.Name), typeName(e, c.Type), literal(e, describe(c, jsonHints[e])))
	}
	fmt.Fprintf(b, "  %s %s", quoteColumn(e, archive.DateKey), dateType)
	if t.ByCategory {
		fmt.Fprintf(b, ",\n  %s %s", quoteColumn(e, archive.CategoryKey), categoryType)
	}
}
