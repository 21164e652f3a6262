package sigmatest

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// contentTypes are the file's Content-Type by export format.
var contentTypes = map[string]string{
	"csv":   "text/csv; charset=utf-8",
	"json":  "application/json",
	"jsonl": "application/x-ndjson",
}

// handleDownload serves GET /v2/query/{queryId}/download.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "the download endpoint takes GET, not "+r.Method)
		return
	}
	if !s.guard(w, r, "download") {
		return
	}
	id := r.PathValue("queryId")
	s.mu.Lock()
	if s.fail500 > 0 {
		s.fail500--
		s.mu.Unlock()
		s.fail(w, http.StatusInternalServerError, "internal_error", "internal error (injected)")
		return
	}
	q, ok := s.queries[id]
	if !ok {
		s.mu.Unlock()
		s.fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("query %q not found or expired", id))
		return
	}
	if q.polls < s.opts.Polls {
		q.polls++
		s.stats.Polls204++
		s.mu.Unlock()
		if s.opts.PendingAsJSON {
			writeJSON(w, http.StatusOK, map[string]any{"status": 204, "message": "export not ready"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.stats.Downloads++
	cut := s.cutAfter
	if cut >= 0 {
		s.cutAfter = -1
		s.stats.Cuts++
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", contentTypes[q.format])
	w.WriteHeader(http.StatusOK)
	var dst io.Writer = w
	if cut >= 0 {
		dst = &cutWriter{w: w, left: cut}
	}
	bw := bufio.NewWriterSize(dst, 64<<10)
	if err := writeFile(bw, q); err != nil {
		return // the client went away
	}
	if err := bw.Flush(); err != nil {
		return
	}
	if cut >= 0 {
		// The whole body fitted before the cut: still end without the end-of-body marker.
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// cutWriter passes left bytes through, then flushes them to the client and aborts the connection.
type cutWriter struct {
	w    http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) < c.left {
		c.left -= len(p)
		return c.w.Write(p)
	}
	_, _ = c.w.Write(p[:c.left])
	_ = http.NewResponseController(c.w).Flush()
	panic(http.ErrAbortHandler) // net/http closes the connection without logging
}

// writeFile streams q's rows in its format, one row at a time.
func writeFile(w *bufio.Writer, q *query) error {
	switch q.format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(q.header); err != nil {
			return err
		}
		for _, i := range q.idx {
			if err := cw.Write(q.rows[i]); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "jsonl", "json":
		keys := make([][]byte, len(q.header))
		for i, h := range q.header {
			keys[i] = appendJSONString(nil, h)
		}
		array := q.format == "json"
		var buf []byte
		if array {
			buf = append(buf, '[')
		}
		for n, i := range q.idx {
			if array && n > 0 {
				buf = append(buf, ',')
			}
			buf = appendObject(buf, keys, q.rows[i])
			if !array {
				buf = append(buf, '\n')
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if array {
			buf = append(buf, "]\n"...)
		}
		_, err := w.Write(buf)
		return err
	}
	return fmt.Errorf("format %q", q.format) // excluded by the export
}

// appendObject appends one row as a JSON object, keys in header order, an empty value as null.
func appendObject(buf []byte, keys [][]byte, row []string) []byte {
	buf = append(buf, '{')
	for i, v := range row {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, keys[i]...)
		buf = append(buf, ':')
		if v == "" {
			buf = append(buf, "null"...)
		} else {
			buf = appendJSONString(buf, v)
		}
	}
	return append(buf, '}')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
