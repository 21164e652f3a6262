package sinks

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Secrets cuts known secret values out of text: a password a source read
// from its connection string, from PGPASSWORD or from a password file. It
// is the second half of this package's redaction: RedactText masks what
// looks like a secret; Secrets removes what is known to be one, in every
// escaped form it may take inside a URL. The zero value knows no secret.
type Secrets struct {
	values []string // longest first, so a secret that contains another is cut whole
}

// Add registers a secret, with the escaped forms it may take inside a URL.
// Add is not safe to call concurrently with anything else.
func (s *Secrets) Add(secret string) {
	if secret == "" {
		return
	}
	for _, v := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()[1:]} {
		if v != "" && !slices.Contains(s.values, v) {
			s.values = append(s.values, v)
		}
	}
	slices.SortStableFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

// Text returns t with every known secret replaced by REDACTED.
func (s Secrets) Text(t string) string {
	for _, v := range s.values {
		t = strings.ReplaceAll(t, v, redacted)
	}
	return t
}

// Err returns err with its text cut by Text. The result matches what err
// matches under errors.Is and errors.As, but does not unwrap to it, so no
// caller can print the unredacted text by accident. An error with no known
// secret in its text is returned as is.
func (s Secrets) Err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := s.Text(msg); red != msg {
		return &secretsError{msg: red, err: err}
	}
	return err
}

type secretsError struct {
	msg string
	err error
}

func (e *secretsError) Error() string        { return e.msg }
func (e *secretsError) Is(target error) bool { return errors.Is(e.err, target) }
func (e *secretsError) As(target any) bool   { return errors.As(e.err, target) }
