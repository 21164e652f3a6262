package ddl

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
)

// Column is one column of the table, as the data files name and type it.
type Column struct {
	Name     string // in the data files: the column ID, lower-cased with parquet.lower_case_columns
	ID       string // the CDW column ID
	Friendly string
	Type     schema.Type
	FieldID  int32
	// Absent marks a catalog column that no data file of the archive holds
	// (the catalog gained it after the last run): engines that read by name
	// return NULL for it; DuckDB's view selects a typed NULL.
	Absent bool
}

// Location is where the archive's Hive layout starts.
type Location struct {
	Scheme string // s3, gs, azblob, file or mem
	Bucket string // the bucket or container; "" for file
	// Path is the key prefix inside the bucket ("" or "a/b/"), or for file
	// the absolute directory, ending in "/".
	Path string
	// Account is the Azure storage account (azblob only).
	Account string
	// Endpoint is a custom S3 endpoint from the URL (an S3-compatible store).
	Endpoint string
}

// String is the location as auditexport's own URL names it.
func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + l.Path
	}
	return l.Scheme + "://" + l.Bucket + "/" + l.Path
}

// LocationOf reads the Location of an archive from destination.url and
// destination.prefix, the way sinks.Open reads them: a plain path is a
// local directory (relative to the working directory), file://./rel is
// relative too, and a prefix= URL parameter comes before the prefix.
// Nothing is opened. getenv supplies AZURE_STORAGE_ACCOUNT where the URL
// names no storage_account.
func LocationOf(rawURL, prefix string, getenv func(string) string) (Location, error) {
	bad := func(err error) (Location, error) {
		return Location{}, &InputError{Setting: "destination.url", Problem: err.Error()}
	}
	if !strings.Contains(rawURL, "://") {
		abs, err := filepath.Abs(rawURL)
		if err != nil {
			return bad(err)
		}
		return Location{Scheme: "file", Path: joinPath(filepath.ToSlash(abs), prefix)}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return bad(err)
	}
	q := u.Query()
	if p := strings.Trim(q.Get("prefix"), "/"); p != "" {
		prefix = p + "/" + strings.Trim(prefix, "/")
	}
	l := Location{Scheme: strings.ToLower(u.Scheme), Bucket: u.Host}
	switch l.Scheme {
	case "file":
		dir := u.Path
		if u.Host == "." {
			abs, err := filepath.Abs(strings.TrimPrefix(u.Path, "/"))
			if err != nil {
				return bad(err)
			}
			dir = filepath.ToSlash(abs)
		}
		return Location{Scheme: "file", Path: joinPath(dir, prefix)}, nil
	case "s3":
		l.Endpoint = q.Get("endpoint")
	case "azblob":
		l.Account = q.Get("storage_account")
		if l.Account == "" && getenv != nil {
			l.Account = getenv("AZURE_STORAGE_ACCOUNT")
		}
		if d := q.Get("domain"); d != "" && d != "blob.core.windows.net" {
			l.Endpoint = d
		}
	}
	l.Path = joinPath("", prefix)
	return l, nil
}

// joinPath joins a directory and a key prefix into a path ending in "/"
// ("" when both are empty).
func joinPath(dir, prefix string) string {
	p := strings.Trim(strings.TrimSuffix(dir, "/")+"/"+strings.Trim(prefix, "/"), "/")
	if strings.HasPrefix(dir, "/") {
		p = "/" + p
	}
	if p == "" || p == "/" {
		return p
	}
	return p + "/"
}

// Settings are the archive's shape as far as a statement needs it: the
// config's values, unless the archive records its own.
type Settings struct {
	ByCategory bool
	LowerCase  bool
	TimeZone   string // partitioning.timezone (an IANA name)
}

// Table is what a statement describes.
type Table struct {
	Name     []string // [catalog.][schema.]table
	Location Location
	Columns  []Column
	Settings
	// Categories are the event_category partition values (as escaped in
	// the layout) of the catalog's categories and of the archive's
	// partitions, sorted; empty without by_category.
	Categories []string
	// FirstDay is the first committed event date (YYYY-MM-DD), "" for an
	// archive without commits.
	FirstDay       string
	CatalogVersion string
	// Commits and Footers say where the columns came from: the archive's
	// commits and the data file footers read, or (both 0) the catalog alone.
	Commits, Footers int
	// Extra counts the columns the archive's files add to the catalog's.
	Extra int
}

