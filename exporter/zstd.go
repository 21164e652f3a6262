package exporter

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// pageWindow is the zstd window of the Parquet pages this package writes.
// A page holds about a data page's worth of values (1 MiB by default) and a
// dictionary page up to its limit (1 MiB), so matches further back than
// that cannot exist; arrow-go's own encoders keep zstd's 8 MiB default,
// and each pooled encoder holds a history buffer of that size.
const pageWindow = 1 << 20

// pageZstd is arrow-go's zstd codec with encoders sized for pages: the
// same levels and frame options, a pageWindow window. Decoding and
// streaming stay arrow-go's.
type pageZstd struct {
	compress.Codec
	pools sync.Map // zstd.EncoderLevel -> *sync.Pool of *zstd.Encoder
}

// arrow-go looks codecs up in a table it fills in its own init; replacing
// the zstd entry here, also in an init, happens before any file is written
// or read, so no goroutine can see the table change.
func init() {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("exporter: arrow-go has no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, &pageZstd{Codec: c})
}

func (c *pageZstd) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel compresses src as arrow-go does: the level maps to the
// encoder's speed, and the default level to zstd.SpeedDefault.
func (c *pageZstd) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	p, _ := c.pools.LoadOrStore(l, &sync.Pool{New: func() any {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1),
			zstd.WithZeroFrames(true), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(pageWindow))
		if err != nil {
			panic("exporter: zstd encoder options: " + err.Error()) // constant options: cannot happen
		}
		return enc
	}})
	pool := p.(*sync.Pool)
	enc := pool.Get().(*zstd.Encoder)
	defer pool.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}
