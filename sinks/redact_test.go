package sinks_test

import (
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
