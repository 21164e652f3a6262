package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Type OIDs the PostgreSQL source treats specially (PostgreSQL's pg_type.dat; fixed across versions).
const (
	oidBool        = 16
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidJSONB       = 3802
)

// pgQuerier is what catalog lookups need: a connection or a transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tableRef is a table name, as configured or as resolved. A configured part that was double-quoted matches
// only exactly; a bare part also matches case-insensitively.
type tableRef struct {
	schema, name             string
	schemaQuoted, nameQuoted bool
}

// ident is the name quoted for SQL.
func (t tableRef) ident() pgx.Identifier {
	if t.schema == "" {
		return pgx.Identifier{t.name}
	}
	return pgx.Identifier{t.schema, t.name}
}

// String renders the name as a person would write it in SQL: parts quoted only where needed
// (audit.audit_logs, public."Audit Logs").
func (t tableRef) String() string {
	if t.schema == "" {
		return displayIdent(t.name)
	}
	return displayIdent(t.schema) + "." + displayIdent(t.name)
}

var plainIdentRE = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

func displayIdent(s string) string {
	if plainIdentRE.MatchString(s) {
		return s
	}
	return pgx.Identifier{s}.Sanitize()
}

// parseTableName splits "table", "schema.table" or a form with double-quoted parts ("my.schema"."Audit Logs").
// Bare parts are kept as written, spaces and case included.
func parseTableName(s, setting string) (tableRef, error) {
	bad := func(why string) (tableRef, error) {
		return tableRef{}, fmt.Errorf("%s %q: %s; want table or schema.table", setting, s, why)
	}
	var parts []string
	var quoted []bool
	rest := strings.TrimSpace(s)
	for {
		var part string
		q := strings.HasPrefix(rest, `"`)
		if q {
			end := -1
			for i := 1; i < len(rest); i++ {
				if rest[i] != '"' {
					continue
				}
				if i+1 < len(rest) && rest[i+1] == '"' {
					i++
					continue
				}
				end = i
				break
			}
			if end < 0 {
				return bad("unterminated double quote")
			}
			part = strings.ReplaceAll(rest[1:end], `""`, `"`)
			rest = rest[end+1:]
			if rest != "" && rest[0] != '.' {
				return bad("text after a closing double quote")
			}
		} else {
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				i = len(rest)
			}
			part, rest = rest[:i], rest[i:]
		}
		if part == "" {
			return bad("empty name")
		}
		parts = append(parts, part)
		quoted = append(quoted, q)
		if rest == "" {
			break
		}
		rest = rest[1:] // the dot
		if rest == "" {
			return bad("empty name after the dot")
		}
	}
	switch len(parts) {
	case 1:
		return tableRef{name: parts[0], nameQuoted: quoted[0]}, nil
	case 2:
		return tableRef{schema: parts[0], name: parts[1], schemaQuoted: quoted[0], nameQuoted: quoted[1]}, nil
	default:
		return bad(strconv.Itoa(len(parts)) + " dot-separated parts")
	}
}

// relation is a resolved table or view.
type relation struct {
	ref tableRef // exact schema and name
	oid uint32
}

// resolveTable finds the table or view ref names: an exact match first (the nearest in the search_path when
// unqualified), otherwise a unique case-insensitive match, so AUDIT_LOGS finds audit_logs.
func (p *Source) resolveTable(ctx context.Context, q pgQuerier, ref tableRef, configured string) (relation, error) {
	const query = `
SELECT n.nspname, c.relname, c.oid,
       coalesce(array_position(current_schemas(false), n.nspname), 0)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND lower(c.relname) = lower($1)
  AND CASE WHEN $2::text = '' THEN n.nspname = ANY (current_schemas(false))
           ELSE lower(n.nspname) = lower($2) END`
	type candidate struct {
		relation
		pos int
	}
	rows, err := q.Query(ctx, query, ref.name, ref.schema)
	if err != nil {
		return relation{}, p.tableErr(configured, "look up", err)
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.ref.schema, &c.ref.name, &c.oid, &c.pos); err != nil {
			rows.Close()
			return relation{}, p.tableErr(configured, "look up", err)
		}
		cands = append(cands, c)
	}
	if err := rows.Err(); err != nil {
		return relation{}, p.tableErr(configured, "look up", err)
	}

	// nearest keeps the candidates that match and sit earliest in the search_path.
	nearest := func(match func(tableRef) bool) []candidate {
		var best []candidate
		for _, c := range cands {
			if !match(c.ref) {
				continue
			}
			if len(best) > 0 && c.pos > best[0].pos {
				continue
			}
			if len(best) > 0 && c.pos < best[0].pos {
				best = best[:0]
			}
			best = append(best, c)
		}
		return best
	}
	exact := nearest(func(r tableRef) bool {
		return r.name == ref.name && (ref.schema == "" || r.schema == ref.schema)
	})
	if len(exact) == 1 {
		return exact[0].relation, nil
	}
	folded := nearest(func(r tableRef) bool {
		return strings.EqualFold(r.name, ref.name) && (!ref.nameQuoted || r.name == ref.name) &&
			(ref.schema == "" || strings.EqualFold(r.schema, ref.schema) && (!ref.schemaQuoted || r.schema == ref.schema))
	})
	switch len(folded) {
	case 1:
		return folded[0].relation, nil
	case 0:
		var searchPath string
		if err := q.QueryRow(ctx, `SELECT current_setting('search_path')`).Scan(&searchPath); err != nil {
			return relation{}, p.tableErr(configured, "look up", err)
		}
		where := "the search_path (" + searchPath + "); schema-qualify it, e.g. audit.audit_logs"
		if ref.schema != "" {
			where = "schema " + displayIdent(ref.schema) + " (search_path: " + searchPath + ")"
		}
		return relation{}, fmt.Errorf("postgres table %q (%s) not found at %s: no table or view of that name in %s",
			configured, p.setting("table"), p.endpoint, where)
	default:
		names := make([]string, len(folded))
		for i, c := range folded {
			names[i] = c.ref.String()
		}
		return relation{}, fmt.Errorf("postgres table %q (%s) is ambiguous at %s: it matches %s; write the name in its exact case",
			configured, p.setting("table"), p.endpoint, strings.Join(names, ", "))
	}
}

