package schema

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/catalog.md and append new columns to testdata/field_ids.txt (or set UPDATE_GOLDEN=1)")

func init() {
	if os.Getenv("UPDATE_GOLDEN") != "" {
		*update = true
	}
}

// TestCatalogDocIsCurrent keeps docs/catalog.md equal to the embedded catalog.
func TestCatalogDocIsCurrent(t *testing.T) {
	path := filepath.Join("..", "docs", "catalog.md")
	want := renderCatalogDoc(builtin(t))
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schema -update)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with schema/catalog.yaml; run go test ./schema -update", path)
	}
}

// renderCatalogDoc renders docs/catalog.md.
func renderCatalogDoc(c *Catalog) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	list := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return "`" + strings.Join(s, "`, `") + "`"
	}

	p("# The audit log catalog\n\n")
	p("<!-- Generated from schema/catalog.yaml by TestCatalogDocIsCurrent; do not edit.\n")
	p("     After changing the catalog run: go test ./schema -update -->\n\n")
	p("Catalog version `%s`: %d event categories, %d columns. The catalog is data embedded in the binary\n", c.Version, len(c.Categories), len(c.Columns))
	p("(`schema/catalog.yaml`); `auditexport schema` prints it, and an org adds or corrects columns with the\n")
	p("`schema.columns` setting, without a rebuild.\n\n")

	p("## Confirmed and assumed\n\n")
	p("Every entry has a status:\n\n")
	p("- **confirmed**: a fact Sigma publishes (the documented categories, and the friendly names Sigma's own\n")
	p("  material shows).\n")
	p("- **assumed**: a working assumption of this project. Sigma's complete column table is not available to us,\n")
	p("  so the column ID of every column, even one with a confirmed friendly name, is assumed to be the friendly\n")
	p("  name in upper snake case (`Event Status Reason Code` -> `EVENT_STATUS_REASON_CODE`), and every type is\n")
	p("  assumed. A test checks that each friendly name derives to its ID.\n\n")
	p("Headers are resolved by column ID (also case-folded), then by friendly name or alias (case and spacing\n")
	p("ignored; an org's `schema.columns` header wins over a built-in name), else the derived ID is kept as a\n")
	p("string column with a warning (an error under `schema.strict`). No column is dropped.\n\n")

	p("## Field IDs\n\n")
	p("Each column's Parquet `field_id` is stable for ever: it is never renumbered or reused, and a column's type\n")
	p("never changes (`schema/testdata/field_ids.txt` pins every released column). Base columns use 1..99; event\n")
	p("columns use a block of 100 per category, in the order of the categories below (a column shared by several\n")
	p("categories stays in the block of the first); columns outside the catalog get a stable hash of their ID in\n")
	p("[%d, 2^31-1) (`schema.DerivedFieldID`), or an org's explicit `field_id` of %d or more.\n\n", MinOrgFieldID, MinOrgFieldID)

	p("## Categories\n\n")
	p("| category | aliases | status | records |\n| --- | --- | --- | --- |\n")
	for _, cat := range c.Categories {
		p("| `%s` | %s | %s | %s |\n", cat.Name, list(cat.Aliases), cat.Status, cell(cat.Description))
	}
	p("\nCategories are an open set: rows of other categories are kept like any other.\n")

	header := "| column ID | friendly name | type | field ID | status | description |\n| --- | --- | --- | --- | --- | --- |\n"
	row := func(col Column, extra string) {
		desc := col.Description
		if extra != "" {
			desc += " " + extra
		}
		p("| `%s` | %s | %s | %d | %s | %s |\n", col.ID, cell(col.Friendly), col.Type, col.FieldID, col.Status, cell(strings.TrimSpace(desc)))
	}

	p("\n## Base columns\n\nEvery event has these.\n\n%s", header)
	for _, col := range c.Columns {
		if len(col.Categories) == 0 {
			row(col, "")
		}
	}

	p("\n## Event columns\n\nFilled only by events of the listed categories; empty otherwise.\n")
	for _, cat := range c.Categories {
		p("\n### %s\n\n%s", cat.Name, header)
		for _, col := range c.Columns {
			if !slices.Contains(col.Categories, cat.Name) {
				continue
			}
			others := slices.DeleteFunc(slices.Clone(col.Categories), func(s string) bool { return s == cat.Name })
			extra := ""
			if len(others) > 0 {
				extra = "Also in " + strings.Join(others, ", ") + "."
			}
			row(col, extra)
		}
	}
	return b.String()
}
