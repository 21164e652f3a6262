package postgres

import (
	"net/url"
	"os"
	"regexp"

	"github.com/auditexport/auditexport/sinks"
)

var (
	kvPasswordRE     = regexp.MustCompile(`password\s*=\s*(?:'((?:\\.|[^'\\])*)'|(\S+))`)
	urlUserinfoRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:([^@]*)@`)
	kvEscapedQuoteRE = regexp.MustCompile(`\\(.)`)
	kvPasswordSetRE  = regexp.MustCompile(`(^|\s)password\s*=`)
)

// dsnSecrets knows the passwords that can be found before the DSN is parsed: PGPASSWORD's and whatever looks
// like a password in the DSN itself, even a malformed one. pgx already masks passwords it recognises in
// connection strings, on a best-effort basis; this is the second line: every password the source knows of
// (these, and the one pgx read from a password file, added after parsing) is cut out of every error it
// returns.
func dsnSecrets(dsn string) sinks.Secrets {
	var r sinks.Secrets
	r.Add(os.Getenv("PGPASSWORD"))
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		r.Add(pw)
	}
	if m := urlUserinfoRE.FindStringSubmatch(dsn); m != nil {
		r.Add(m[1])
		if pw, err := url.PathUnescape(m[1]); err == nil {
			r.Add(pw)
		}
	}
	for _, m := range kvPasswordRE.FindAllStringSubmatch(dsn, -1) {
		if m[1] != "" {
			r.Add(m[1])
			r.Add(kvEscapedQuoteRE.ReplaceAllString(m[1], "$1"))
		}
		r.Add(m[2])
	}
	return r
}

// dsnHasPassword reports whether a DSN, URL or key=value, holds a password.
func dsnHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	return kvPasswordSetRE.MatchString(dsn)
}
