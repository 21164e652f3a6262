package sinks

import (
	"net/url"
	"os"
	"regexp"
	"strings"
)

const redacted = "REDACTED"

// sensitiveExact are query parameter names (lowercased) whose value is a
// secret or part of one. The Azure SAS fields are listed because a SAS is only
// useful whole, and its expiry/permissions tell an attacker what a leaked sig
// is worth.
var sensitiveExact = map[string]bool{
	"sig": true, "sv": true, "se": true, "st": true, "sp": true, "spr": true, "ss": true,
	"srt": true, "sr": true, "si": true, "sdd": true, "skoid": true, "sktid": true,
	"skt": true, "ske": true, "sks": true, "skv": true, "saoid": true, "suoid": true,
	"scid": true, "sip": true, "key": false, // "key" is gocloud's single-key param, not a secret
	"code": true, "pass": true, "pwd": true, "auth": true, "sas": true,
}

// sensitiveParts mark a parameter name (lowercased) as secret when it contains
// any of them: x-amz-signature, x-amz-credential, x-amz-security-token,
// x-goog-signature, x-goog-credential, password, client_secret, accountkey,
// access_token, sharedaccesssignature, api_key ...
var sensitiveParts = []string{
	"signature", "credential", "token", "secret", "password", "passwd",
	"accountkey", "account_key", "accesskey", "access_key", "apikey", "api_key", "private",
}

func sensitiveParam(name string) bool {
	n := strings.ToLower(name)
	if v, ok := sensitiveExact[n]; ok {
		return v
	}
	for _, p := range sensitiveParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// Redact returns rawURL safe to log: userinfo is dropped and the values of
// credential-like query parameters (SAS fields such as sig/sv/se, X-Amz-Signature,
// X-Amz-Credential, tokens, passwords, keys) are replaced by REDACTED. Other
// parameters keep their original spelling. A value that is itself a URL (an
// S3 endpoint, say) is redacted too. A URL that does not parse is redacted
// without parsing: everything between :// and its last @ becomes REDACTED,
// and its query is masked pair by pair.
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, "://") && !strings.Contains(rawURL, "?") {
		return redactFreeText(rawURL) // a plain path; mask anything credential-like anyway
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return redactUnparsed(rawURL)
	}
	q := redactQuery(u.RawQuery)
	if u.User == nil && q == u.RawQuery && u.Fragment == "" {
		return rawURL // nothing to hide: keep the spelling (url.String turns mem:// into mem:)
	}
	u.User = nil
	u.RawQuery = q
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = redacted, ""
	}
	return u.String()
}

// redactUnparsed redacts a URL that url.Parse refuses. Go cuts the user
// info at the last @ of the authority; a password holding a / ? or # moves
// that @ further on, so everything up to the string's last @ goes. The
// query, when there is one, is masked pair by pair as in a parsed URL.
func redactUnparsed(raw string) string {
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			raw = scheme + "://" + redacted + "@" + rest[at+1:]
		}
	}
	rest, frag, hasFrag := strings.Cut(raw, "#")
	head, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		head += "?" + redactQuery(query)
	}
	if hasFrag && frag != "" {
		head += "#" + redacted
	}
	return redactFreeText(head)
}

// redactQuery rewrites a raw query string pair by pair, so unchanged pairs
// keep their exact encoding. A value with a bad %-escape is decoded as far
// as it can be, so a URL in it is still found.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, val, hasVal := strings.Cut(p, "=")
		uname, err := url.QueryUnescape(name)
		if err != nil {
			uname = lenientUnescape(name)
		}
		if !hasVal {
			continue
		}
		if sensitiveParam(uname) {
			parts[i] = name + "=" + redacted
			continue
		}
		uval, err := url.QueryUnescape(val)
		if err != nil {
			uval = lenientUnescape(val)
		}
		if strings.Contains(uval, "://") {
			if r := Redact(uval); r != uval {
				parts[i] = name + "=" + url.QueryEscape(r)
			}
		}
	}
	return strings.Join(parts, "&")
}

// lenientUnescape decodes the valid %XX escapes and + of a query value and
// keeps every other byte as it is.
func lenientUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// HasPassword reports whether rawURL, or a URL in one of its query
// parameters (an S3 endpoint=, plain or %-escaped), carries user info with a
// password. It reads the text the way url.Parse cuts an authority (up to the
// first / ? or #, user info up to its last @), so it answers for URLs that
// do not parse too.
func HasPassword(rawURL string) bool {
	for _, s := range []string{rawURL, lenientUnescape(rawURL)} {
		for rest := s; ; {
			_, after, ok := strings.Cut(rest, "://")
			if !ok {
				break
			}
			rest = after
			authority := after
			if end := strings.IndexAny(after, "/?#&"); end >= 0 {
				authority = after[:end]
			}
			if at := strings.LastIndex(authority, "@"); at >= 0 && strings.Contains(authority[:at], ":") {
				return true
			}
		}
	}
	return false
}

var (
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>\x60]+`)
	// userinfoInText is the user info of a URL that was not redacted as one:
	// scheme:// then the authority up to its last @. & ends it too, as it
	// ends a URL inside a query value.
	userinfoInText = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#&\s"'<>\x60]*@`)
	// name=value pairs outside URLs (connection strings, query fragments in
	// messages, XML-ish dumps).
	pairInText = regexp.MustCompile(`(?i)([A-Za-z0-9_\-]*(?:signature|credential|token|secret|password|passwd|accountkey|sharedaccesssignature|sig|access_key|api_key)[A-Za-z0-9_\-]*)(\s*=\s*)("?)([^\s&;"',<>]+)`)
	authHeader = regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)([^\r\n,;]+)`)
	awsKeyID   = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`)
)

// secretEnv are environment variables whose values are secrets the SDKs read.
// If a driver ever echoes one verbatim, redactText removes it.
var secretEnv = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
	"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGEBLOB_CONNECTIONSTRING", "AZURE_CLIENT_SECRET",
}

// RedactText makes any message safe to show, as every error of this
// package is: URLs in it are redacted like Redact, and credential-like
// pairs, Authorization headers, AWS access key IDs and the values of the
// SDKs' secret environment variables are masked.
func RedactText(s string) string { return redactText(s) }

// redactText makes a driver's error message safe to show: URLs in it are
// redacted like Redact, credential-like name=value pairs, Authorization
// headers and AWS access key IDs are masked, and the values of the SDKs'
// secret environment variables are removed wherever they appear.
func redactText(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, Redact)
	return redactFreeText(s)
}

func redactFreeText(s string) string {
	s = userinfoInText.ReplaceAllString(s, "${1}"+redacted+"@")
	s = authHeader.ReplaceAllString(s, "${1}"+redacted)
	s = pairInText.ReplaceAllStringFunc(s, func(m string) string {
		sub := pairInText.FindStringSubmatch(m)
		if sub[4] == redacted {
			return m
		}
		return sub[1] + sub[2] + sub[3] + redacted
	})
	s = awsKeyID.ReplaceAllString(s, redacted)
	for _, name := range secretEnv {
		if v := os.Getenv(name); len(v) >= 6 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}
