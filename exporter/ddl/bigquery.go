package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// bigquery writes an external table with hive partitioning. Its one URI
// wildcard sits between the partition key and the data file extension
// (<prefix>/event_date=*.parquet): BigQuery's * matches across /, so the
// URI selects every data file of every partition and nothing else, neither
// _manifest.json nor _SUCCESS nor anything under _auditexport/.
func bigquery(b *strings.Builder, t *Table, o Options) {
	name := quoteName(BigQuery, t.Name)
	root, omni := bigqueryRoot(t.Location)
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
	for i, c := range t.Columns {
		fmt.Fprintf(b, "  %s %s OPTIONS (description = %s)%s\n", quoteColumn(BigQuery, c.Name), typeName(BigQuery, c.Type),
			literal(BigQuery, describe(c, jsonHints[BigQuery])), comma(i, len(t.Columns)))
	}
	b.WriteString(")\n")
	if o.Connection != "" {
		fmt.Fprintf(b, "WITH CONNECTION `%s`\n", o.Connection)
	}
	b.WriteString("WITH PARTITION COLUMNS (\n")
	fmt.Fprintf(b, "  %s DATE", archive.DateKey)
	if t.ByCategory {
		fmt.Fprintf(b, ",\n  %s STRING", archive.CategoryKey)
	}
	b.WriteString("\n)\nOPTIONS (\n")
	b.WriteString("  format = 'PARQUET',\n")
	fmt.Fprintf(b, "  uris = [%s],\n", literal(BigQuery, root+"/"+archive.DateKey+"=*"+archive.DataExt))
	fmt.Fprintf(b, "  hive_partition_uri_prefix = %s,\n", literal(BigQuery, root))
	b.WriteString("  require_hive_partition_filter = false,\n")
	b.WriteString("  description = 'Sigma audit log events archived by auditexport'\n")
	b.WriteString(");\n")
	b.WriteString("\n-- require_hive_partition_filter = true makes every query name an event_date (cheaper scans).\n")
	switch {
	case omni:
		b.WriteString("-- BigQuery Omni reads this bucket through the connection above (an AWS or Azure region);\n")
		b.WriteString("-- the dataset must be in that connection's region.\n")
	case o.Connection != "":
		b.WriteString("-- A BigLake table: the connection's service account reads the bucket, so users need rights\n")
		b.WriteString("-- on the table only.\n")
	}
	b.WriteString("-- Example: SELECT event_date, COUNT(*) FROM " + name + "\n")
	b.WriteString("--   WHERE event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY) GROUP BY 1 ORDER BY 1;\n")
}

// bigqueryRoot is the URI prefix right before the first partition key (no
// trailing slash, as hive_partition_uri_prefix takes it), and whether the
// bucket is outside Google Cloud (read through BigQuery Omni).
func bigqueryRoot(l Location) (string, bool) {
	path := strings.TrimSuffix(l.Path, "/")
	if path != "" {
		path = "/" + path
	}
	switch l.Scheme {
	case "s3":
		return "s3://" + l.Bucket + path, true
	case "azblob":
		return "azure://" + l.Account + ".blob.core.windows.net/" + l.Bucket + path, true
	}
	return "gs://" + l.Bucket + path, false
}
