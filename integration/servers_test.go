package integration

// The servers the tests talk to, found through the environment that each
// script's `env` command prints, and the buckets created on them with each
// service's own API (gocloud cannot create buckets).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/option"
)

// requireEnv returns the value of each variable, failing the test (never
// skipping it) with the commands that set them when one is missing.
func requireEnv(t *testing.T, script string, names ...string) []string {
	t.Helper()
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = os.Getenv(n)
		if vals[i] == "" {
			t.Fatalf(`%s is not set: run bash integration/scripts/%s.sh start and eval "$(bash integration/scripts/%s.sh env)"`,
				n, script, script)
		}
	}
	return vals
}

// setupCtx bounds one setup call to a server.
func setupCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var notNameChar = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName is a bucket or container name valid on S3, GCS and Azure
// (3-63 characters of a-z, 0-9 and single hyphens), made from the test's
// name and random bytes so that no two tests or runs share one.
func uniqueName(t *testing.T) string {
	t.Helper()
	var r [5]byte
	_, _ = rand.Read(r[:])
	slug := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	slug = strings.TrimPrefix(slug, "test")
	slug = strings.Trim(slug, "-")
	if len(slug) > 40 {
		slug = strings.TrimRight(slug[:40], "-")
	}
	return "ae-" + slug + "-" + hex.EncodeToString(r[:])
}

// --- S3: versitygw ---

const s3Region = "us-east-1"

type s3Env struct{ endpoint, accessKey, secretKey string }

func s3Server(t *testing.T) s3Env {
	t.Helper()
	v := requireEnv(t, "versitygw", "AUDITEXPORT_TEST_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
	return s3Env{endpoint: v[0], accessKey: v[1], secretKey: v[2]}
}

// url is the gocloud URL of bucket on the server.
func (e s3Env) url(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + e.endpoint + "&region=" + s3Region + "&use_path_style=true"
}

// newS3Bucket creates a fresh bucket with a SigV4-signed CreateBucket
// (the AWS SDK v2, as gocloud's s3blob uses) and returns its name and URL.
func newS3Bucket(t *testing.T) (name, url string) {
	t.Helper()
	e := s3Server(t)
	client := s3.New(s3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(e.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.accessKey, e.secretKey, ""),
	})
	name = uniqueName(t)
	if _, err := client.CreateBucket(setupCtx(t), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create S3 bucket %s on %s: %v", name, e.endpoint, err)
	}
	return name, e.url(name)
}

// --- GCS: fake-gcs-server ---

// gcsServer points the Google storage library of this process (and of the
// CLI processes it starts) at the emulator, for this test only.
func gcsServer(t *testing.T) string {
	t.Helper()
	host := requireEnv(t, "fakegcs", "AUDITEXPORT_TEST_GCS_HOST")[0]
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	return host
}

// newGCSBucket creates a fresh bucket with the cloud.google.com/go/storage
// client and returns its name and URL.
func newGCSBucket(t *testing.T) (name, url string) {
	t.Helper()
	host := gcsServer(t)
	ctx := setupCtx(t)
	client, err := storage.NewClient(ctx, option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("GCS client for %s: %v", host, err)
	}
	defer client.Close()
	name = uniqueName(t)
	if err := client.Bucket(name).Create(ctx, "auditexport-test", nil); err != nil {
		t.Fatalf("create GCS bucket %s on %s: %v", name, host, err)
	}
	return name, "gs://" + name
}

// --- Azure Blob: Azurite ---

type azureEnv struct{ domain, account, key string }

func azureServer(t *testing.T) azureEnv {
	t.Helper()
	v := requireEnv(t, "azurite", "AUDITEXPORT_TEST_AZURE_DOMAIN", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY")
	return azureEnv{domain: v[0], account: v[1], key: v[2]}
}

func (e azureEnv) url(container string) string {
	return "azblob://" + container + "?protocol=http&domain=" + e.domain
}

// newAzureContainer creates a fresh container with the azblob SDK and the
// shared key, and returns its name and URL.
func newAzureContainer(t *testing.T) (name, url string) {
	t.Helper()
	e := azureServer(t)
	cred, err := azblob.NewSharedKeyCredential(e.account, e.key)
	if err != nil {
		t.Fatalf("Azure shared key for %s: %v", e.account, err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential("http://"+e.domain+"/"+e.account+"/", cred, nil)
	if err != nil {
		t.Fatalf("Azure client for %s: %v", e.domain, err)
	}
	name = uniqueName(t)
	if _, err := client.CreateContainer(setupCtx(t), name, nil); err != nil {
		t.Fatalf("create Azure container %s on %s: %v", name, e.domain, err)
	}
	return name, e.url(name)
}
