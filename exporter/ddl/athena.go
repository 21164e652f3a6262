package ddl

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/exporter/archive"
)

// athena writes a Glue table with partition projection: Athena computes
// the partitions from the table properties, so no MSCK REPAIR or crawler
// is needed, and reads each projected partition's directory, where it
// skips _manifest.json and _SUCCESS as hidden files (names starting with
// _ or .); the _auditexport/ prefix is never a projected location.
func athena(b *strings.Builder, t *Table) {
	name := quoteName(Athena, t.Name)
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
	for i, c := range t.Columns {
		fmt.Fprintf(b, "  %s %s COMMENT %s%s\n", quoteColumn(Athena, c.Name), typeName(Athena, c.Type),
			literal(Athena, describe(c, jsonHints[Athena])), comma(i, len(t.Columns)))
	}
	b.WriteString(")\n")
	b.WriteString("COMMENT 'Sigma audit log events archived by auditexport'\n")
	b.WriteString("PARTITIONED BY (\n")
	fmt.Fprintf(b, "  %s date", quoteColumn(Athena, archive.DateKey))
	if t.ByCategory {
		fmt.Fprintf(b, ",\n  %s string", quoteColumn(Athena, archive.CategoryKey))
	}
	b.WriteString("\n)\nSTORED AS PARQUET\n")
	loc := cloudURL(t.Location)
	fmt.Fprintf(b, "LOCATION %s\n", literal(Athena, loc))
	props := [][2]string{
		{"projection.enabled", "true"},
		{"projection." + archive.DateKey + ".type", "date"},
		{"projection." + archive.DateKey + ".format", "yyyy-MM-dd"},
		{"projection." + archive.DateKey + ".range", athenaRange(t)},
		{"projection." + archive.DateKey + ".interval", "1"},
		{"projection." + archive.DateKey + ".interval.unit", "DAYS"},
	}
	template := loc + archive.DateKey + "=${" + archive.DateKey + "}/"
	injected := false
	if t.ByCategory {
		injected = athenaInjected(t.Categories)
		if injected {
			props = append(props, [2]string{"projection." + archive.CategoryKey + ".type", "injected"})
		} else {
			props = append(props,
				[2]string{"projection." + archive.CategoryKey + ".type", "enum"},
				[2]string{"projection." + archive.CategoryKey + ".values", strings.Join(t.Categories, ",")})
		}
		template += archive.CategoryKey + "=${" + archive.CategoryKey + "}/"
	}
	props = append(props, [2]string{"storage.location.template", template})
	b.WriteString("TBLPROPERTIES (\n")
	for i, p := range props {
		fmt.Fprintf(b, "  %s = %s%s\n", literal(Athena, p[0]), literal(Athena, p[1]), comma(i, len(props)))
	}
	b.WriteString(");\n")
	b.WriteString("\n-- Athena reads timestamps at millisecond precision. Columns are matched to the Parquet\n")
	b.WriteString("-- files by name, case-insensitively; Athena stores the names in lower case.\n")
	if t.ByCategory {
		if injected {
			b.WriteString("-- A category holds a comma, which an enum projection cannot list: event_category is\n")
			b.WriteString("-- injected, so every query must filter it by value (WHERE event_category = '...').\n")
		} else {
			b.WriteString("-- event_category lists the catalog's categories and the archive's: a new category needs\n")
			b.WriteString("-- this statement again (or ALTER TABLE ... SET TBLPROPERTIES with the new values).\n")
		}
	}
	b.WriteString("-- Example: SELECT event_date, count(*) FROM " + name + "\n")
	b.WriteString("--   WHERE event_date >= current_date - INTERVAL '7' DAY GROUP BY 1 ORDER BY 1;\n")
}

// athenaRange is the date projection's range: the first committed day to
// NOW (the day after, when dates are in a zone ahead of UTC, so that
// today's partition is projected while it is still yesterday in UTC). An
// archive without commits starts 30 days back, what Sigma keeps.
func athenaRange(t *Table) string {
	from := t.FirstDay
	if from == "" {
		from = "NOW-30DAYS"
	}
	to := "NOW"
	if t.TimeZone != "UTC" && t.TimeZone != "Etc/UTC" {
		to = "NOW+1DAYS"
	}
	return from + "," + to
}

// athenaInjected reports whether the categories cannot be an enum
// projection: its values are a comma-separated list.
func athenaInjected(cats []string) bool {
	for _, c := range cats {
		if strings.Contains(c, ",") {
			return true
		}
	}
	return len(cats) == 0
}

// comma is "," after every item but the last.
func comma(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}
