package exporter

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
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
