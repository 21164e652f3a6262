package exporter

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"

	"github.com/auditexport/auditexport/schema"
)

// keyer computes event keys: 128 bits of SHA-256 over a canonical form, so
// two renderings of one event (another header spelling, another column
// order, another timestamp format) get the same key.
type keyer struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
	// emptyKey counts rows keyed by the whole row because a configured key
	// column was empty.
	emptyKey int64
}

func newKeyer() *keyer { return &keyer{h: sha256.New()} }

// key returns the event key of one coerced row (vals indexed by field; a
// null slot holds nothing else that may be read). A row in which a
// configured key column is empty is keyed by the whole row instead: keyed
// by the other columns alone, distinct events would merge.
func (k *keyer) key(p *headerPlan, vals []schema.Value) eventKey {
	k.buf = k.buf[:0]
	switch {
	case len(p.keyF) > 0 && !anyNull(p.keyF, vals):
		k.buf = append(k.buf, "cols\x00"...)
		for _, f := range p.keyF {
			k.buf = k.appendField(p, f, vals[f])
		}
	case len(p.keyF) > 0:
		k.emptyKey++
		k.buf = k.appendRow(p, vals)
	case p.idF >= 0 && !vals[p.idF].Null:
		k.buf = append(k.buf, "id\x00"...)
		k.buf = append(k.buf, vals[p.idF].Str...)
	default:
		k.buf = k.appendRow(p, vals)
	}
	k.h.Reset()
	k.h.Write(k.buf)
	var out eventKey
	copy(out[:], k.h.Sum(k.sum[:0]))
	return out
}

// appendRow appends the whole-row fingerprint's canonical form: every
// non-null field by column ID.
func (k *keyer) appendRow(p *headerPlan, vals []schema.Value) []byte {
	k.buf = append(k.buf, "row\x00"...)
	for _, f := range p.byID {
		if !vals[f].Null {
			k.buf = k.appendField(p, f, vals[f])
		}
	}
	return k.buf
}

func anyNull(fields []int, vals []schema.Value) bool {
	for _, f := range fields {
		if vals[f].Null {
			return true
		}
	}
	return false
}

func (k *keyer) appendField(p *headerPlan, f int, v schema.Value) []byte {
	b := append(k.buf, p.colNames[f]...)
	b = append(b, 0)
	if v.Null {
		return append(b, 'n')
	}
	switch p.typ[f] {
	case schema.Timestamp, schema.Int:
		b = append(b, 'i')
		b = binary.BigEndian.AppendUint64(b, uint64(v.Int))
	case schema.Float:
		b = append(b, 'f')
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Float))
	case schema.Bool:
		if v.Bool {
			b = append(b, 't')
		} else {
			b = append(b, 'F')
		}
	default:
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(v.Str)))
		b = append(b, v.Str...)
	}
	return b
}
