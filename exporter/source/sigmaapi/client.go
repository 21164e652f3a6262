package sigmaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"
)

// client speaks Sigma's REST API: a client-credentials token, export
// requests and downloads, with Sigma's rate limit kept and its transient
// answers retried.
type client struct {
	base    string // base URL, without /v2 and without a trailing slash
	http    *http.Client
	creds   clientcredentials.Config
	limit   *rate.Limiter
	retry   time.Duration // how long transient failures of one call are retried
	secrets []string      // values no error text may hold

	mu    sync.Mutex
	token oauth2.TokenSource // nil until the first call, and after a 401

	requests atomic.Int64 // every HTTP request made, token requests included
}

// clientConfig is what a client is built from.
type clientConfig struct {
	baseURL           string
	clientID, secret  string
	requestsPerMinute int
	retryFor          time.Duration
	httpClient        *http.Client
}

func newClient(c clientConfig) *client {
	base := strings.TrimRight(c.baseURL, "/")
	hc := c.httpClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = headerTimeout
		hc = &http.Client{Transport: tr}
	}
	return &client{
		base: base,
		http: hc,
		creds: clientcredentials.Config{
			ClientID: c.clientID, ClientSecret: c.secret,
			TokenURL:  base + "/v2/auth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		limit:   pace(c.requestsPerMinute),
		retry:   c.retryFor,
		secrets: []string{c.clientID, c.secret},
	}
}

// pace is a limiter that never lets more than rpm requests through in any
// 60 seconds: a token bucket of burst b refilled at r per second admits at
// most b + 60r in a minute, so r = (rpm - b) / 60.
func pace(rpm int) *rate.Limiter {
	b := max(1, rpm/20)
	if rpm <= b {
		return rate.NewLimiter(rate.Limit(float64(max(rpm, 1))/120), 1)
	}
	return rate.NewLimiter(rate.Limit(float64(rpm-b)/60), b)
}

// APIError is an error answer of Sigma's API.
type APIError struct {
	Op        string // what was asked: "export", "download", "token"
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("sigma api %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (requestId " + e.RequestID + ")"
	}
	return s
}

// transient reports whether the answer may differ if asked again.
func (e *APIError) transient() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// ErrCredentials is a client ID and secret Sigma does not accept.
var ErrCredentials = errors.New("sigma rejected the API client's credentials")

// tokenSource returns the current token source, making one if needed.
func (c *client) tokenSource(ctx context.Context) oauth2.TokenSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == nil {
		// The token request goes through this client's transport, counted
		// and rate-limited like every other.
		ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, &http.Client{Transport: countingTransport{c}})
		c.token = c.creds.TokenSource(ctx)
	}
	return c.token
}

// dropToken forgets the token after Sigma refused it: the next call gets a
// new one.
func (c *client) dropToken(ts oauth2.TokenSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == ts {
		c.token = nil
	}
}

// countingTransport counts and paces the token requests.
type countingTransport struct{ c *client }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.c.limit.Wait(req.Context()); err != nil {
		return nil, err
	}
	t.c.requests.Add(1)
	return t.c.http.Transport.RoundTrip(req)
}

// bearer is the Authorization header of the current token.
func (c *client) bearer(ctx context.Context) (string, oauth2.TokenSource, error) {
	ts := c.tokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		c.dropToken(ts)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			apiErr := apiError("token", re.Response, re.Body)
			if re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusForbidden {
				return "", nil, fmt.Errorf("%w: %w", ErrCredentials, apiErr)
			}
			return "", nil, apiErr
		}
		return "", nil, c.scrub(err)
	}
	return "Bearer " + tok.AccessToken, ts, nil
}

