package exporter

import (
	"bufio"
	"encoding/json"
	"os"
)

// maxRejectSamples is how many reject reasons the summary carries.
const maxRejectSamples = 5

// Reject is one row that could not be exported: where it came from, the
// column at fault, why, and the row as read, so nothing is lost.
type Reject struct {
	Source string            `json:"source"`
	Line   int64             `json:"line"`
	Column string            `json:"column,omitempty"`
	Reason string            `json:"reason"`
	Row    map[string]string `json:"row,omitempty"`
	Fields []string          `json:"fields,omitempty"`
}

// rejects writes the run's rejected rows as JSON Lines in the work dir; the
// run uploads the file to <prefix>/_auditexport/rejects/<run id>.jsonl.
type rejects struct {
	path    string
	f       *os.File
	w       *bufio.Writer
	enc     *json.Encoder
	count   int64
	samples []Reject
}

func newRejects(path string) *rejects { return &rejects{path: path} }

func (r *rejects) add(rej Reject) error {
	if r.f == nil {
		f, err := os.Create(r.path)
		if err != nil {
			return workDirErr("create the rejects file", err)
		}
		r.f, r.w = f, bufio.NewWriter(f)
		r.enc = json.NewEncoder(r.w)
		r.enc.SetEscapeHTML(false)
	}
	r.count++
	if len(r.samples) < maxRejectSamples {
		s := rej
		s.Row, s.Fields = nil, nil
		r.samples = append(r.samples, s)
	}
	if err := r.enc.Encode(rej); err != nil {
		return workDirErr("write the rejects file", err)
	}
	return nil
}

// close flushes the file; it reports whether there is anything to upload.
func (r *rejects) close() (bool, error) {
	if r.f == nil {
		return false, nil
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	return r.count > 0, err
}
