package sinks_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3://bucket", "s3://bucket"},
		{"mem://", "mem://"},
		{"/var/lib/archive", "/var/lib/archive"},
		{"s3://bucket?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true",
			"s3://bucket?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true"},
		{"s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@bucket/x", "s3://bucket/x"},
		{"https://user:pa55@host/p", "https://host/p"},
		{"azblob://c?sv=2022-11-02&ss=b&srt=co&sp=rwl&se=2026-12-31T00:00:00Z&st=2026-01-01&spr=https&sig=abc%2Bdef%3D",
			"azblob://c?sv=REDACTED&ss=REDACTED&srt=REDACTED&sp=REDACTED&se=REDACTED&st=REDACTED&spr=REDACTED&sig=REDACTED"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"},
		{"https://storage.googleapis.com/b/o?X-Goog-Signature=abc&X-Goog-Credential=sa%40p", "https://storage.googleapis.com/b/o?X-Goog-Signature=REDACTED&X-Goog-Credential=REDACTED"},
		{"postgres://u@h/db?password=hunter2&sslmode=disable&client_secret=s&api_key=k&access_token=t",
			"postgres://h/db?password=REDACTED&sslmode=disable&client_secret=REDACTED&api_key=REDACTED&access_token=REDACTED"},
		{"s3://b?endpoint=http%3A%2F%2Fuser%3Apw%40127.0.0.1%3A7070&region=x", "s3://b?endpoint=http%3A%2F%2F127.0.0.1%3A7070&region=x"},
		{"file:///data?secret_key_path=/k&base_url=/b", "file:///data?secret_key_path=REDACTED&base_url=/b"},
		{"s3://b?kmskeyid=alias/x&prefix=a/", "s3://b?kmskeyid=alias/x&prefix=a/"},
		{"https://h/p#access_token=abc", "https://h/p#REDACTED"},
	} {
		if got := sinks.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactNeverKeepsSecrets(t *testing.T) {
	secrets := []string{"hunter2", "deadbeef", "AKIAIOSFODNN7EXAMPLE", "c2VjcmV0"}
	for _, in := range []string{
		"s3://AKIAIOSFODNN7EXAMPLE:hunter2@b",
		"azblob://c?sig=deadbeef",
		"https://h/?SharedAccessSignature=c2VjcmV0",
		"https://h/?AccountKey=c2VjcmV0",
		"not a url at all but has password=hunter2 in it",
		"::bad url with sig=deadbeef?x",
	} {
		got := sinks.Redact(in)
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Errorf("Redact(%q) = %q keeps %q", in, got, s)
			}
		}
	}
}

// malformedSecretURLs hold the planted password S3CR3T in URLs that do not
// parse, or parse only on the outside: Go's url errors quote the raw URL,
// and a redaction that needs a successful parse would give it back.
var malformedSecretURLs = []string{
	"s3://b?endpoint=http://bob:S3CR3T@[::1&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host:99999&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host:99x&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@ho st&region=x",
	"s3://b?endpoint=http://bob:S3CR3T@host/%zz&region=x",
	"s3://b?endpoint=http://bob:S3CR3T%zz@host&region=x",
	"s3://b?endpoint=http://bob:S3CR3T/x@host&region=x",
	"s3://b?endpoint=http%3A%2F%2Fbob%3AS3CR3T%40%5B%3A%3A1&region=x",
	"s3://b?endpoint=http%3A%2F%2Fbob%3AS3CR3T%40host%2F%zz&region=x",
	"s3://bob:S3CR3T@b:99x?region=x",
	"s3://bob:S3CR3T@[::1",
	"s3://b?region=x&endpoint=http://bob:S3CR3T@[::1#frag",
	"http://bob:S3CR3T@[::1",
	"http://bob:S3CR3T@host:99x",
	"http://bob:S3CR3T@host:99999",
	"http://bob:S3CR3T@ho st",
	"http://bob:S3CR3T@host/%zz",
	"http://bob:S3@CR3T@[::1",
	"azblob://c?sig=S3CR3T&sv=2022-11-02%zz",
}

