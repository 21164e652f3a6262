package sigmatest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenClientCredentials(t *testing.T) {
	s := start(t, nil, func(o *Options) { o.TokenTTL = 90 * time.Minute })
	tr := token(t, s)
	if tr.AccessToken == "" || tr.RefreshToken == "" || tr.TokenType != "bearer" || tr.ExpiresIn != 5400 {
		t.Errorf("token answer = %+v, want an access and a refresh token, token_type bearer, expires_in 5400", tr)
	}
	if tr2 := token(t, s); tr2.AccessToken == tr.AccessToken {
		t.Errorf("two grants returned the same access token %q", tr.AccessToken)
	}
	if got := s.Stats().Tokens; got != 2 {
		t.Errorf("Stats().Tokens = %d, want 2", got)
	}
	// The token is accepted by the other endpoints.
	export(t, s, tr.AccessToken, body("csv", ""))
}

func TestTokenRejections(t *testing.T) {
	s := start(t, nil, nil)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"wrong secret", with("client_secret", "nope"), http.StatusUnauthorized},
		{"wrong client", with("client_id", "other"), http.StatusUnauthorized},
		{"no secret", with("client_secret", ""), http.StatusBadRequest},
		{"no grant type", with("grant_type", ""), http.StatusBadRequest},
		{"password grant", with("grant_type", "password"), http.StatusBadRequest},
		{"unknown refresh token", func() url.Values {
			f := with("grant_type", "refresh_token")
			f.Set("refresh_token", "rt-unknown")
			return f
		}(), http.StatusUnauthorized},
		{"refresh without refresh_token", with("grant_type", "refresh_token"), http.StatusBadRequest},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		r := postForm(t, s, tt.form)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d; body %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		e := r.errorBody(t)
		if ids[e.RequestID] {
			t.Errorf("%s: requestId %q was already used", tt.name, e.RequestID)
		}
		ids[e.RequestID] = true
		if strings.Contains(string(r.body), testSecret) {
			t.Errorf("%s: the answer contains the client secret: %s", tt.name, r.body)
		}
	}
	// JSON instead of a form.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v2/auth/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
	req.Header.Set("Content-Type", "application/json")
	if r := do(t, req); r.status != http.StatusBadRequest {
		t.Errorf("JSON token request: status %d, want 400; body %s", r.status, r.body)
	}
	if st := s.Stats(); st.Tokens != 0 || st.Status401 != 3 || st.Status4xx != 5 {
		t.Errorf("Stats() = %+v, want Tokens 0, Status401 3, Status4xx 5", st)
	}
}

func TestRefreshTokenGrant(t *testing.T) {
	s := start(t, nil, nil)
	tr := token(t, s)
	r := postForm(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		"client_id": {testClientID}, "client_secret": {testSecret}})
	if r.status != http.StatusOK {
		t.Fatalf("refresh grant: status %d, body %s", r.status, r.body)
	}
	var tr2 tokenResponse
	if err := json.Unmarshal(r.body, &tr2); err != nil || tr2.AccessToken == "" || tr2.AccessToken == tr.AccessToken {
		t.Fatalf("refresh grant answer %s (%v): want a new access token", r.body, err)
	}
	export(t, s, tr2.AccessToken, body("csv", ""))
	// The refresh grant checks the client too.
	r = postForm(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		"client_id": {testClientID}, "client_secret": {"wrong"}})
	if r.status != http.StatusUnauthorized {
		t.Errorf("refresh grant with a wrong secret: status %d, want 401", r.status)
	}
}

func TestBearerTokenRequired(t *testing.T) {
	s := start(t, nil, nil)
	tok := token(t, s).AccessToken
	q := export(t, s, tok, body("csv", ""))
	for name, r := range map[string]response{
		"export without a token":   exportRaw(t, s, "", testWorkbook, body("csv", "")),
		"export with a bad token":  exportRaw(t, s, "at-forged", testWorkbook, body("csv", "")),
		"download without a token": download(t, s, "", q),
		"download with a bad token": func() response {
			req := downloadReq(t, s, "", q)
			req.Header.Set("Authorization", "Basic "+tok)
			return do(t, req)
		}(),
	} {
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401; body %s", name, r.status, r.body)
			continue
		}
		r.errorBody(t)
	}
	if st := s.Stats(); st.Status401 != 4 || st.Exports != 1 || st.Polls204+st.Downloads != 0 {
		t.Errorf("Stats() = %+v, want Status401 4, Exports 1, no download served", st)
	}
}

func TestTokenExpiry(t *testing.T) {
	c := newClock()
	s := start(t, nil, func(o *Options) { o.TokenTTL = 10 * time.Minute; o.Now = c.Now })
	tr := token(t, s)
	if tr.ExpiresIn != 600 {
		t.Errorf("expires_in = %d, want 600", tr.ExpiresIn)
	}
	q := export(t, s, tr.AccessToken, body("csv", ""))
	c.Advance(10*time.Minute - time.Second)
	if r := download(t, s, tr.AccessToken, q); r.status != http.StatusNoContent {
		t.Fatalf("download just before expiry: status %d, want 204", r.status)
	}
	c.Advance(time.Second)
	r := download(t, s, tr.AccessToken, q)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("download at expiry: status %d, want 401", r.status)
	}
	if e := r.errorBody(t); !strings.Contains(e.Message, "expired") {
		t.Errorf("401 message %q does not say the token expired", e.Message)
	}
	// A new token carries on with the same query.
	if got := fetch(t, s, token(t, s).AccessToken, q); !strings.HasPrefix(string(got), "Timestamp,") {
		t.Errorf("download with a new token = %q, want the CSV file", got)
	}
}

func TestExpireTokens(t *testing.T) {
	s := start(t, nil, nil)
	a, b := token(t, s), token(t, s)
	s.ExpireTokens()
	for _, tok := range []string{a.AccessToken, b.AccessToken} {
		if r := exportRaw(t, s, tok, testWorkbook, body("csv", "")); r.status != http.StatusUnauthorized {
			t.Errorf("export with a token issued before ExpireTokens: status %d, want 401", r.status)
		}
	}
	// Tokens issued afterwards work, and so do the earlier refresh tokens.
	export(t, s, token(t, s).AccessToken, body("csv", ""))
	r := postForm(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken},
		"client_id": {testClientID}, "client_secret": {testSecret}})
	if r.status != http.StatusOK {
		t.Errorf("refresh grant after ExpireTokens: status %d, want 200; body %s", r.status, r.body)
	}
}
