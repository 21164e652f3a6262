package sinks

// GCS quirks:
//
//   - gocloud's registered gs:// opener is unexported, so the explicit mux
//     gets this one. It takes Application Default Credentials
//     (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, workload identity,
//     the metadata server) and fails at Open when there are none, instead of
//     printing a warning and going on anonymously as gocloud's does. With
//     STORAGE_EMULATOR_HOST set (fake-gcs-server) it uses an unauthenticated
//     client; the storage library sends every call to the emulator.
//   - gcsblob reports HTTP 403 as NotFound ("permission denied, or it may not
//     exist"). classify looks at the HTTP status first, so a missing IAM
//     permission surfaces as ErrPermission naming storage.objects.*.

import (
	"context"
	"net/url"
	"os"

	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/gcp"
	"golang.org/x/oauth2/google"
)

type gcsOpener struct{}

func (gcsOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	q := u.Query()
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" || q.Get("anonymous") == "true" {
		o := &gcsblob.URLOpener{Client: gcp.NewAnonymousHTTPClient(gcp.DefaultTransport())}
		return o.OpenBucketURL(ctx, u)
	}
	var creds *google.Credentials
	var err error
	if ud := q.Get("universe_domain"); ud != "" {
		creds, err = gcp.DefaultCredentialsWithParams(ctx, google.CredentialsParams{UniverseDomain: ud})
	} else {
		creds, err = gcp.DefaultCredentials(ctx)
	}
	if err != nil {
		return nil, errorf(ErrCredentials, "no Google credentials found; Application Default Credentials look in: "+
			"GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json (gcloud auth application-default login), "+
			"the GCE/GKE metadata server (workload identity): %v", err)
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return nil, err
	}
	o := &gcsblob.URLOpener{Client: client, TokenSource: gcp.CredentialsTokenSource(creds)}
	return o.OpenBucketURL(ctx, u)
}
