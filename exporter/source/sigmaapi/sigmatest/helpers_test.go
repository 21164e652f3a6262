package sigmatest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID = "client-1"
	testSecret   = "s3cret-value"
	testWorkbook = "wb-1"
	testElement  = "el-1"
	testControl  = "API-Date-Filter"
)

var testHeader = []string{"Timestamp", "Event Id", "User Email", "Note"}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start starts a server with the test client, workbook, element and control, and rows over testHeader;
// edit may change the options first.
func start(t *testing.T, rows [][]string, edit func(*Options)) *Server {
	t.Helper()
	o := Options{
		ClientID: testClientID, ClientSecret: testSecret,
		WorkbookID: testWorkbook, ElementID: testElement, ControlID: testControl,
		Header: testHeader, TimeColumn: "Timestamp", Rows: rows,
	}
	if edit != nil {
		edit(&o)
	}
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

// response is one answer, body read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes a JSON error answer, failing the test when it is not one.
func (r response) errorBody(t *testing.T) apiError {
	t.Helper()
	var e apiError
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer %d has Content-Type %q, want application/json; body %s", r.status, ct, r.body)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error answer %d is not JSON: %v; body %s", r.status, err, r.body)
	}
	if e.Message == "" || e.Code == "" || e.RequestID == "" {
		t.Fatalf("error answer %d lacks message, code or requestId: %s", r.status, r.body)
	}
	return e
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// postForm posts form to the token endpoint.
func postForm(t *testing.T, s *Server, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v2/auth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// token gets an access token by client credentials, failing the test otherwise.
func token(t *testing.T, s *Server) tokenResponse {
	t.Helper()
	r := postForm(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}})
	if r.status != http.StatusOK {
		t.Fatalf("token: status %d, body %s", r.status, r.body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatalf("token answer: %v: %s", err, r.body)
	}
	return tr
}

// exportRaw posts body (marshalled unless it is a string) to workbook's export endpoint with tok.
func exportRaw(t *testing.T, s *Server, tok, workbook string, body any) response {
	t.Helper()
	var b []byte
	if str, ok := body.(string); ok {
		b = []byte(str)
	} else {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v2/workbooks/"+workbook+"/export", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

// body is an export body for the test element in format with an optional control value.
func body(format, dates string) map[string]any {
	b := map[string]any{"elementId": testElement, "format": map[string]string{"type": format}, "runAsynchronously": true}
	if dates != "" {
		b["parameters"] = map[string]string{testControl: dates}
	}
	return b
}

// export asks for an export and returns its queryId, failing the test unless it is accepted.
func export(t *testing.T, s *Server, tok string, b map[string]any) string {
	t.Helper()
	r := exportRaw(t, s, tok, testWorkbook, b)
	if r.status != http.StatusOK {
		t.Fatalf("export %v: status %d, body %s", b, r.status, r.body)
	}
	var q struct{ QueryID string }
	if err := json.Unmarshal(r.body, &q); err != nil || q.QueryID == "" {
		t.Fatalf("export answer has no queryId (%v): %s", err, r.body)
	}
	return q.QueryID
}

func downloadReq(t *testing.T, s *Server, tok, queryID string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/v2/query/"+queryID+"/download", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

func download(t *testing.T, s *Server, tok, queryID string) response {
	t.Helper()
	return do(t, downloadReq(t, s, tok, queryID))
}

// fetch downloads queryID, polling past the not-ready answers, and returns the file.
func fetch(t *testing.T, s *Server, tok, queryID string) []byte {
	t.Helper()
	for range 100 {
		r := download(t, s, tok, queryID)
		switch r.status {
		case http.StatusNoContent:
			continue
		case http.StatusOK:
			return r.body
		default:
			t.Fatalf("download %s: status %d, body %s", queryID, r.status, r.body)
		}
	}
	t.Fatalf("download %s: still not ready after 100 polls", queryID)
	return nil
}
