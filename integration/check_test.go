package integration

// `auditexport check` against every destination, and against each cloud
// refusing the delete with its own 403 answer (through recordingProxy), so
// the permission named is the one each service's operator must grant.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

// recordingProxy is a reverse proxy in front of a test server: it records
// every request (and the headers of its answer), may answer a request
// itself (deny), and may rewrite the server's answer headers (rewrite).
type recordingProxy struct {
	url  string // http://127.0.0.1:port
	host string // 127.0.0.1:port
	mu   sync.Mutex
	seen []seenRequest
	// deny, when set, returns an answer for requests the proxy answers
	// itself: status, headers, body. ok false passes the request on.
	deny func(r *http.Request) (status int, header map[string]string, body string, ok bool)
	// rewrite, when set, changes the headers of the server's answers.
	rewrite func(r *http.Request, h http.Header)
}

type seenRequest struct {
	method, path string
	query        url.Values
	header       http.Header // the request's
	answer       http.Header // the server's (nil if the proxy answered)
	status       int
}

// newRecordingProxy starts a proxy to upstream (http://host:port).
// keepHost forwards the Host header the client sent: SigV4 signs it, so
// it must stay for S3; fake-gcs-server needs its own host instead.
func newRecordingProxy(t *testing.T, upstream string, keepHost bool) *recordingProxy {
	t.Helper()
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			if keepHost {
				pr.Out.Host = pr.In.Host
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if p.rewrite != nil {
				p.rewrite(resp.Request, resp.Header)
			}
			p.record(resp.Request, resp.Header.Clone(), resp.StatusCode)
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.deny != nil {
			if status, hdr, body, ok := p.deny(r); ok {
				p.record(r, nil, status)
				for k, v := range hdr {
					w.Header().Set(k, v)
				}
				w.WriteHeader(status)
				w.Write([]byte(body))
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

func (p *recordingProxy) record(r *http.Request, answer http.Header, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, seenRequest{method: r.Method, path: r.URL.Path, query: r.URL.Query(),
		header: r.Header.Clone(), answer: answer, status: status})
}

func (p *recordingProxy) requests() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// Each cloud's answer to a delete its caller may not make.
var deleteDenied = map[string]struct {
	header map[string]string
	body   string
}{
	"s3": {map[string]string{"Content-Type": "application/xml"},
		`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`},
	"gcs": {map[string]string{"Content-Type": "application/json"},
		`{"error":{"code":403,"message":"auditexport@example.iam.gserviceaccount.com does not have storage.objects.delete access to the Google Cloud Storage object.","errors":[{"message":"forbidden","domain":"global","reason":"forbidden"}]}}`},
	"azure": {map[string]string{"Content-Type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch"},
		`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.</Message></Error>`},
}

// checkReport is the part of check --json the tests read.
type checkReport struct {
	Status      string `json:"status"`
	Destination struct {
		What  string `json:"what"`
		Steps []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Error  string `json:"error"`
			Needs  string `json:"needs"`
		} `json:"checks"`
		ProbeKey  string   `json:"probe_key"`
		MayRemain []string `json:"may_remain"`
	} `json:"destination"`
}

func parseCheck(t *testing.T, r result) checkReport {
	t.Helper()
	var c checkReport
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("check --json (exit %d) printed no JSON: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return c
}

func (c checkReport) states() string {
	var s []string
	for _, st := range c.Destination.Steps {
		s = append(s, st.Name+":"+st.Status)
	}
	return strings.Join(s, " ")
}

// probeLeft lists the objects under prefix/_auditexport/check/ of the
// bucket at u.
func probeLeft(t *testing.T, u, prefix string) []string {
	t.Helper()
	b, err := sinks.Open(setupCtx(t), u, sinks.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	defer b.Close()
	var keys []string
	if err := b.List(setupCtx(t), prefix+"/"+sinks.ProbePrefix, func(o sinks.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatalf("list %s: %v", u, err)
	}
	return keys
}

const allProbeOK = "connect:ok create:ok create-again:ok read:ok list:ok copy:ok delete:ok"

// TestCheck: against every destination, every step passes (create-if-absent
// included: a second put of the probe key is refused) and the probe leaves
// nothing behind.
func TestCheck(t *testing.T) {
	for _, d := range destinations {
		t.Run(d.name, func(t *testing.T) {
			_, u := d.bucket(t)
			r := cli(t, nil, "check", "--json", "--source.url", landing, "--destination.url", u, "--destination.prefix", "chk")
			c := parseCheck(t, r)
			if r.code != 0 || c.Status != "ok" || c.states() != allProbeOK {
				t.Fatalf("exit %d, status %s, steps %s; want 0, ok, %s\n%s", r.code, c.Status, c.states(), allProbeOK, r.stdout)
			}
			if left := probeLeft(t, u, "chk"); len(left) > 0 {
				t.Errorf("check left %v in %s", left, u)
			}
		})
	}
}

// TestCheckDeleteDenied: each cloud refusing deletes with its own 403 makes
// the delete step fail naming that cloud's permission or role, and check
// names both probe objects it had to leave, which are really there.
func TestCheckDeleteDenied(t *testing.T) {
	for _, tc := range []struct {
		name, needs string
		open        func(t *testing.T) (direct, viaProxy string, p *recordingProxy, env []string)
	}{
		{"s3", "s3:DeleteObject", func(t *testing.T) (string, string, *recordingProxy, []string) {
			e := s3Server(t)
			name, u := newS3Bucket(t)
			p := newRecordingProxy(t, e.endpoint, true)
			return u, s3Env{endpoint: p.url}.url(name), p, nil
		}},
		{"gcs", "storage.objects.delete", func(t *testing.T) (string, string, *recordingProxy, []string) {
			_, u := newGCSBucket(t)
			p := newRecordingProxy(t, "http://"+gcsServer(t), false)
			return u, u, p, []string{"STORAGE_EMULATOR_HOST=" + p.host}
		}},
		{"azure", "Storage Blob Data Contributor", func(t *testing.T) (string, string, *recordingProxy, []string) {
			e := azureServer(t)
			name, u := newAzureContainer(t)
			p := newRecordingProxy(t, "http://"+e.domain, false)
			return u, azureEnv{domain: p.host}.url(name), p, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct, via, p, env := tc.open(t)
			ans := deleteDenied[tc.name]
			p.deny = func(r *http.Request) (int, map[string]string, string, bool) {
				return http.StatusForbidden, ans.header, ans.body, r.Method == http.MethodDelete
			}
			r := cli(t, env, "check", "--json", "--source.url", landing, "--destination.url", via, "--destination.prefix", "chk")
			c := parseCheck(t, r)
			want := "connect:ok create:ok create-again:ok read:ok list:ok copy:ok delete:failed"
			if r.code != 1 || c.Status != "failed" || c.states() != want {
				t.Fatalf("exit %d, status %s, steps %s; want 1, failed, %s\n%s\n%s", r.code, c.Status, c.states(), want, r.stdout, r.stderr)
			}
			del := c.Destination.Steps[len(c.Destination.Steps)-1]
			if !strings.Contains(del.Needs, tc.needs) || !strings.Contains(del.Error, "permission denied") {
				t.Errorf("delete step %+v: want permission denied, needs %q", del, tc.needs)
			}
			probe := "chk/" + c.Destination.ProbeKey
			if wantLeft := []string{probe, probe + ".copy"}; !slices.Equal(c.Destination.MayRemain, wantLeft) {
				t.Errorf("may_remain %v, want %v", c.Destination.MayRemain, wantLeft)
			}
			if left := probeLeft(t, direct, "chk"); !slices.Equal(left, c.Destination.MayRemain) {
				t.Errorf("in the bucket: %v; check said %v may remain", left, c.Destination.MayRemain)
			}
			// The text form says the same to a person.
			r = cli(t, env, "check", "--source.url", landing, "--destination.url", via, "--destination.prefix", "chk2")
			for _, w := range []string{"FAILED   delete", "missing: " + tc.needs, "probe object that may remain, delete it by hand: ", "1 of 11 checks failed"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("text output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestCheckWrongCredentials: a wrong S3 secret fails connect, naming where
// credentials come from, skips the rest, and never prints the secret.
func TestCheckWrongCredentials(t *testing.T) {
	_, u := newS3Bucket(t)
	planted := plantSecret()
	r := cli(t, []string{"AWS_SECRET_ACCESS_KEY=" + planted}, "check", "--json", "--source.url", landing, "--destination.url", u)
	c := parseCheck(t, r)
	want := "connect:failed create:skipped create-again:skipped read:skipped list:skipped copy:skipped delete:skipped"
	if r.code != 1 || c.states() != want {
		t.Fatalf("exit %d, steps %s; want 1, %s", r.code, c.states(), want)
	}
	if n := c.Destination.Steps[0].Needs; !strings.Contains(n, "AWS_ACCESS_KEY_ID") {
		t.Errorf("connect needs %q, want it to say where credentials come from", n)
	}
	if strings.Contains(r.stdout+r.stderr, planted) {
		t.Errorf("check printed the secret")
	}
}
