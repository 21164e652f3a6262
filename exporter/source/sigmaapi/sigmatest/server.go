package sigmatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultTokenTTL  = time.Hour
	DefaultMaxRows   = 1_000_000
	DefaultPolls     = 1
	DefaultRateLimit = 400
)

// Options configure a Server. Zero values take the defaults named on each field.
type Options struct {
	// ClientID and ClientSecret are the one API client the token endpoint accepts.
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of an access token, sent as expires_in (whole seconds, at least 1). Default 1h.
	// A token used after it has expired gets 401.
	TokenTTL time.Duration
	// WorkbookID, ElementID and ControlID are the one workbook, table element and date-range page control the
	// server knows. Anything else is unknown (404 for a workbook or element, 400 for a control).
	WorkbookID, ElementID, ControlID string
	// Zone is the zone in which the control takes the calendar date of an event time. Default UTC.
	Zone *time.Location
	// Header is the element's column names, as Sigma shows them ("Timestamp", "Event Id", ...).
	Header []string
	// Rows are the element's rows in the element's order, each of len(Header). The server keeps the slice
	// and does not copy it: do not modify it afterwards (use SetRows to change the rows).
	Rows [][]string
	// TimeColumn names the Header column that holds the event time, as "2026-11-17 00:16:44.515171" (UTC) or
	// RFC 3339. A row whose time is empty or unreadable matches no date range (it is exported only when the
	// export sets no control value). Required when Header is not empty.
	TimeColumn string
	// MaxRows is the per-export row cap: the default rowLimit, and the cap of a larger one. Default 1,000,000.
	MaxRows int
	// Polls is how many download calls of a query answer "not ready" before the file is served. Default 1;
	// negative means the file is ready at once.
	Polls int
	// PendingAsJSON makes a not-ready download answer 200 with Content-Type application/json and the body
	// {"status": 204, ...} instead of a bare 204 (Sigma documents both forms).
	PendingAsJSON bool
	// RateLimit is how many requests per sliding minute the export endpoint, and separately the download
	// endpoint, admit before answering 429. Default 400; negative means no limit.
	RateLimit int
	// Now is the server's clock (token expiry, rate limit). Default time.Now.
	Now func() time.Time
}

// Server is an in-process Sigma REST API (an httptest.Server) serving one workbook element's rows.
// Its methods are safe for concurrent use, including while requests are in flight.
type Server struct {
	// URL is the base URL, without /v2 (as the base URLs in Sigma's region table).
	URL string

	ts   *httptest.Server
	mux  *http.ServeMux
	opts Options
	now  func() time.Time

	mu sync.Mutex
	// rows and days are replaced together by SetRows, never modified in place: an export snapshots them.
	rows      [][]string
	days      []int32 // calendar day (days since 1970-01-01) of each row's event time in Zone; noDay if none
	access    map[string]accessToken
	refresh   map[string]bool
	queries   map[string]*query
	exports   []ExportRequest
	stats     Stats
	fail429   int
	retry429  time.Duration
	fail500   int
	cutAfter  int // bytes; -1 when no cut is armed
	admitted  map[string][]time.Time
	received  map[string][]time.Time
	timeIndex int
}

type accessToken struct {
	expires time.Time
	revoked bool
}

// Stats are the server's counters. Each request is counted once in Requests and, by its answer, in at most
// one of the other counters (except MaxPerMinute).
type Stats struct {
	// Requests is every request received, on any path.
	Requests int
	// Tokens is access tokens issued (client_credentials and refresh_token grants).
	Tokens int
	// Exports is export requests answered with a queryId.
	Exports int
	// Downloads is downloads answered 200 with the file, including cut ones.
	Downloads int
	// Cuts is downloads aborted by CutNextDownload.
	Cuts int
	// Polls204 is downloads answered "not ready" (204, or 200 with a status body when PendingAsJSON).
	Polls204 int
	// Status429, Status401 and Status5xx count answers with those statuses (faults included); Status4xx
	// counts every other 4xx (400, 404, 405).
	Status429, Status401, Status5xx, Status4xx int
	// MaxPerMinute is the most requests received by the export endpoint or by the download endpoint in any
	// 60 s, whatever their answer (429s included): a client that respects Sigma's limit keeps it <= 400.
	MaxPerMinute int
}

// ExportRequest is one export request as received (after authentication, fault injection and the rate
// limit, whose rejections are not recorded), whatever the answer.
type ExportRequest struct {
	WorkbookID        string
	ElementID, Format string
	Parameters        map[string]string
	RowLimit, Offset  int // 0 when absent
	RunAsynchronously bool
}

