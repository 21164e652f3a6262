package exporter

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// maxOpenSpills bounds the spill files open at once; a backfill of a year
// touches 365 partitions.
const maxOpenSpills = 64

// spills holds one local file of encoded rows per partition.
type spills struct {
	dir   string
	parts map[string]*spill
	open  int
}

type spill struct {
	path string
	f    *os.File
	w    *bufio.Writer
	rows int64
}

func newSpills(dir string) *spills { return &spills{dir: dir, parts: map[string]*spill{}} }

// add appends one encoded row to the partition's spill file.
func (s *spills) add(partition string, row []byte) error {
	sp := s.parts[partition]
	if sp == nil {
		sp = &spill{path: filepath.Join(s.dir, "part-"+strconv.Itoa(len(s.parts))+".spill")}
		s.parts[partition] = sp
	}
	if sp.f == nil {
		if s.open >= maxOpenSpills {
			if err := s.closeAll(); err != nil {
				return err
			}
		}
		f, err := os.OpenFile(sp.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return workDirErr("open a spill file", err)
		}
		sp.f, sp.w = f, bufio.NewWriterSize(f, 64<<10)
		s.open++
	}
	if _, err := sp.w.Write(row); err != nil {
		return workDirErr("write spill file "+sp.path, err)
	}
	sp.rows++
	return nil
}

func (s *spills) closeAll() error {
	var errs []error
	for _, sp := range s.parts {
		if sp.f == nil {
			continue
		}
		if err := sp.w.Flush(); err != nil {
			errs = append(errs, workDirErr("flush spill file "+sp.path, err))
		}
		if err := sp.f.Close(); err != nil {
			errs = append(errs, err)
		}
		sp.f, sp.w = nil, nil
	}
	s.open = 0
	return errors.Join(errs...)
}

// partitions returns the partition paths in sorted order.
func (s *spills) partitions() []string {
	ps := make([]string, 0, len(s.parts))
	for p := range s.parts {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// spillReader reads back the rows of one spill file.
type spillReader struct {
	f   *os.File
	br  *bufio.Reader
	buf []byte
}

func (s *spills) reader(partition string) (*spillReader, error) {
	f, err := os.Open(s.parts[partition].path)
	if err != nil {
		return nil, err
	}
	return &spillReader{f: f, br: bufio.NewReaderSize(f, 256<<10)}, nil
}

// next returns the next row body; it is valid until the next call.
func (r *spillReader) next() ([]byte, error) {
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		return nil, err // io.EOF at the end
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorruptSpill, err)
	}
	return r.buf, nil
}

func (r *spillReader) close() error { return r.f.Close() }