// splitMerged returns the columns to declare and the data columns named
// like a partition key (EVENT_CATEGORY with by_category, case-insensitively):
// engines read a file column and a partition key of one name as one column,
// so the partition column stands for them.
func (t *Table) splitMerged() (declared, merged []Column) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, archive.DateKey) || t.ByCategory && strings.EqualFold(c.Name, archive.CategoryKey) {
			merged = append(merged, c)
			continue
		}
		declared = append(declared, c)
	}
	return declared, merged
}

// NewTable joins the catalog's columns with what the archive's files hold
// (a may be nil or hold no commits: the catalog alone). Columns come in
// catalog order, then the columns only the files hold, in the order the
// commits first wrote them. A column whose files disagree with the
// catalog's type is an error: no engine could read both.
func NewTable(cat *schema.Catalog, a *Archive, s Settings, loc Location, name []string) (*Table, error) {
	t := &Table{Name: name, Location: loc, Settings: s, CatalogVersion: cat.Version}
	inFiles := map[string]FileColumn{}
	if a != nil && a.Commits > 0 {
		if a.Shape != nil {
			t.ByCategory, t.LowerCase, t.TimeZone = a.Shape.ByCategory, a.Shape.LowerCaseColumns, a.Shape.PartitionTimezone
		}
		t.Commits, t.Footers, t.FirstDay = a.Commits, a.Footers, a.FirstDay
		for _, fc := range a.Columns {
			inFiles[fc.Name] = fc
		}
	}
	seen := map[string]bool{}
	for _, c := range cat.Columns {
		col := Column{Name: exporter.ColumnName(c.ID, t.LowerCase), ID: c.ID, Friendly: c.Friendly, Type: c.Type, FieldID: c.FieldID}
		if fc, ok := inFiles[col.Name]; ok {
			if !sameStorage(fc.Type, c.Type) {
				return nil, &TypeError{Column: col.Name, Catalog: c.Type, File: fc.Type, Key: fc.Key}
			}
		} else if t.Commits > 0 {
			col.Absent = true
		}
		seen[col.Name] = true
		t.Columns = append(t.Columns, col)
	}
	if a != nil {
		for _, fc := range a.Columns {
			if seen[fc.Name] {
				continue
			}
			seen[fc.Name] = true
			id, friendly := fc.ID, fc.Friendly
			if id == "" {
				id = fc.Name
			}
			t.Columns = append(t.Columns, Column{Name: fc.Name, ID: id, Friendly: friendly, Type: fc.Type, FieldID: fc.FieldID})
			t.Extra++
		}
	}
	if t.ByCategory {
		cats := map[string]bool{}
		for _, c := range cat.Categories {
			cats[archive.EscapePartitionValue(c.Name)] = true
		}
		if a != nil {
			for _, p := range a.Partitions {
				if v, ok := categoryOf(p); ok {
					cats[v] = true
				}
			}
		}
		for v := range cats {
			t.Categories = append(t.Categories, v)
		}
		slices.Sort(t.Categories)
	}
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	return t, nil
}

// categoryOf returns the escaped event_category value of a partition path.
func categoryOf(partition string) (string, bool) {
	_, rest, ok := strings.Cut(partition, "/")
	if !ok {
		return "", false
	}
	return strings.CutPrefix(rest, archive.CategoryKey+"=")
}

// sameStorage reports whether two column types are stored alike: json is
// a string in the files.
func sameStorage(a, b schema.Type) bool {
	norm := func(t schema.Type) schema.Type {
		if t == schema.JSON {
			return schema.String
		}
		return t
	}
	return norm(a) == norm(b)
}

// TypeError is a column whose data files store another type than the
// catalog gives it.
type TypeError struct {
	Column        string
	Catalog, File schema.Type
	Key           string // a data file holding the other type
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("column %s is %s in the catalog but %s in data file %s: no engine can read both under one table; query the files separately", e.Column, e.Catalog, e.File, e.Key)
}
