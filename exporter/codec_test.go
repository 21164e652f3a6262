package exporter

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/auditexport/auditexport/schema"
)

func TestParseCodec(t *testing.T) {
	for name, want := range map[string]compress.Compression{
		"zstd":         compress.Codecs.Zstd,
		"ZSTD":         compress.Codecs.Zstd,
		"snappy":       compress.Codecs.Snappy,
		"gzip":         compress.Codecs.Gzip,
		"lz4_raw":      compress.Codecs.Lz4Raw,
		"lz4":          compress.Codecs.Lz4Raw,
		"LZ4_Raw":      compress.Codecs.Lz4Raw,
		"none":         compress.Codecs.Uncompressed,
		"uncompressed": compress.Codecs.Uncompressed,
		"Uncompressed": compress.Codecs.Uncompressed,
	} {
		got, err := ParseCodec(name)
		if err != nil || got != want {
			t.Errorf("ParseCodec(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for _, name := range []string{"brotli", "", "lz4-raw", " zstd", "lzo"} {
		_, err := ParseCodec(name)
		if err == nil || !strings.Contains(err.Error(), `"`+name+`"`) || !strings.Contains(err.Error(), CodecNames) {
			t.Errorf("ParseCodec(%q) error = %v; want one naming the value and the accepted names", name, err)
		}
	}
}

// At the default zstd level, the string columns written plain (the event
// ID, and columns learnt to be written plain) are compressed at
// distinctStringsLevel and every other column at the codec's default; a
// level set in the options holds for every column, and other codecs get
// no per-column level.
func TestWriterPropsZstdLevels(t *testing.T) {
	cat, err := schema.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	def := parquet.NewWriterProperties().CompressionLevel()
	for _, c := range []struct {
		name         string
		codec        string
		level        int
		plain, other int
	}{
		{"zstd default", "zstd", 0, distinctStringsLevel, def},
		{"zstd level 6", "zstd", 6, 6, 6},
		{"gzip default", "gzip", 0, def, def},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newUnitRun(Options{Catalog: cat, RunID: "levels",
				Parquet: ParquetOptions{Compression: c.codec, CompressionLevel: c.level}})
			r.wr.plainCols.add("REQUEST_ID")
			r.wr.plainCols.add("ROWS_RETURNED")
			props, err := r.wr.writerProps()
			if err != nil {
				t.Fatal(err)
			}
			for col, want := range map[string]int{
				"EVENT_ID": c.plain, "REQUEST_ID": c.plain, // strings written plain
				"TIMESTAMP": c.other, "ROWS_RETURNED": c.other, // plain, not strings
				"USER_EMAIL": c.other, // dictionary
			} {
				if got := props.CompressionLevelFor(col); got != want {
					t.Errorf("%s: level %d, want %d", col, got, want)
				}
			}
			if props.DictionaryEnabledFor("REQUEST_ID") || !props.DictionaryEnabledFor("USER_EMAIL") {
				t.Error("dictionaries: REQUEST_ID should be plain and USER_EMAIL dictionary-encoded")
			}
		})
	}
}