func (p *Source) tableErr(configured, what string, err error) error {
	return fmt.Errorf("%s postgres table %q (%s) at %s: %w", what, configured, p.setting("table"), p.endpoint, p.secrets.Err(err))
}

// pgColumn is one column of the table, with the type it is read as: a domain is read as its base type.
type pgColumn struct {
	name      string
	typeName  string // as declared, e.g. "timestamp with time zone" or a domain's name
	baseOID   uint32 // the type after looking through domains
	baseName  string // format_type of the base type, safe to use in a cast
	isArray   bool
	isDomain  bool
	canSelect bool
}

// columns lists the relation's columns in order.
func (p *Source) columns(ctx context.Context, q pgQuerier, rel relation) ([]pgColumn, error) {
	const query = `
WITH RECURSIVE base(attnum, typid, typmod) AS (
    SELECT a.attnum, a.atttypid, a.atttypmod
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
    SELECT b.attnum, t.typbasetype, t.typtypmod
    FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.typid
    WHERE t.typtype = 'd'
)
SELECT a.attname, format_type(a.atttypid, a.atttypmod), b.typid, format_type(b.typid, b.typmod),
       t.typcategory = 'A', b.typid <> a.atttypid, has_column_privilege(a.attrelid, a.attnum, 'SELECT')
FROM pg_catalog.pg_attribute a
JOIN base b ON b.attnum = a.attnum
JOIN pg_catalog.pg_type t ON t.oid = b.typid AND t.typtype <> 'd'
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`
	rows, err := q.Query(ctx, query, rel.oid)
	if err != nil {
		return nil, p.tableErr(rel.ref.String(), "read the columns of", err)
	}
	var cols []pgColumn
	var denied []string
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.name, &c.typeName, &c.baseOID, &c.baseName, &c.isArray, &c.isDomain, &c.canSelect); err != nil {
			rows.Close()
			return nil, p.tableErr(rel.ref.String(), "read the columns of", err)
		}
		if !c.canSelect {
			denied = append(denied, strconv.Quote(c.name))
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, p.tableErr(rel.ref.String(), "read the columns of", err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("postgres table %s (%s) at %s has no columns", rel.ref, p.setting("table"), p.endpoint)
	}
	if len(denied) > 0 {
		var user string
		_ = q.QueryRow(ctx, `SELECT current_user`).Scan(&user)
		return nil, fmt.Errorf("postgres table %s (%s) at %s: user %q may not SELECT column(s) %s: grant SELECT on the table",
			rel.ref, p.setting("table"), p.endpoint, user, strings.Join(denied, ", "))
	}
	return cols, nil
}

// findTimeColumn picks the time column: the exact name, else the one column equal to it ignoring case.
func (p *Source) findTimeColumn(rel relation, cols []pgColumn, want string) (pgColumn, error) {
	var found []pgColumn
	for _, c := range cols {
		if c.name == want {
			found = []pgColumn{c}
			break
		}
		if strings.EqualFold(c.name, want) {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 0:
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = strconv.Quote(c.name)
		}
		return pgColumn{}, fmt.Errorf("time column %q (%s) not found in postgres table %s at %s; its columns are: %s",
			want, p.setting("time_column"), rel.ref, p.endpoint, strings.Join(names, ", "))
	case len(found) > 1:
		names := make([]string, len(found))
		for i, c := range found {
			names[i] = strconv.Quote(c.name)
		}
		return pgColumn{}, fmt.Errorf("time column %q (%s) is ambiguous in postgres table %s at %s: it matches %s; write the name in its exact case",
			want, p.setting("time_column"), rel.ref, p.endpoint, strings.Join(names, ", "))
	}
	c := found[0]
	switch c.baseOID {
	case oidTimestamptz, oidTimestamp, oidDate:
		return c, nil
	}
	return pgColumn{}, fmt.Errorf("time column %q (%s) of postgres table %s at %s is %s: want timestamp with time zone, timestamp or date (a view can cast it)",
		c.name, p.setting("time_column"), rel.ref, p.endpoint, c.typeName)
}
