package sigmatest

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// handleToken serves POST /v2/auth/token: a form with grant_type client_credentials (client_id,
// client_secret) or refresh_token (refresh_token, client_id, client_secret).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "the token endpoint takes POST, not "+r.Method)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		s.fail(w, http.StatusBadRequest, "bad_request",
			fmt.Sprintf("the token endpoint takes an application/x-www-form-urlencoded body, not %q", ct))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, "bad_request", "unreadable form body: "+err.Error())
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant != "client_credentials" && grant != "refresh_token" {
		s.fail(w, http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("grant_type must be client_credentials or refresh_token, not %q", grant))
		return
	}
	for _, k := range []string{"client_id", "client_secret"} {
		if f.Get(k) == "" {
			s.fail(w, http.StatusBadRequest, "bad_request", k+" is required")
			return
		}
	}
	if !equal(f.Get("client_id"), s.opts.ClientID) || !equal(f.Get("client_secret"), s.opts.ClientSecret) {
		s.fail(w, http.StatusUnauthorized, "invalid_client", "unknown client ID or wrong client secret")
		return
	}
	s.mu.Lock()
	if grant == "refresh_token" {
		rt := f.Get("refresh_token")
		if rt == "" {
			s.mu.Unlock()
			s.fail(w, http.StatusBadRequest, "bad_request", "refresh_token is required with grant_type refresh_token")
			return
		}
		if !s.refresh[rt] {
			s.mu.Unlock()
			s.fail(w, http.StatusUnauthorized, "invalid_grant", "unknown refresh token")
			return
		}
	}
	resp := tokenResponse{
		AccessToken:  newID("at-"),
		TokenType:    "bearer",
		ExpiresIn:    max(int64(s.opts.TokenTTL/time.Second), 1),
		RefreshToken: newID("rt-"),
	}
	s.access[resp.AccessToken] = accessToken{expires: s.now().Add(s.opts.TokenTTL)}
	s.refresh[resp.RefreshToken] = true
	s.stats.Tokens++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// checkToken returns why the request's bearer token is not accepted, or "" when it is; s.mu is held.
func (s *Server) checkToken(r *http.Request, now time.Time) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "missing Authorization header"
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "the Authorization header must be Bearer <access_token>"
	}
	t, ok := s.access[tok]
	switch {
	case !ok:
		return "unknown access token"
	case t.revoked || !now.Before(t.expires):
		return "access token expired"
	}
	return ""
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