// New starts a Server. It panics when the options contradict themselves (a row of the wrong width, a
// TimeColumn not in Header), as httptest.NewServer panics when it cannot listen.
func New(o Options) *Server {
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.Polls == 0 {
		o.Polls = DefaultPolls
	} else if o.Polls < 0 {
		o.Polls = 0
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Header = append([]string(nil), o.Header...)
	s := &Server{
		opts:      o,
		now:       o.Now,
		access:    map[string]accessToken{},
		refresh:   map[string]bool{},
		queries:   map[string]*query{},
		cutAfter:  -1,
		admitted:  map[string][]time.Time{},
		received:  map[string][]time.Time{},
		timeIndex: -1,
	}
	for i, h := range o.Header {
		if h == o.TimeColumn {
			s.timeIndex = i
		}
	}
	if len(o.Header) > 0 && s.timeIndex < 0 {
		panic(fmt.Sprintf("sigmatest: Options.TimeColumn %q is not in Options.Header %q", o.TimeColumn, o.Header))
	}
	s.rows, s.days = s.index(o.Rows)
	s.mux = s.routes()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close stops the server, aborting downloads in flight.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// SetRows replaces the element's rows (rows that arrive late, or change between chunked exports). Exports
// already made keep the rows they were made from. The server keeps rows without copying them.
func (s *Server) SetRows(rows [][]string) {
	rows, days := s.index(rows)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows, s.days = rows, days
}

// Fail429Next makes the next n export or download requests (authenticated ones) answer 429 with a
// Retry-After of retryAfter in whole seconds, rounded up.
func (s *Server) Fail429Next(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail429, s.retry429 = n, retryAfter
}

// Fail500Next makes the next n download requests (authenticated ones) answer 500 with a JSON error body.
func (s *Server) Fail500Next(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail500 = n
}

// CutNextDownload makes the next download that serves a file send its headers (200) and afterBytes bytes
// of the body, then abort the connection: the client's read of the body fails (an unexpected EOF of the
// chunked body), it never sees a clean end. A body shorter than afterBytes is sent whole and the connection
// is aborted before the end-of-body marker.
func (s *Server) CutNextDownload(afterBytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutAfter = max(afterBytes, 0)
}

// ExpireTokens makes every access token issued so far answer 401 from now on. Refresh tokens stay valid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.access {
		t.revoked = true
		s.access[k] = t
	}
}

// ExpireQueries forgets every export made so far: their downloads answer 404, as Sigma answers for a result
// it no longer keeps.
func (s *Server) ExpireQueries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.queries)
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Exports returns every export request received so far, in arrival order.
func (s *Server) Exports() []ExportRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ExportRequest, len(s.exports))
	for i, e := range s.exports {
		e.Parameters = copyMap(e.Parameters)
		out[i] = e
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// serve routes a request. Every path is under /v2.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	s.mux.ServeHTTP(w, r)
}

// routes builds the server's mux. Methods are checked by the handlers, so that a wrong one gets a JSON 405.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/auth/token", s.handleToken)
	mux.HandleFunc("/v2/workbooks/{workbookId}/export", s.handleExport)
	mux.HandleFunc("/v2/query/{queryId}/download", s.handleDownload)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// apiError is the body of every error answer.
type apiError struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	RequestID string `json:"requestId"`
}

// fail answers status with a JSON error body carrying a fresh requestId, and counts it.
func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	s.mu.Lock()
	s.countStatus(status)
	s.mu.Unlock()
	writeJSON(w, status, apiError{Message: msg, Code: code, RequestID: newID("req-")})
}

// countStatus counts an error answer; s.mu is held.
func (s *Server) countStatus(status int) {
	switch {
	case status == http.StatusTooManyRequests:
		s.stats.Status429++
	case status == http.StatusUnauthorized:
		s.stats.Status401++
	case status >= 500:
		s.stats.Status5xx++
	case status >= 400:
		s.stats.Status4xx++
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns prefix and 16 random bytes in hex.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// retryAfterSeconds renders d as whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// guard applies what every export and download request goes through, in this order: a valid bearer token
// (else 401), an armed 429 fault, then the endpoint's rate limit. It reports whether the request may go on;
// when not, it has answered.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	now := s.now()
	s.mu.Lock()
	recv := slide(s.received[endpoint], now)
	recv = append(recv, now)
	s.received[endpoint] = recv
	s.stats.MaxPerMinute = max(s.stats.MaxPerMinute, len(recv))
	authErr := s.checkToken(r, now)
	if authErr != "" {
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="sigma"`)
		s.fail(w, http.StatusUnauthorized, "unauthorized", authErr)
		return false
	}
	if s.fail429 > 0 {
		s.fail429--
		retry := s.retry429
		s.mu.Unlock()
		w.Header().Set("Retry-After", retryAfterSeconds(retry))
		s.fail(w, http.StatusTooManyRequests, "too_many_requests", "rate limit exceeded (injected)")
		return false
	}
	if s.opts.RateLimit > 0 {
		adm := slide(s.admitted[endpoint], now)
		if len(adm) >= s.opts.RateLimit {
			s.admitted[endpoint] = adm
			wait := adm[0].Add(time.Minute).Sub(now)
			s.mu.Unlock()
			w.Header().Set("Retry-After", retryAfterSeconds(max(wait, time.Second)))
			s.fail(w, http.StatusTooManyRequests, "too_many_requests",
				fmt.Sprintf("rate limit exceeded: more than %d requests per minute on the %s endpoint", s.opts.RateLimit, endpoint))
			return false
		}
		s.admitted[endpoint] = append(adm, now)
	}
	s.mu.Unlock()
	return true
}

// slide drops the times more than a minute before now from the front of ts (ts is in arrival order).
func slide(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-time.Minute)) {
		i++
	}
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}
