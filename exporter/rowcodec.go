package exporter

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/schema"
)

// A spilled row is a length-prefixed record:
//
//	uvarint len | key [16]byte | varint event time (µs) | uvarint n |
//	n × (uvarint column | value)
//
// where a value is a varint (timestamp, int), 8 bytes (float), 1 byte (bool)
// or uvarint length + bytes (string, json). Only non-null fields are stored.

type eventKey = archive.Key

type field struct {
	col int
	v   schema.Value
}

// encodeRow appends one spilled row to dst.
func encodeRow(dst []byte, key eventKey, micros int64, fields []field, types []schema.Type) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0) // room for the length, fixed below
	dst = append(dst, key[:]...)
	dst = binary.AppendVarint(dst, micros)
	dst = binary.AppendUvarint(dst, uint64(len(fields)))
	for _, f := range fields {
		dst = binary.AppendUvarint(dst, uint64(f.col))
		switch types[f.col] {
		case schema.Timestamp, schema.Int:
			dst = binary.AppendVarint(dst, f.v.Int)
		case schema.Float:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f.v.Float))
		case schema.Bool:
			b := byte(0)
			if f.v.Bool {
				b = 1
			}
			dst = append(dst, b)
		default:
			dst = binary.AppendUvarint(dst, uint64(len(f.v.Str)))
			dst = append(dst, f.v.Str...)
		}
	}
	// Fix the length as a fixed 5-byte uvarint (continuation bits set) so
	// the body need not move.
	n := uint64(len(dst) - start - 5)
	for i := 0; i < 4; i++ {
		dst[start+i] = byte(n) | 0x80
		n >>= 7
	}
	dst[start+4] = byte(n)
	return dst
}

var errCorruptSpill = errors.New("corrupt spill record")

// decodedField is one field of a spilled row; Bytes aliases the row buffer.
type decodedField struct {
	col   int
	v     schema.Value
	bytes []byte
}

// decodeRow parses one row body (without its length prefix).
func decodeRow(b []byte, types []schema.Type, out []decodedField) (eventKey, int64, []decodedField, error) {
	var key eventKey
	if len(b) < 16 {
		return key, 0, nil, errCorruptSpill
	}
	copy(key[:], b[:16])
	b = b[16:]
	micros, k := binary.Varint(b)
	if k <= 0 {
		return key, 0, nil, errCorruptSpill
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return key, 0, nil, errCorruptSpill
	}
	b = b[k:]
	out = out[:0]
	for i := uint64(0); i < n; i++ {
		c, k := binary.Uvarint(b)
		if k <= 0 || c >= uint64(len(types)) {
			return key, 0, nil, errCorruptSpill
		}
		b = b[k:]
		f := decodedField{col: int(c)}
		switch types[c] {
		case schema.Timestamp, schema.Int:
			v, k := binary.Varint(b)
			if k <= 0 {
				return key, 0, nil, errCorruptSpill
			}
			f.v.Int, b = v, b[k:]
		case schema.Float:
			if len(b) < 8 {
				return key, 0, nil, errCorruptSpill
			}
			f.v.Float, b = math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
		case schema.Bool:
			if len(b) < 1 {
				return key, 0, nil, errCorruptSpill
			}
			f.v.Bool, b = b[0] == 1, b[1:]
		default:
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return key, 0, nil, errCorruptSpill
			}
			f.bytes, b = b[k:k+int(l)], b[k+int(l):]
		}
		out = append(out, f)
	}
	return key, micros, out, nil
}
