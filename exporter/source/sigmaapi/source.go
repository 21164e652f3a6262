package sigmaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
)

// Source pulls one workbook element from Sigma's REST API, one export per
// window of calendar days (in the control's time zone).
type Source struct {
	cfg     Config
	zone    *time.Location
	c       *client
	now     func() time.Time
	setting func(string) string
	warned  []string

	// While one window is read, Sigma prepares the next: its export is
	// asked for ahead, under bg, which Close cancels.
	bg     context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	listed []window // what List returned last, in order
	next   *ahead   // the export asked for ahead, if any
}

// ahead is an export asked for before its window is opened.
type ahead struct {
	win  window
	done chan struct{}
	qid  string // "" when asking failed: the window is asked for again when opened
}

var _ source.Source = (*Source)(nil)

// Describe implements source.Source.
func (s *Source) Describe() string {
	return fmt.Sprintf("sigma api %s workbook %s element %s", s.c.base, s.cfg.WorkbookID, s.cfg.ElementID)
}

// Close implements source.Source.
func (s *Source) Close() error {
	s.stop()
	s.c.http.CloseIdleConnections()
	return nil
}

// Requests is how many HTTP requests the source has made so far.
func (s *Source) Requests() int64 { return s.c.requests.Load() }

// dateLayout is how the date-range control takes its bounds.
const dateLayout = "2006-01-02"

// window is one export: the calendar days first..last, both included.
type window struct {
	first, last time.Time // midnight in the control's zone
}

func (w window) key(workbook, element string) string {
	k := "sigma-api/" + workbook + "/" + element + "/" + w.first.Format(dateLayout)
	if !w.last.Equal(w.first) {
		k += ".." + w.last.Format(dateLayout)
	}
	return k
}

// param is the date-range control's value for the window.
func (w window) param() string {
	return "min:" + w.first.Format(dateLayout) + ",max:" + w.last.Format(dateLayout)
}

// windows splits the event-time interval w into exports of s.cfg.WindowDays
// calendar days each, in the control's zone, from the day before w.From's
// through the day after w.To's (through today when w.To is unbounded or
// later). The day either side covers what the control holds under another
// date than control_timezone gives (a control that compares in another
// zone): the run keeps only the events inside w. An unbounded start starts
// at the oldest day Sigma keeps.
func (s *Source) windows(w source.Window) []window {
	now := s.now().In(s.zone)
	today := day(now)
	from, to := w.From, w.To
	first := today.AddDate(0, 0, -RetentionDays)
	if !from.IsZero() {
		first = day(from.In(s.zone)).AddDate(0, 0, -1)
	}
	last := today
	if !to.IsZero() && to.Before(now) {
		// [From, To): an instant exactly at midnight belongs to no event
		// of that day.
		if after := day(to.Add(-time.Nanosecond).In(s.zone)).AddDate(0, 0, 1); after.Before(today) {
			last = after
		}
	}
	var out []window
	for d := first; !d.After(last); d = d.AddDate(0, 0, s.cfg.WindowDays) {
		end := d.AddDate(0, 0, s.cfg.WindowDays-1)
		if end.After(last) {
			end = last
		}
		out = append(out, window{first: d, last: end})
	}
	return out
}

func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// RetentionDays is how long Sigma keeps its audit log.
const RetentionDays = 30

// List implements source.Source: one input per window. Inputs carry no
// ETag, so every run reads its windows again; dedup keeps what is already
// archived out.
func (s *Source) List(ctx context.Context, w source.Window) ([]source.Input, error) {
	ws := s.windows(w)
	s.warned = nil
	if oldest := day(s.now().In(s.zone)).AddDate(0, 0, -RetentionDays); !w.From.IsZero() && day(w.From.In(s.zone)).Before(oldest) {
		s.warned = append(s.warned, fmt.Sprintf("the window starts %s, but Sigma keeps its audit log for %d days (from %s): exports of older days come back empty, which does not mean they had no events",
			day(w.From.In(s.zone)).Format(dateLayout), RetentionDays, oldest.Format(dateLayout)))
	}
	s.mu.Lock()
	s.listed = ws
	s.mu.Unlock()
	ins := make([]source.Input, len(ws))
	for i, win := range ws {
		ins[i] = source.Input{Key: win.key(s.cfg.WorkbookID, s.cfg.ElementID)}
	}
	return ins, nil
}

// Warnings implements source.Warner: what the last List found worth a
// warning (windows older than Sigma keeps).
func (s *Source) Warnings() []string { return s.warned }

