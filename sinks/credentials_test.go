package sinks_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/auditexport/auditexport/sinks"
)

// noAWSCredentials leaves the AWS SDK's default chain nothing to find.
func noAWSCredentials(t *testing.T) {
	t.Helper()
	none := t.TempDir() + "/none"
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

// captureStderr runs f and returns what it wrote to the process's stderr
// (where the AWS SDK's default logger writes).
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stderr = old
	w.Close()
	return <-done
}

// Without AWS credentials, Open says so and where the SDK looks, as
// ErrCredentials and not as a missing permission; the SDK's own warnings
// (an instance metadata endpoint refusing a token: "falling back to
// IMDSv1") never reach stderr.
func TestS3NoCredentials(t *testing.T) {
	noAWSCredentials(t)
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden) // as a proxy in front of no IMDS does
	}))
	defer imds.Close()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	var err error
	stderr := captureStderr(t, func() {
		_, err = sinks.Open(context.Background(), "s3://no-such-bucket?region=us-east-1", sinks.OpenOptions{})
	})
	if !errors.Is(err, sinks.ErrCredentials) || errors.Is(err, sinks.ErrPermission) || !sinks.IsPermanent(err) {
		t.Fatalf("Open = %v, want a permanent ErrCredentials that is not ErrPermission", err)
	}
	for _, want := range []string{"no AWS credentials found", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "EC2 instance role"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open = %q, want it to name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "ListBucket") {
		t.Errorf("Open = %q, reads as a permission problem", err)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing (the SDK's logger is silenced)", stderr)
	}
	if n := sinks.Needs(err); !strings.HasPrefix(n, "credentials: ") {
		t.Errorf("Needs = %q, want credentials: ...", n)
	}
}

// anonymous=true opens a public bucket without looking for credentials.
func TestS3AnonymousNeedsNoCredentials(t *testing.T) {
	noAWSCredentials(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b, err := sinks.Open(context.Background(), "s3://public?region=us-east-1&anonymous=true", sinks.OpenOptions{})
	if err != nil {
		t.Fatalf("Open anonymous: %v", err)
	}
	b.Close()
}

// An azblob URL with no storage account names both places it comes from.
func TestAzureNoAccount(t *testing.T) {
	for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGEBLOB_CONNECTIONSTRING", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
	_, err := sinks.Open(context.Background(), "azblob://c", sinks.OpenOptions{})
	if !errors.Is(err, sinks.ErrCredentials) {
		t.Fatalf("Open = %v, want ErrCredentials", err)
	}
	for _, want := range []string{"AZURE_STORAGE_ACCOUNT", "storage_account="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open = %q, want it to name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "AccountName") {
		t.Errorf("Open = %q names the SDK's option", err)
	}
}

func TestCheckBucketURL(t *testing.T) {
	for _, tc := range []struct {
		url, want string
		param     string // the *ParamError's parameter, if one
	}{
		{url: "ftp://x/y", want: `unsupported scheme "ftp"`},
		{url: "s3://b?regoin=x", want: "s3:// URLs take no regoin= parameter; did you mean region=?", param: "regoin"},
		{url: "s3://b?use_path_styel=true", want: "did you mean use_path_style=?", param: "use_path_styel"},
		{url: "gs://b?region=x", want: "gs:// URLs take no region= parameter (they take anonymous=, ", param: "region"},
		{url: "azblob://c?account=x", want: "azblob:// URLs take no account=", param: "account"},
		{url: "s3://b?accelerate=maybe", want: "accelerate=maybe is not a boolean"},
		{url: "s3://b?request_checksum_calculation=never", want: "use when_supported or when_required"},
		{url: "s3://b?role=admin", want: "not a role ARN"},
		{url: "s3://b?region=us-east-1&endpoint=http://127.0.0.1:7070&use_path_style=true&prefix=a"},
		{url: "gs://b?anonymous=true"},
		{url: "azblob://c?storage_account=a&protocol=http&domain=127.0.0.1:10000"},
		{url: "file:///tmp/x?create_dir=1"},
		{url: "mem://"},
		{url: "./relative/dir"},
	} {
		err := sinks.CheckBucketURL(tc.url)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckBucketURL(%q) = %v, want nil", tc.url, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, sinks.ErrInvalid) {
			t.Errorf("CheckBucketURL(%q) = %v, want ErrInvalid with %q", tc.url, err, tc.want)
		}
		var pe *sinks.ParamError
		if got := errors.As(err, &pe); got != (tc.param != "") || got && pe.Param != tc.param {
			t.Errorf("CheckBucketURL(%q) = %#v, want a *ParamError for %q", tc.url, err, tc.param)
		}
	}
}