func TestRedactMalformed(t *testing.T) {
	const secret = "S3CR3T"
	leaks := func(what, got string) {
		t.Helper()
		if strings.Contains(got, secret) || strings.Contains(got, "CR3T") {
			t.Errorf("%s keeps the secret: %q", what, got)
		}
	}
	for _, in := range malformedSecretURLs {
		leaks("Redact("+in+")", sinks.Redact(in))
		leaks("RedactText(parse error of "+in+")", sinks.RedactText(`parse "`+in+`": invalid port ":99x" after host`))
		leaks("RedactText(message with "+in+")", sinks.RedactText("list "+in+": blob (code=Unknown): failed"))
		if _, err := url.Parse(in); err != nil {
			leaks("RedactText(url.Parse error)", sinks.RedactText(err.Error()))
		}
		_, err := sinks.Open(context.Background(), in, sinks.OpenOptions{})
		if err == nil {
			t.Errorf("Open(%q) succeeded, want an error", in)
			continue
		}
		leaks("Open("+in+") error", err.Error())
		if !errors.Is(err, sinks.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", in, err)
		}
	}
	// The part of the text around a URL that does not parse is kept.
	if got, want := sinks.Redact("http://bob:S3CR3T@[::1"), "http://REDACTED@[::1"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if got, want := sinks.RedactText(`parse "http://bob:S3CR3T@ho st": invalid character " " in host name`),
		`parse "http://ho st": invalid character " " in host name`; got != want {
		t.Errorf("RedactText = %q, want %q", got, want)
	}
}

func TestCheckURL(t *testing.T) {
	for _, in := range []string{
		"s3://b", "mem://", "./out", "/var/lib/archive", "file:///data",
		"s3://b?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true",
		"s3://b?endpoint=http%3A%2F%2F127.0.0.1%3A7070&region=x",
		"http://pushgateway:9091", "https://u:p@gw",
	} {
		if err := sinks.CheckURL(in); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", in, err)
		}
	}
	for _, in := range malformedSecretURLs {
		err := sinks.CheckURL(in)
		if !errors.Is(err, sinks.ErrInvalid) {
			t.Errorf("CheckURL(%q) = %v, want ErrInvalid", in, err)
			continue
		}
		if strings.Contains(err.Error(), "CR3T") {
			t.Errorf("CheckURL(%q) = %q keeps the secret", in, err)
		}
	}
	for in, want := range map[string]string{
		"s3://b?endpoint=http://h:99999":   "port 99999",
		"s3://b?endpoint=http://[::1":      "endpoint=",
		"s3://b?endpoint=http://h/%zz":     "query",
		"http://gw:0":                      "port 0",
		"s3://b?region=x;use_path_style=1": "query",
		"s3://b?endpoint=http://bob:x/y@h": "invalid port",
	} {
		if err := sinks.CheckURL(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckURL(%q) = %v, want a message with %q", in, err, want)
		}
	}
}

func TestHasPassword(t *testing.T) {
	for in, want := range map[string]bool{
		"s3://b":             false,
		"./out":              false,
		"postgres://u@h/db":  false,
		"s3://key:pw@bucket": true,
		"s3://b?endpoint=http://127.0.0.1:7070&region=x":               false,
		"s3://b?endpoint=http://bob:S3CR3T@127.0.0.1:7070&region=x":    true,
		"s3://b?endpoint=http%3A%2F%2Fbob%3AS3CR3T%40127.0.0.1%3A7070": true,
		"s3://b?endpoint=http://bob:S3CR3T@[::1&region=x":              true,
		"s3://b?endpoint=http://bob:S3CR3T@host/%zz&region=x":          true,
		"s3://b?endpoint=http://bob@127.0.0.1:7070":                    false,
		"gs://b?access_id=sa@project.iam.gserviceaccount.com":          false,
		"s3://b?endpoint=http://h:9000&note=a@b":                       false,
	} {
		if got := sinks.HasPassword(in); got != want {
			t.Errorf("HasPassword(%q) = %v, want %v", in, got, want)
		}
	}
}
