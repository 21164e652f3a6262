package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// JSONLReader decodes JSON Lines: one JSON object per line, keyed by friendly
// name or column ID. Keys may differ from line to line; records with the same
// set of keys share one *Header. Blank lines are skipped.
type JSONLReader struct {
	br      *bufio.Reader
	closer  io.Closer
	name    string
	line    int64
	headers map[string]*Header
	done    bool
}

var _ Reader = (*JSONLReader)(nil)

// NewJSONLReader reads JSON Lines from rc; name identifies it in errors.
func NewJSONLReader(rc io.ReadCloser, name string) (*JSONLReader, error) {
	br := bufio.NewReaderSize(rc, 256<<10)
	if err := skipBOM(br); err != nil && !errors.Is(err, io.EOF) {
		return nil, readError(name, 0, err)
	}
	return &JSONLReader{br: br, closer: rc, name: name, headers: map[string]*Header{}}, nil
}

// Next implements Reader.
func (j *JSONLReader) Next(ctx context.Context) (Record, error) {
	for !j.done {
		line, err := j.br.ReadBytes('\n')
		if len(line) > 0 {
			j.line++
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				j.done = true
				return Record{}, readError(j.name, j.line, err)
			}
			j.done = true
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		return j.decode(line)
	}
	return Record{}, io.EOF
}

func (j *JSONLReader) decode(line []byte) (Record, error) {
	raw := []string{toValidUTF8(string(line))}
	if !utf8.Valid(line) {
		return Record{}, j.rowError(line, "line is not valid UTF-8", raw)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return Record{}, j.rowError(line, "not a JSON object: "+err.Error(), raw)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sig := strings.Join(keys, "\x00")
	h, ok := j.headers[sig]
	if !ok {
		h = &Header{Names: keys}
		j.headers[sig] = h
	}
	fields := make([]string, len(keys))
	for i, k := range keys {
		v, err := jsonText(obj[k])
		if err != nil {
			return Record{}, j.rowError(line, fmt.Sprintf("key %q: %v", k, err), raw)
		}
		fields[i] = v
	}
	return Record{Header: h, Fields: fields, Line: j.line}, nil
}

// rowError rejects line. A bare CR inside a line that does not decode is
// most likely a line end (a file with old Mac line ends reads as one long
// line): each line it ends counts as a rejected row.
func (j *JSONLReader) rowError(line []byte, reason string, raw []string) *RowError {
	n := int64(bytes.Count(line, []byte{'\r'}))
	if n > 0 {
		reason += fmt.Sprintf(" (the line holds %d bare CRs: %d lines, each counted as a rejected row)", n, n+1)
	}
	return &RowError{Line: j.line, Lines: n + 1, Reason: reason, Raw: raw}
}

// jsonText renders one JSON value as the text a CSV export would hold:
// strings unquoted, numbers as written, null as empty, objects and arrays
// as compact JSON.
func jsonText(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", nil
	}
	switch v[0] {
	case 'n':
		return "", nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", err
		}
		return b.String(), nil
	}
	return string(v), nil
}

// Close implements Reader.
func (j *JSONLReader) Close() error { return j.closer.Close() }
