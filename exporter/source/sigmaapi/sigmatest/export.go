package sigmatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// noDay marks a row whose event time is empty or unreadable: it matches no date range.
const noDay = math.MinInt32

// query is one export's snapshot, taken when the export was requested.
type query struct {
	format string
	header []string
	rows   [][]string // the element's rows when the export was made
	idx    []int32    // the exported rows, as indexes into rows, in order
	polls  int        // download calls answered "not ready" so far
}

// exportBody is the export request's JSON body; pointers tell absent from zero.
type exportBody struct {
	ElementID         *string           `json:"elementId"`
	Format            *exportFormat     `json:"format"`
	Parameters        map[string]string `json:"parameters"`
	RowLimit          *int              `json:"rowLimit"`
	Offset            *int              `json:"offset"`
	RunAsynchronously *bool             `json:"runAsynchronously"`
}

type exportFormat struct {
	Type string `json:"type"`
}

// exportFields are the body's field names, matched exactly (encoding/json alone would match any case).
var exportFields = []string{"elementId", "format", "parameters", "rowLimit", "offset", "runAsynchronously"}

// handleExport serves POST /v2/workbooks/{workbookId}/export.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "the export endpoint takes POST, not "+r.Method)
		return
	}
	if !s.guard(w, r, "export") {
		return
	}
	workbook := r.PathValue("workbookId")
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "bad_request", "unreadable body: "+err.Error())
		return
	}
	body, err := decodeExport(raw)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	req := ExportRequest{WorkbookID: workbook, Parameters: copyMap(body.Parameters)}
	if body.ElementID != nil {
		req.ElementID = *body.ElementID
	}
	if body.Format != nil {
		req.Format = body.Format.Type
	}
	if body.RowLimit != nil {
		req.RowLimit = *body.RowLimit
	}
	if body.Offset != nil {
		req.Offset = *body.Offset
	}
	if body.RunAsynchronously != nil {
		req.RunAsynchronously = *body.RunAsynchronously
	}
	s.mu.Lock()
	s.exports = append(s.exports, req)
	s.mu.Unlock()

	if workbook != s.opts.WorkbookID {
		s.fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("workbook %q not found", workbook))
		return
	}
	if body.ElementID == nil || req.ElementID == "" {
		s.fail(w, http.StatusBadRequest, "bad_request", "elementId is required")
		return
	}
	if req.ElementID != s.opts.ElementID {
		s.fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("element %q not found in workbook %q", req.ElementID, workbook))
		return
	}
	if body.Format == nil {
		s.fail(w, http.StatusBadRequest, "bad_request", `format is required, as {"type": "csv"}`)
		return
	}
	switch req.Format {
	case "csv", "json", "jsonl":
	default:
		s.fail(w, http.StatusBadRequest, "bad_request",
			fmt.Sprintf("format type %q is not supported for a table export: use csv, json or jsonl", req.Format))
		return
	}
	lo, hi := int64(math.MinInt32+1), int64(math.MaxInt32)
	for k, v := range req.Parameters {
		if k != s.opts.ControlID {
			s.fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("parameter %q is not a control of workbook %q", k, workbook))
			return
		}
		from, to, err := parseDateRange(v)
		if err != nil {
			s.fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("parameter %q: %v", k, err))
			return
		}
		lo, hi = from, to
	}
	if req.RowLimit < 0 {
		s.fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("rowLimit %d is negative", req.RowLimit))
		return
	}
	if req.Offset < 0 {
		s.fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("offset %d is negative", req.Offset))
		return
	}
	limit := req.RowLimit
	if limit == 0 || limit > s.opts.MaxRows {
		limit = s.opts.MaxRows
	}

	s.mu.Lock()
	rows, days := s.rows, s.days
	s.mu.Unlock()
	q := &query{format: req.Format, header: s.opts.Header, rows: rows}
	skip := req.Offset
	for i, d := range days {
		if len(q.idx) == limit {
			break
		}
		if len(req.Parameters) > 0 && (d == noDay || int64(d) < lo || int64(d) > hi) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		q.idx = append(q.idx, int32(i))
	}
	id := newID("q-")
	s.mu.Lock()
	s.queries[id] = q
	s.stats.Exports++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"queryId": id})
}

// decodeExport reads an export body, rejecting unknown fields (exactly cased) and wrong types.
func decodeExport(raw []byte) (exportBody, error) {
	var body exportBody
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return body, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	for k := range fields {
		if !slices.Contains(exportFields, k) {
			return body, fmt.Errorf("unknown field %q in the export body (fields: %s)", k, strings.Join(exportFields, ", "))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return body, fmt.Errorf("export body: %v", err)
	}
	return body, nil
}

// parseDateRange reads a date-range control value, "min:YYYY-MM-DD,max:YYYY-MM-DD" (either part may be
// left out, not both), as inclusive day numbers.
func parseDateRange(v string) (lo, hi int64, err error) {
	lo, hi = math.MinInt32+1, math.MaxInt32
	var seen []string
	for part := range strings.SplitSeq(v, ",") {
		key, date, ok := strings.Cut(part, ":")
		if !ok || (key != "min" && key != "max") || slices.Contains(seen, key) {
			return 0, 0, fmt.Errorf("value %q is not a date range such as min:2026-11-24,max:2026-11-24", v)
		}
		seen = append(seen, key)
		t, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return 0, 0, fmt.Errorf("value %q: %s %q is not a YYYY-MM-DD date", v, key, date)
		}
		d := dayNumber(t)
		if key == "min" {
			lo = d
		} else {
			hi = d
		}
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("value %q: min is after max", v)
	}
	return lo, hi, nil
}

// dayNumber is the day, counted from 1970-01-01, of t's calendar date in t's zone.
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// timeLayouts are the event-time forms the control reads; a time without an offset is UTC.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
}

// parseEventTime reads an event time, or reports false.
func parseEventTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// index checks rows against the header and computes each row's calendar day in Zone.
func (s *Server) index(rows [][]string) ([][]string, []int32) {
	days := make([]int32, len(rows))
	for i, row := range rows {
		if len(row) != len(s.opts.Header) {
			panic(fmt.Sprintf("sigmatest: row %d has %d values, the header %d", i, len(row), len(s.opts.Header)))
		}
		days[i] = noDay
		if s.timeIndex < 0 {
			continue
		}
		if t, ok := parseEventTime(row[s.timeIndex]); ok {
			days[i] = int32(dayNumber(t.In(s.opts.Zone)))
		}
	}
	return rows, days
}