// scrub removes the client's secrets from an error's text, keeping none of
// its chain: an error from the token request may quote the request.
func (c *client) scrub(err error) error {
	msg := err.Error()
	clean := msg
	for _, s := range c.secrets {
		if len(s) >= 4 {
			clean = strings.ReplaceAll(clean, s, "REDACTED")
		}
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// apiError reads Sigma's JSON error body, if there is one.
func apiError(op string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Op: op, Status: resp.StatusCode}
	var b struct {
		Message   string `json:"message"`
		Code      any    `json:"code"`
		RequestID string `json:"requestId"`
		Error     string `json:"error"`
		ErrorDesc string `json:"error_description"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Message, e.RequestID = b.Message, b.RequestID
		if b.Code != nil {
			e.Code = fmt.Sprint(b.Code)
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(b.Error + " " + b.ErrorDesc)
		}
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	if e.Message == "" && len(body) > 0 && len(body) < 300 && !bytes.ContainsAny(body, "\x00") {
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}

// do sends one API call and returns its response with a 2xx status. 429
// and 5xx answers and network errors are retried with backoff, honouring
// Retry-After, for up to c.retry; a 401 gets a new token and one more try.
// The caller closes the body.
func (c *client) do(ctx context.Context, op, method, path string, body []byte) (*http.Response, error) {
	refreshed := false
	call := func() (*http.Response, error) {
		auth, ts, err := c.bearer(ctx)
		if err != nil {
			if errors.Is(err, ErrCredentials) {
				return nil, backoff.Permanent(err)
			}
			return nil, err
		}
		if err := c.limit.Wait(ctx); err != nil {
			return nil, backoff.Permanent(err)
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return nil, backoff.Permanent(err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json, text/csv, application/x-ndjson, */*")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.requests.Add(1)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, backoff.Permanent(ctx.Err())
			}
			return nil, fmt.Errorf("sigma api %s: %w", op, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		apiErr := apiError(op, resp, data)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed:
			// The token expired or was revoked: a new one, once.
			refreshed = true
			c.dropToken(ts)
			return nil, apiErr
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, backoff.Permanent(fmt.Errorf("%w: %w", ErrCredentials, apiErr))
		case resp.StatusCode == http.StatusTooManyRequests:
			if s, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
				return nil, backoff.RetryAfter(s)
			}
			return nil, apiErr
		case apiErr.transient():
			return nil, apiErr
		}
		return nil, backoff.Permanent(apiErr)
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxInterval = 30 * time.Second
	resp, err := backoff.Retry(ctx, call, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(c.retry))
	if err != nil {
		if _, ok := errors.AsType[*backoff.RetryAfterError](err); ok {
			err = &APIError{Op: op, Status: http.StatusTooManyRequests, Message: fmt.Sprintf("still rate limited after retrying for %s", c.retry)}
		}
		return nil, c.scrub(err)
	}
	return resp, nil
}

// retryAfter parses a Retry-After value in seconds or as an HTTP date.
func retryAfter(v string) (int, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return max(s, 1), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(int(time.Until(t).Seconds()+0.999), 1), true
	}
	return 0, false
}

// exportRequest is the body of an export request.
type exportRequest struct {
	ElementID         string            `json:"elementId"`
	Format            exportFormat      `json:"format"`
	Parameters        map[string]string `json:"parameters,omitempty"`
	RowLimit          int               `json:"rowLimit,omitempty"`
	Offset            int               `json:"offset,omitempty"`
	RunAsynchronously bool              `json:"runAsynchronously"`
}

type exportFormat struct {
	Type string `json:"type"`
}

// export asks for an export of one element and returns its query ID.
func (c *client) export(ctx context.Context, workbook string, r exportRequest) (string, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, "export", http.MethodPost, "/v2/workbooks/"+url.PathEscape(workbook)+"/export", body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		QueryID string `json:"queryId"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("sigma api export: read the answer: %w", err)
	}
	if out.QueryID == "" {
		return "", errors.New("sigma api export: the answer has no queryId")
	}
	return out.QueryID, nil
}

// ErrNotReady is a download still being prepared after the poll timeout.
var ErrNotReady = errors.New("the export was not ready")

// download polls for an export until it is ready and returns its body.
// Polls back off from pollEvery up to 30 s; after timeout it gives up with
// ErrNotReady.
func (c *client) download(ctx context.Context, queryID string, pollEvery, timeout time.Duration) (io.ReadCloser, error) {
	deadline := time.Now().Add(timeout)
	wait := pollEvery
	polls := 0
	for {
		// Each answer's body gets a context of its own, which a body
		// that stalls for bodyIdleTimeout cancels.
		bctx, cancel := context.WithCancel(ctx)
		resp, err := c.do(bctx, "download", http.MethodGet, "/v2/query/"+url.PathEscape(queryID)+"/download", nil)
		if err != nil {
			cancel()
			return nil, err
		}
		ready := resp.StatusCode != http.StatusNoContent
		var body io.ReadCloser = newIdleBody(resp.Body, bodyIdleTimeout, cancel)
		if ready && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			// A JSON status body that says 204 is "not yet" too.
			if ready, body, err = jsonStatusReady(body); err != nil {
				return nil, err
			}
		}
		if ready {
			return body, nil
		}
		body.Close()
		polls++
		if time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("%w after %d polls over %s (queryId %s)", ErrNotReady, polls, timeout, queryID)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// Timeouts of a stalled peer: the headers of an answer, and a download
// body that sends nothing for that long, fail the request (a body cut
// short, so the window is not committed) instead of hanging the run.
const (
	headerTimeout   = 2 * time.Minute
	bodyIdleTimeout = 5 * time.Minute
)

// idleBody cancels its request when no byte arrives for idle.
type idleBody struct {
	io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
}

func newIdleBody(rc io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleBody {
	return &idleBody{ReadCloser: rc, idle: idle, timer: time.AfterFunc(idle, cancel), cancel: cancel}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && !errors.Is(err, io.EOF) && !b.timer.Stop() {
		err = fmt.Errorf("no data for %s: %w", b.idle, err)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// jsonStatusReady peeks at a small JSON download answer. A status answer
// is a JSON object with a numeric "status" (the rows of an export have
// text values): {"status": 204} means not ready, and any other status is
// an error, never a file of no rows. Anything else is the file, returned
// whole.
func jsonStatusReady(body io.ReadCloser) (bool, io.ReadCloser, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(body, head)
	head = head[:n]
	file := struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), body), body}
	if err == nil { // longer than a status answer
		return true, file, nil
	}
	var st struct {
		Status    *float64 `json:"status"`
		Message   string   `json:"message"`
		RequestID string   `json:"requestId"`
	}
	if json.Unmarshal(bytes.TrimSpace(head), &st) != nil || st.Status == nil {
		return true, file, nil
	}
	if *st.Status == http.StatusNoContent {
		return false, body, nil
	}
	body.Close()
	return false, nil, &APIError{Op: "download", Status: int(*st.Status), Message: "a status answer instead of the file: " + st.Message, RequestID: st.RequestID}
}
