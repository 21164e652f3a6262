package postgres

import (
	"errors"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// redactor removes the PostgreSQL password from error text. pgx already masks passwords it recognises in
// connection strings, on a best-effort basis; this is the second line: every password the source knows of
// (the DSN's, PGPASSWORD's, the one pgx read from a password file) is cut out of every error it returns.
type redactor struct {
	secrets []string // longest first, so a secret that contains another is cut whole
}

const redactedText = "xxxxx"

var (
	kvPasswordRE     = regexp.MustCompile(`password\s*=\s*(?:'((?:\\.|[^'\\])*)'|(\S+))`)
	urlUserinfoRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:([^@]*)@`)
	kvEscapedQuoteRE = regexp.MustCompile(`\\(.)`)
)

// newRedactor knows the passwords that can be found before the DSN is parsed: PGPASSWORD's and whatever
// looks like a password in the DSN itself, even a malformed one.
func newRedactor(dsn string) redactor {
	var r redactor
	r.add(os.Getenv("PGPASSWORD"))
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		r.add(pw)
	}
	if m := urlUserinfoRE.FindStringSubmatch(dsn); m != nil {
		r.add(m[1])
		if pw, err := url.PathUnescape(m[1]); err == nil {
			r.add(pw)
		}
	}
	for _, m := range kvPasswordRE.FindAllStringSubmatch(dsn, -1) {
		if m[1] != "" {
			r.add(m[1])
			r.add(kvEscapedQuoteRE.ReplaceAllString(m[1], "$1"))
		}
		r.add(m[2])
	}
	return r
}

// add registers a secret, with the escaped forms it may take inside a URL.
func (r *redactor) add(secret string) {
	if secret == "" {
		return
	}
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()[1:]} {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

func (r redactor) text(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redactedText)
	}
	return s
}

// err returns err with its text redacted. The result matches what err matches under errors.Is and
// errors.As, but does not unwrap to it, so no caller can print the unredacted text by accident.
func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.text(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
func (e *redactedError) As(target any) bool   { return errors.As(e.err, target) }
