package ddl

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	pqschema "github.com/apache/arrow-go/v18/parquet/schema"
	"golang.org/x/sync/errgroup"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Archive is what a statement needs from an archive.
type Archive struct {
	// Commits is the number of commits in the log (0: no archive yet).
	Commits int
	// Shape is the head commit's recorded shape; nil when it records none.
	Shape *archive.Shape
	// Partitions are the committed partitions, sorted.
	Partitions []string
	// FirstDay is the earliest committed event date (YYYY-MM-DD).
	FirstDay string
	// Files counts the committed data files; Footers the footers read.
	Files, Footers int
	// Columns are the columns of the data files, in the order the commits
	// first wrote them (commit number, then column order in the file).
	Columns []FileColumn
}

// FileColumn is a column as a data file's footer gives it.
type FileColumn struct {
	Name     string
	ID       string // the column ID, from the file's auditexport.columns map ("" if absent)
	Friendly string
	Type     schema.Type
	FieldID  int32
	Key      string // the first data file read that holds it
}

// maxFooter bounds the footer read: our footers are a few kilobytes; a
// larger length means a damaged or foreign file.
const maxFooter = 16 << 20

// Inspect reads the commit log of the archive in b and, for each commit,
// the footer of one of its data files (a commit is one run, and a run's
// files share one schema): two small range reads per commit, workers at
// once. An archive without commits returns a zero Archive.
func Inspect(ctx context.Context, b *sinks.Bucket, workers int) (*Archive, error) {
	st, err := archive.LoadState(ctx, b)
	if err != nil {
		return nil, err
	}
	a := &Archive{Commits: len(st.Numbers)}
	if a.Commits == 0 {
		return a, nil
	}
	a.Shape = st.Head.Shape
	if workers < 1 {
		workers = 1
	}
	commits := make([]*archive.Commit, len(st.Numbers))
	footers := make([][]FileColumn, len(st.Numbers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, n := range st.Numbers {
		g.Go(func() error {
			c, _, err := archive.ReadCommit(gctx, b, n)
			if err != nil {
				return err
			}
			commits[i] = c
			if len(c.Files) == 0 {
				return nil
			}
			f := slices.MinFunc(c.Files, func(x, y archive.File) int { return strings.Compare(x.Key, y.Key) })
			cols, err := readColumns(gctx, b, f.Key, f.Bytes)
			if errors.Is(err, sinks.ErrNotFound) && f.Staging != "" {
				// A commit not yet published (its run died after committing):
				// its files still wait under their staging keys.
				cols, err = readColumns(gctx, b, f.Staging, f.Bytes)
			}
			if err != nil {
				return err
			}
			footers[i] = cols
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	parts := map[string]bool{}
	index := map[string]int{}
	for i, c := range commits {
		for _, f := range c.Files {
			a.Files++
			parts[f.Partition] = true
			if d, ok := archive.PartitionDate(f.Partition); ok && (a.FirstDay == "" || d < a.FirstDay) {
				a.FirstDay = d
			}
		}
		if footers[i] == nil {
			continue
		}
		a.Footers++
		for _, fc := range footers[i] {
			j, ok := index[fc.Name]
			if !ok {
				index[fc.Name] = len(a.Columns)
				a.Columns = append(a.Columns, fc)
				continue
			}
			if have := a.Columns[j]; !sameStorage(have.Type, fc.Type) {
				return nil, &TypeError{Column: fc.Name, Catalog: have.Type, File: fc.Type, Key: fc.Key}
			}
		}
	}
	for p := range parts {
		a.Partitions = append(a.Partitions, p)
	}
	slices.Sort(a.Partitions)
	return a, nil
}

// FooterError is a committed data file whose Parquet footer cannot be read.
type FooterError struct {
	Key string
	Err error
}

func (e *FooterError) Error() string {
	return fmt.Sprintf("read the Parquet footer of %s: %v (run auditexport verify --read-data)", e.Key, e.Err)
}

func (e *FooterError) Unwrap() error { return e.Err }

// readColumns reads the footer of the Parquet file key (size bytes): its
// last 8 bytes (footer length and magic), then the footer itself.
func readColumns(ctx context.Context, b *sinks.Bucket, key string, size int64) ([]FileColumn, error) {
	if size < 12 {
		return nil, &FooterError{Key: key, Err: fmt.Errorf("%d bytes is too short for a Parquet file", size)}
	}
	tail, err := b.ReadRange(ctx, key, size-8, 8)
	if err != nil {
		return nil, err
	}
	if len(tail) != 8 || string(tail[4:]) != "PAR1" {
		return nil, &FooterError{Key: key, Err: fmt.Errorf("no Parquet magic at the end (the file is %d bytes as committed)", size)}
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > maxFooter || n+12 > size {
		return nil, &FooterError{Key: key, Err: fmt.Errorf("footer length %d does not fit a %d-byte file", n, size)}
	}
	raw, err := b.ReadRange(ctx, key, size-8-n, n)
	if err != nil {
		return nil, err
	}
	md, err := decodeFooter(raw)
	if err != nil {
		return nil, &FooterError{Key: key, Err: err}
	}
	return footerColumns(key, md)
}

// decodeFooter parses a footer; a damaged one can make the decoder panic,
// which is an error here.
func decodeFooter(raw []byte) (md *metadata.FileMetaData, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("damaged footer: %v", p)
		}
	}()
	return metadata.NewFileMetaData(raw, nil)
}

// footerColumns maps a footer's leaf columns to column types.
func footerColumns(key string, md *metadata.FileMetaData) ([]FileColumn, error) {
	ids := map[string]string{} // file column name -> column ID
	friendly := map[string]string{}
	if v := md.KeyValueMetadata().FindValue(exporter.MetaColumns); v != nil {
		var names map[string]string // column ID -> friendly name
		if err := json.Unmarshal([]byte(*v), &names); err == nil {
			for id, f := range names {
				for _, lower := range []bool{false, true} {
					n := exporter.ColumnName(id, lower)
					ids[n], friendly[n] = id, f
				}
			}
		}
	}
	sc := md.Schema
	cols := make([]FileColumn, 0, sc.NumColumns())
	for i := range sc.NumColumns() {
		c := sc.Column(i)
		typ, err := columnType(c)
		if err != nil {
			return nil, &FooterError{Key: key, Err: err}
		}
		cols = append(cols, FileColumn{
			Name: c.Name(), ID: ids[c.Name()], Friendly: friendly[c.Name()], Type: typ,
			FieldID: c.SchemaNode().FieldID(), Key: key,
		})
	}
	return cols, nil
}

// columnType is the column type a Parquet column was written from
// (schema.ArrowType's inverse; json cannot be told from string).
func columnType(c *pqschema.Column) (schema.Type, error) {
	lt := c.LogicalType()
	switch c.PhysicalType() {
	case parquet.Types.ByteArray:
		if lt.Equals(pqschema.StringLogicalType{}) {
			return schema.String, nil
		}
	case parquet.Types.Int64:
		if ts, ok := lt.(interface{ IsAdjustedToUTC() bool }); ok {
			if ts.IsAdjustedToUTC() {
				return schema.Timestamp, nil
			}
			break
		}
		if lt.Equals(pqschema.NewIntLogicalType(64, true)) || lt.Equals(pqschema.NoLogicalType{}) {
			return schema.Int, nil
		}
	case parquet.Types.Double:
		return schema.Float, nil
	case parquet.Types.Boolean:
		return schema.Bool, nil
	}
	return "", fmt.Errorf("column %s has Parquet type %s %s, which auditexport never writes", c.Name(), c.PhysicalType(), lt)
}
