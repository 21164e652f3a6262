package integration

// faultProxy: a reverse proxy in front of versitygw that injects transient
// faults, for faults_test.go.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kinds of faults the proxy injects.
const (
	faultNone = iota
	// fault500Before and fault503Before answer with an S3 error without
	// passing the request on.
	fault500Before
	fault503Before
	// fault500After passes the request on (so it takes effect at the
	// server), then replaces the answer with a 500.
	fault500After
	// faultDelay holds the request for a while before passing it on.
	faultDelay
	// faultDropBefore closes the connection without passing the request on.
	faultDropBefore
	// faultDropAfter passes the request on, then closes the connection in
	// the middle of the answer: before the status line when the answer has
	// no body (a PUT whose success is lost), after part of the body
	// otherwise (a GET cut short).
	faultDropAfter
	numFaults
)

var faultNames = [numFaults]string{"none", "500-before", "503-before", "500-after", "delay", "drop-before", "drop-after"}

// faultProxy forwards to an S3 server, keeping the Host header the client
// signed (SigV4 covers it), and injects a fault into a fraction of requests.
type faultProxy struct {
	t    *testing.T
	srv  *httptest.Server
	rp   *httputil.ReverseProxy
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
	next int // the kind of the next random fault: kinds take turns
	// script, when set, picks the fault of a request before the RNG does;
	// it returns -1 to leave the request to the RNG.
	script func(r *http.Request) int
	// hold, when set, is called (and may block) before a request is
	// passed on, to force an interleaving with another process.
	hold   func(r *http.Request)
	counts [numFaults]atomic.Int64
	total  atomic.Int64
	byOp   sync.Map // "METHOD fault" -> *atomic.Int64
}

// newFaultProxy starts a proxy to upstream (http://host:port) on 127.0.0.1
// with a random port; rate is the fraction of requests that get a fault.
func newFaultProxy(t *testing.T, upstream string, rate float64, seed uint64) *faultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("upstream %q: %v", upstream, err)
	}
	p := &faultProxy{rng: rand.New(rand.NewPCG(seed, 0xfa17)), rate: rate}
	p.next = p.rng.IntN(numFaults - 1)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// SetURL sets the outbound Host to the upstream's; the client
			// signed the Host it sent (the proxy's), so keep that one.
			r.Out.Host = r.In.Host
		},
		ErrorLog: nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// endpoint is the proxy's URL, for a destination URL's endpoint=.
func (p *faultProxy) endpoint() string { return p.srv.URL }

// decide picks the fault for a request: the script's, or with probability
// rate the next kind in turn (so every kind shows up once a few faults are
// injected), and a random delay.
func (p *faultProxy) decide(r *http.Request) (int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delay := time.Duration(50+p.rng.IntN(400)) * time.Millisecond
	if p.script != nil {
		if k := p.script(r); k >= 0 {
			return k, delay
		}
	}
	if p.rng.Float64() >= p.rate {
		return faultNone, 0
	}
	k := 1 + p.next%(numFaults-1)
	p.next++
	return k, delay
}

// setHold installs a hold (see faultProxy.hold).
func (p *faultProxy) setHold(f func(r *http.Request)) {
	p.mu.Lock()
	p.hold = f
	p.mu.Unlock()
}

// setScript installs a script (see faultProxy.script).
func (p *faultProxy) setScript(f func(r *http.Request) int) {
	p.mu.Lock()
	p.script = f
	p.mu.Unlock()
}

// injected is the number of requests that got a fault.
func (p *faultProxy) injected() int64 {
	var n int64
	for k := 1; k < numFaults; k++ {
		n += p.counts[k].Load()
	}
	return n
}

// report describes the requests seen and the faults injected.
func (p *faultProxy) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d faults:", p.total.Load(), p.injected())
	for k := 1; k < numFaults; k++ {
		fmt.Fprintf(&b, " %s=%d", faultNames[k], p.counts[k].Load())
	}
	var ops []string
	p.byOp.Range(func(k, v any) bool {
		ops = append(ops, fmt.Sprintf("%s=%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(ops)
	fmt.Fprintf(&b, " (by method: %s)", strings.Join(ops, " "))
	return b.String()
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.total.Add(1)
	kind, delay := p.decide(r)
	p.mu.Lock()
	hold := p.hold
	p.mu.Unlock()
	if hold != nil {
		hold(r)
	}
	p.counts[kind].Add(1)
	if kind != faultNone {
		c, _ := p.byOp.LoadOrStore(r.Method+" "+faultNames[kind], new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	switch kind {
	case faultNone:
		p.rp.ServeHTTP(w, r)
	case faultDelay:
		time.Sleep(delay)
		p.rp.ServeHTTP(w, r)
	case fault500Before:
		_, _ = io.Copy(io.Discard, r.Body)
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case fault503Before:
		_, _ = io.Copy(io.Discard, r.Body)
		writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case fault500After:
		p.rp.ServeHTTP(&replaceWriter{ResponseWriter: w, r: r}, r)
	case faultDropBefore:
		_, _ = io.Copy(io.Discard, r.Body)
		hijackClose(w)
	case faultDropAfter:
		p.rp.ServeHTTP(&dropWriter{ResponseWriter: w, r: r}, r)
	}
}

// writeS3Error answers like S3 does with a retryable error.
func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>fault-proxy</RequestId></Error>`,
		code, msg, r.URL.Path)
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amz-Request-Id", "fault-proxy")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

// hijackClose closes the client's connection without a response.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("the proxy's ResponseWriter cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// replaceWriter lets the upstream answer arrive, then sends a 500 instead.
type replaceWriter struct {
	http.ResponseWriter
	r       *http.Request
	written bool
}

func (w *replaceWriter) WriteHeader(status int) {
	if status < 200 { // 100 Continue and friends go through
		w.ResponseWriter.WriteHeader(status)
		return
	}
	if !w.written {
		w.written = true
		writeS3Error(w.ResponseWriter, w.r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	}
}

func (w *replaceWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil // the upstream body is dropped
}

// dropWriter lets the upstream answer arrive and cuts the connection: before
// the status line when there is no body to cut, else half-way through it.
type dropWriter struct {
	http.ResponseWriter
	r      *http.Request
	status int
	cut    int64 // body bytes to pass before the cut; -1 before the headers
	sent   int64
	closed bool
}

func (w *dropWriter) WriteHeader(status int) {
	if status < 200 { // 100 Continue and friends go through
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.status = status
	n, _ := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
	if w.r.Method == http.MethodHead || n < 2 {
		w.closed = true
		hijackClose(w.ResponseWriter)
		return
	}
	w.cut = n / 2
	w.ResponseWriter.WriteHeader(status)
}

func (w *dropWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.closed {
		return 0, http.ErrAbortHandler
	}
	if w.sent+int64(len(b)) <= w.cut {
		w.sent += int64(len(b))
		return w.ResponseWriter.Write(b)
	}
	part := b[:w.cut-w.sent]
	if _, err := w.ResponseWriter.Write(part); err != nil {
		return 0, err
	}
	w.closed = true
	hijackClose(w.ResponseWriter) // flushes what was written, then closes
	return 0, http.ErrAbortHandler
}

// Flush is a no-op once the connection is gone.
func (w *dropWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.closed {
		f.Flush()
	}
}
