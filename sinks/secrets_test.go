package sinks_test

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

func TestSecrets(t *testing.T) {
	var s sinks.Secrets
	s.Add("")
	const pw = "p@ss w/rd"
	s.Add(pw)
	s.Add("p@ss") // contained in the first: the longer is cut whole
	for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("", pw).String()[1:]} {
		got := s.Text("before " + form + " after")
		if strings.Contains(got, "p@ss") || strings.Contains(got, "rd") || got != "before REDACTED after" {
			t.Errorf("Text(%q) = %q", form, got)
		}
	}
	base := fmt.Errorf("connect with %s: %w", pw, io.ErrUnexpectedEOF)
	err := s.Err(base)
	if strings.Contains(err.Error(), pw) || !errors.Is(err, io.ErrUnexpectedEOF) || errors.Unwrap(err) != nil {
		t.Errorf("Err = %v (unwraps to %v)", err, errors.Unwrap(err))
	}
	if plain := errors.New("no secret"); s.Err(plain) != plain {
		t.Error("an error with no secret was wrapped")
	}
	if s.Err(nil) != nil {
		t.Error("Err(nil) != nil")
	}
}
