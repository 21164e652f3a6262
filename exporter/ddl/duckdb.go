package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// duckdb writes a view over read_parquet with hive partitioning. The glob
// starts at the partition key and ends in the data file extension, so it
// never matches _manifest.json, _SUCCESS or anything under _auditexport/;
// union_by_name reads files written before a run added a column.
func duckdb(b *strings.Builder, t *Table) {
	if setup := duckdbSetup(t.Location); setup != "" {
		b.WriteString(setup)
		b.WriteString("\n")
	}
	name := quoteName(DuckDB, t.Name)
	fmt.Fprintf(b, "CREATE OR REPLACE VIEW %s AS\nSELECT\n", name)
	for _, c := range t.Columns {
		col := quoteColumn(DuckDB, c.Name)
		if c.Absent {
			col = fmt.Sprintf("CAST(NULL AS %s) AS %s", typeName(DuckDB, c.Type), col)
		}
		fmt.Fprintf(b, "  %s, -- %s\n", col, describe(c, jsonHints[DuckDB]))
	}
	// Aliased: where a file column has a partition key's name in another
	// case, DuckDB reads the two as one column under the file's spelling.
	fmt.Fprintf(b, "  %s AS %s", archive.DateKey, archive.DateKey)
	hiveTypes := fmt.Sprintf("'%s': DATE", archive.DateKey)
	glob := duckdbRoot(t.Location) + archive.DateKey + "=*/"
	if t.ByCategory {
		fmt.Fprintf(b, ",\n  %s AS %s", archive.CategoryKey, archive.CategoryKey)
		hiveTypes += fmt.Sprintf(", '%s': VARCHAR", archive.CategoryKey)
		glob += archive.CategoryKey + "=*/"
	}
	glob += "*" + archive.DataExt
	b.WriteString("\nFROM read_parquet(\n")
	fmt.Fprintf(b, "  %s,\n", literal(DuckDB, glob))
	b.WriteString("  hive_partitioning = true,\n")
	fmt.Fprintf(b, "  hive_types = {%s},\n", hiveTypes)
	b.WriteString("  union_by_name = true\n);\n")
	b.WriteString("\n-- Example: SELECT event_date, count(*) FROM " + name + " GROUP BY ALL ORDER BY ALL;\n")
}

// duckdbRoot is the archive's location as DuckDB names it.
func duckdbRoot(l Location) string {
	switch l.Scheme {
	case "file":
		return l.Path
	case "azblob":
		return "az://" + l.Bucket + "/" + l.Path
	}
	return l.Scheme + "://" + l.Bucket + "/" + l.Path
}

// duckdbSetup says, as comments, what DuckDB needs to read a remote
// archive: the extension and a secret (credentials are the user's).
func duckdbSetup(l Location) string {
	switch l.Scheme {
	case "s3":
		s := "-- DuckDB reads S3 through the httpfs extension, with a secret (here: the AWS credential chain):\n" +
			"--   INSTALL httpfs; LOAD httpfs; INSTALL aws; LOAD aws;\n"
		if l.Endpoint != "" {
			host, plain := strings.CutPrefix(l.Endpoint, "http://")
			host = strings.TrimPrefix(host, "https://")
			ssl := ""
			if plain {
				ssl = ", USE_SSL false"
			}
			return s + fmt.Sprintf("--   CREATE SECRET (TYPE s3, PROVIDER credential_chain, ENDPOINT %s, URL_STYLE 'path'%s);\n",
				literal(DuckDB, host), ssl)
		}
		return s + "--   CREATE SECRET (TYPE s3, PROVIDER credential_chain);\n"
	case "gs":
		return "-- DuckDB reads GCS through the httpfs extension, with an HMAC key of the bucket's project:\n" +
			"--   INSTALL httpfs; LOAD httpfs;\n" +
			"--   CREATE SECRET (TYPE gcs, KEY_ID '<hmac key id>', SECRET '<hmac secret>');\n"
	case "azblob":
		return "-- DuckDB reads Azure Blob through the azure extension:\n" +
			"--   INSTALL azure; LOAD azure;\n" +
			fmt.Sprintf("--   CREATE SECRET (TYPE azure, PROVIDER credential_chain, ACCOUNT_NAME %s);\n", literal(DuckDB, l.Account))
	}
	return ""
}
