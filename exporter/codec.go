package exporter

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// CodecNames lists the names ParseCodec accepts, aliases in parentheses, in
// the words a message or a help line uses.
const CodecNames = "zstd, snappy, gzip, lz4_raw (or lz4) or none (or uncompressed)"

// ParseCodec maps a Parquet compression name (ParquetOptions.Compression),
// in any case, to its codec: zstd, snappy, gzip, lz4_raw or its alias lz4,
// none or its alias uncompressed. It is the one parser of the name: the
// options' validation and the CLI's both call it.
func ParseCodec(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "snappy":
		return compress.Codecs.Snappy, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "lz4_raw", "lz4":
		return compress.Codecs.Lz4Raw, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet compression %q is not supported (use %s)", name, CodecNames)
}
