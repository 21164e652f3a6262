package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// trino writes a Hive connector table over the archive's location, then
// syncs its partitions. sync_partition_metadata only descends into
// directories named <partition column>=..., so _auditexport/ is never
// registered, and the connector skips files whose names start with _ or .
// inside a partition (_manifest.json, _SUCCESS).
func trino(b *strings.Builder, t *Table) {
	name := quoteName(Trino, t.Name)
	hiveColumns(b, Trino, t, "date", "varchar")
	partitions := literal(Trino, archive.DateKey)
	if t.ByCategory {
		partitions += ", " + literal(Trino, archive.CategoryKey)
	}
	b.WriteString("\n)\nCOMMENT 'Sigma audit log events archived by auditexport'\nWITH (\n")
	fmt.Fprintf(b, "  external_location = %s,\n", literal(Trino, cloudURL(t.Location)))
	b.WriteString("  format = 'PARQUET',\n")
	fmt.Fprintf(b, "  partitioned_by = ARRAY[%s]\n", partitions)
	b.WriteString(");\n\n")
	b.WriteString("-- Register the partitions; run it again after each auditexport run to add new days.\n")
	proc := "system.sync_partition_metadata"
	schemaName, table := t.Name[len(t.Name)-2], t.Name[len(t.Name)-1]
	if len(t.Name) == 3 {
		proc = quoteIdent(Trino, t.Name[0]) + "." + proc
	}
	fmt.Fprintf(b, "CALL %s(schema_name => %s, table_name => %s, mode => 'FULL');\n", proc,
		literal(Trino, strings.ToLower(schemaName)), literal(Trino, strings.ToLower(table)))
	b.WriteString("\n-- timestamp columns hold UTC wall-clock time, at the catalog's hive.timestamp-precision\n")
	b.WriteString("-- (milliseconds by default). Columns are matched to the Parquet files by name\n")
	b.WriteString("-- (hive.parquet.use-column-names, the default).\n")
	b.WriteString("-- Example: SELECT event_date, count(*) FROM " + name + "\n")
	b.WriteString("--   WHERE event_date >= current_date - INTERVAL '7' DAY GROUP BY 1 ORDER BY 1;\n")
}