// parseKey returns the window an input of List names.
func (s *Source) parseKey(key string) (window, error) {
	prefix := "sigma-api/" + s.cfg.WorkbookID + "/" + s.cfg.ElementID + "/"
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return window{}, fmt.Errorf("input %q is not a window of %s", key, prefix)
	}
	a, b, ranged := strings.Cut(rest, "..")
	first, err := time.ParseInLocation(dateLayout, a, s.zone)
	if err != nil {
		return window{}, fmt.Errorf("input %q: %w", key, err)
	}
	last := first
	if ranged {
		if last, err = time.ParseInLocation(dateLayout, b, s.zone); err != nil {
			return window{}, fmt.Errorf("input %q: %w", key, err)
		}
	}
	return window{first: first, last: last}, nil
}

// Open implements source.Source: it exports the input's window and streams
// the download into the decoder of its format. A download of exactly the
// row limit may be truncated: the window is then read again in chunks
// (offset) until one comes back short.
func (s *Source) Open(ctx context.Context, in source.Input, _ source.Window) (source.Reader, error) {
	win, err := s.parseKey(in.Key)
	if err != nil {
		return nil, err
	}
	r := &chunkReader{s: s, win: win, name: in.Key}
	if err := r.openChunk(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// request is the export request of one chunk of a window.
func (s *Source) request(win window, offset int) exportRequest {
	return exportRequest{
		ElementID:         s.cfg.ElementID,
		Format:            exportFormat{Type: s.cfg.Format},
		Parameters:        map[string]string{s.cfg.ControlID: win.param()},
		RowLimit:          s.cfg.RowLimit,
		Offset:            offset,
		RunAsynchronously: true,
	}
}

// fetch exports one chunk of a window and returns its download. The first
// chunk uses the export asked for ahead, if there is one for the window
// (asked for again if Sigma has dropped its result meanwhile); once it is
// ready, the next listed window's export is asked for ahead.
func (s *Source) fetch(ctx context.Context, win window, offset int) (io.ReadCloser, error) {
	var qid string
	if offset == 0 {
		if a := s.takeAhead(win); a != nil {
			select {
			case <-a.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			qid = a.qid // "" when asking ahead failed: ask now
		}
	}
	body, err := s.exportAndDownload(ctx, win, offset, qid)
	var ae *APIError
	if qid != "" && errors.As(err, &ae) && ae.Op == "download" && ae.Status == 404 {
		body, err = s.exportAndDownload(ctx, win, offset, "")
	}
	if err != nil {
		return nil, s.explain(win, err)
	}
	if offset == 0 {
		s.askAhead(win)
	}
	return body, nil
}

// exportAndDownload asks for an export (unless qid names one already) and
// downloads it.
func (s *Source) exportAndDownload(ctx context.Context, win window, offset int, qid string) (io.ReadCloser, error) {
	if qid == "" {
		var err error
		if qid, err = s.c.export(ctx, s.cfg.WorkbookID, s.request(win, offset)); err != nil {
			return nil, err
		}
	}
	return s.c.download(ctx, qid, s.cfg.PollInterval, s.cfg.PollTimeout)
}

// takeAhead returns the export asked for ahead for win, if any, and drops
// one asked for another window.
func (s *Source) takeAhead(win window) *ahead {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.next
	s.next = nil
	if a == nil || !a.win.first.Equal(win.first) || !a.win.last.Equal(win.last) {
		return nil
	}
	return a
}

// askAhead asks, in the background, for the export of the window listed
// after win.
func (s *Source) askAhead(win window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.listed, func(w window) bool { return w.first.Equal(win.first) })
	if i < 0 || i+1 >= len(s.listed) || s.bg.Err() != nil {
		return
	}
	a := &ahead{win: s.listed[i+1], done: make(chan struct{})}
	s.next = a
	go func() {
		defer close(a.done)
		a.qid, _ = s.c.export(s.bg, s.cfg.WorkbookID, s.request(a.win, 0))
	}()
}

// explain says which window failed and, for an answer that will not
// change, which setting to look at.
func (s *Source) explain(win window, err error) error {
	what := "export of " + win.param()
	var ae *APIError
	switch {
	case errors.Is(err, ErrCredentials):
		return fmt.Errorf("%s: %w; check %s and %s (the API client's ID and secret)", what, err, EnvClientID, EnvClientSecret)
	case errors.Is(err, ErrNotReady):
		return fmt.Errorf("%s: %w; raise %s if Sigma needs longer", what, err, s.setting("poll_timeout"))
	case !errors.As(err, &ae):
		return fmt.Errorf("%s: %w", what, err)
	}
	switch ae.Status {
	case 404:
		if ae.Op == "download" {
			return fmt.Errorf("%s: %w; the export's result is gone (Sigma keeps it for a limited time): run again", what, err)
		}
		return fmt.Errorf("%s: %w; check %s and %s (and %s: the region's API URL)", what, err, s.setting("workbook_id"), s.setting("element_id"), s.setting("base_url"))
	case 400:
		return fmt.Errorf("%s: %w; check %s (the date-range control's ID), %s and %s", what, err, s.setting("control_id"), s.setting("element_id"), s.setting("format"))
	case 403:
		return fmt.Errorf("%s: %w; the API client's user needs access to workbook %s (%s)", what, err, s.cfg.WorkbookID, s.setting("workbook_id"))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// overlapRows is how many rows each chunk after the first re-reads of the
// chunk before it: they must come back the same, or the element's rows
// moved between requests and a row may have been skipped.
func overlapRows(rowLimit int) int { return min(1000, max(rowLimit/10, 1)) }

// ErrRowsMoved is a window whose rows changed order while it was read in
// chunks: a row may have been skipped, so nothing of it may be committed.
var ErrRowsMoved = errors.New("the element's rows changed order between chunks")

// chunkReader reads one window: its first chunk, and further chunks while
// a chunk comes back with exactly the row limit.
type chunkReader struct {
	s      *Source
	win    window
	name   string
	offset int // the current chunk's first row
	rows   int // rows of the current chunk read so far
	cur    source.Reader
	header *source.Header

	tail    [][]string // the last rows of the chunk before, oldest first
	tailPos int        // rows of the current chunk compared with tail so far
	ring    [][]string // the current chunk's last rows, a ring
	next    int        // the ring's slot for the next row
}

func (r *chunkReader) openChunk(ctx context.Context) error {
	body, err := r.s.fetch(ctx, r.win, r.offset)
	if err != nil {
		return err
	}
	rd, _, err := source.OpenStream(body, r.s.cfg.streamName(r.name))
	if err != nil {
		body.Close()
		return fmt.Errorf("export of %s: %w", r.win.param(), err)
	}
	// A CSV export always has its header, rows or not: a download without
	// one is not an export of no rows.
	if r.s.cfg.Format == "csv" {
		if names, err := source.HeaderNames(ctx, rd); err != nil || len(names) == 0 {
			rd.Close()
			return fmt.Errorf("export of %s: the download holds no CSV header (%v): not an export, so nothing of the window is taken", r.win.param(), err)
		}
	}
	r.cur, r.rows, r.tailPos = rd, 0, 0
	return nil
}

// Next implements source.Reader.
func (r *chunkReader) Next(ctx context.Context) (source.Record, error) {
	for {
		rec, err := r.cur.Next(ctx)
		if errors.Is(err, io.EOF) {
			if r.rows < r.s.cfg.RowLimit {
				return source.Record{}, io.EOF
			}
			// Exactly the limit: there may be more.
			if err := r.nextChunk(ctx); err != nil {
				return source.Record{}, err
			}
			continue
		}
		if err != nil {
			var re *source.RowError
			if errors.As(err, &re) {
				r.rows += int(re.Rows())
				re.Line += int64(r.offset)
				return source.Record{}, re
			}
			return source.Record{}, fmt.Errorf("export of %s: read the download: %w", r.win.param(), err)
		}
		r.rows++
		if r.header == nil {
			r.header = rec.Header
		} else if !slices.Equal(r.header.Names, rec.Header.Names) {
			return source.Record{}, fmt.Errorf("export of %s: chunk at offset %d has other columns: %w", r.win.param(), r.offset, ErrRowsMoved)
		}
		if r.tailPos < len(r.tail) {
			// A row of the overlap: already returned from the chunk before.
			if !slices.Equal(r.tail[r.tailPos], rec.Fields) {
				return source.Record{}, fmt.Errorf("export of %s: row %d came back different at offset %d: %w; run again (sort the element by event time so new rows come last)",
					r.win.param(), r.offset+r.tailPos+1, r.offset, ErrRowsMoved)
			}
			r.tailPos++
			r.remember(rec.Fields)
			continue
		}
		r.remember(rec.Fields)
		rec.Line = int64(r.offset + r.rows)
		return rec, nil
	}
}

// remember keeps the chunk's last overlapRows rows, reusing their slices.
func (r *chunkReader) remember(fields []string) {
	if r.ring == nil {
		r.ring = make([][]string, overlapRows(r.s.cfg.RowLimit))
	}
	r.ring[r.next] = append(r.ring[r.next][:0], fields...)
	r.next = (r.next + 1) % len(r.ring)
}

// nextChunk starts the chunk after the current one, overlapping it by
// the rows remembered of it.
func (r *chunkReader) nextChunk(ctx context.Context) error {
	r.cur.Close()
	n := min(r.rows, len(r.ring))
	tail := make([][]string, 0, n)
	for i := range n {
		tail = append(tail, slices.Clone(r.ring[(r.next-n+i+len(r.ring))%len(r.ring)]))
	}
	r.tail, r.next = tail, 0
	for i := range r.ring {
		r.ring[i] = r.ring[i][:0]
	}
	r.offset += r.rows - len(r.tail)
	return r.openChunk(ctx)
}

// Close implements source.Reader.
func (r *chunkReader) Close() error {
	if r.cur == nil {
		return nil
	}
	return r.cur.Close()
}
