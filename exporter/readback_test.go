package exporter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/auditexport/auditexport/sinks"
)

// parquetFile is a Parquet file read back with parquet-go, an implementation
// independent of the arrow-go writer under test.
type parquetFile struct {
	key    string
	rows   []map[string]any // column name -> value (nil for NULL)
	meta   map[string]string
	schema []format.SchemaElement
	groups int
	// dictionary marks the columns with a dictionary page in some row group.
	dictionary map[string]bool
}

// readArchive reads every Parquet file under the bucket, keyed by object key.
func readArchive(t *testing.T, b *sinks.Bucket) map[string]*parquetFile {
	t.Helper()
	out := map[string]*parquetFile{}
	eachParquet(t, b, func(key string, data []byte) error {
		pf, err := readParquet(key, data)
		if err != nil {
			return err
		}
		out[key] = pf
		return nil
	})
	return out
}

// eachParquet calls fn with the key and content of every Parquet file
// under the bucket, and fails the test on the first error.
func eachParquet(t *testing.T, b *sinks.Bucket, fn func(key string, data []byte) error) {
	t.Helper()
	ctx := context.Background()
	err := b.List(ctx, "", func(o sinks.Object) error {
		if !strings.HasSuffix(o.Key, ".parquet") {
			return nil
		}
		data, err := b.ReadAll(ctx, o.Key)
		if err != nil {
			return err
		}
		return fn(o.Key, data)
	})
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
}

func readParquet(key string, data []byte) (*parquetFile, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	pf := &parquetFile{key: key, meta: map[string]string{}, schema: f.Metadata().Schema, groups: len(f.RowGroups()), dictionary: map[string]bool{}}
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			if cc.MetaData.DictionaryPageOffset != 0 {
				pf.dictionary[strings.Join(cc.MetaData.PathInSchema, ".")] = true
			}
		}
	}
	for _, kv := range f.Metadata().KeyValueMetadata {
		pf.meta[kv.Key] = kv.Value
	}
	var names []string
	for _, path := range f.Schema().Columns() {
		names = append(names, strings.Join(path, "."))
	}
	leaf := map[string]format.SchemaElement{}
	for _, el := range pf.schema[1:] {
		leaf[el.Name] = el
	}
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				m := map[string]any{}
				for _, v := range row {
					name := names[v.Column()]
					if v.IsNull() {
						m[name] = nil
						continue
					}
					el := leaf[name]
					switch {
					case el.Type.Valid && el.Type.V == format.ByteArray:
						m[name] = string(v.ByteArray())
					case el.Type.Valid && el.Type.V == format.Int64:
						m[name] = v.Int64()
					case el.Type.Valid && el.Type.V == format.Double:
						m[name] = v.Double()
					case el.Type.Valid && el.Type.V == format.Boolean:
						m[name] = v.Boolean()
					default:
						m[name] = v.String()
					}
				}
				pf.rows = append(pf.rows, m)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return nil, err
			}
		}
		rows.Close()
	}
	return pf, nil
}

// element returns the schema element of a column.
func (pf *parquetFile) element(name string) (format.SchemaElement, bool) {
	for _, el := range pf.schema[1:] {
		if el.Name == name {
			return el, true
		}
	}
	return format.SchemaElement{}, false
}
