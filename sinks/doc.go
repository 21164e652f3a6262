// Package sinks is auditexport's one portable layer over gocloud.dev's
// *blob.Bucket: it opens an archive location by URL, uploads with integrity
// checks (SHA-256 and MD5 computed first, size and MD5 verified after),
// creates objects only if absent (the commit protocol's primitive), retries
// transient failures with capped, jittered backoff, and turns every driver
// error into one of a few classes (ErrNotFound, ErrExists, ErrPermission,
// ErrCredentials, ErrInvalid, ErrIntegrity, ErrClosed) with a message that names the
// operation, the key and the redacted bucket, and never a secret.
//
// It is not a second set of per-cloud drivers: per-cloud behaviour lives in
// small named files (azure.go, gcs.go, local.go, s3.go, s3open.go, etag.go), each
// with its own test. sinks knows nothing of the exporter or the schema.
//
// # URLs
//
// Open takes one of these forms. Schemes are dispatched by a URL mux built
// in this package; any other scheme is refused with a message listing these,
// and so is a query parameter the scheme's driver does not take (a
// *ParamError naming the nearest one it does). CheckBucketURL makes the same
// checks without opening anything, for a configuration's validation.
//
// No credentials, or an azblob:// URL without a storage account, is
// ErrCredentials with where they are looked for; S3 credentials are
// resolved once at Open (s3open.go), so a missing one fails there and not
// as a permission error of the first request.
//
// S3, and S3-compatible stores (versitygw, Ceph, R2 ...):
//
//	s3://my-bucket
//	s3://my-bucket?region=eu-west-1
//	s3://audit?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true
//	s3://audit?endpoint=https://s3.example.internal&region=us-east-1&use_path_style=true&request_checksum_calculation=when_required
//
// Query parameters (gocloud's s3blob parameters, read by s3open.go):
//
//   - region: the bucket's region (else AWS_REGION / the shared config).
//   - endpoint: a custom endpoint URL, for S3-compatible stores and local
//     servers.
//   - use_path_style=true: path-style addressing (http://host/bucket/key);
//     needed by most S3-compatible stores. s3ForcePathStyle is an old alias.
//   - disable_https=true: plain HTTP to the endpoint.
//   - profile: a named profile of the shared AWS config.
//   - hostname_immutable, dualstack, fips, accelerate, anonymous, role
//     (assume this role ARN), rate_limiter_capacity.
//   - request_checksum_calculation / response_checksum_validation
//     (when_supported | when_required): the SDK's CRC checksums; some
//     S3-compatible stores need when_required.
//   - ssetype (AES256 | aws:kms | aws:kms:dsse), kmskeyid: server-side
//     encryption of every upload and copy. OpenOptions.S3Encryption sets
//     the same (auditexport's destination.s3.sse and
//     destination.s3.kms_key_id); giving both is refused, and so are other
//     types and a key ID without a KMS type (see s3.go).
//
// Google Cloud Storage:
//
//	gs://my-bucket
//	STORAGE_EMULATOR_HOST=127.0.0.1:4443 then gs://audit   (fake-gcs-server; no credentials used)
//
// Parameters: anonymous=true, universe_domain, grpc=true, zonal=true.
//
// Azure Blob Storage (the host is the container):
//
//	AZURE_STORAGE_ACCOUNT=myaccount then azblob://my-container
//	azblob://my-container?storage_account=myaccount
//	azblob://audit?protocol=http&domain=127.0.0.1:10000      (Azurite, with AZURE_STORAGE_ACCOUNT=devstoreaccount1 and its well-known key in AZURE_STORAGE_KEY)
//
// Parameters: domain (e.g. blob.core.usgovcloudapi.net, or host:port of an
// emulator), protocol (http|https), storage_account, cdn, localemu. With
// AZURE_STORAGE_SAS_TOKEN set, the endpoint parameters are refused so the
// token is never sent elsewhere.
//
// Local directory:
//
//	file:///var/lib/auditexport/archive
//	file://./out/archive        (relative to the working directory)
//	/var/lib/auditexport/archive
//	out/archive                 (a plain path, absolute or relative)
//
// A plain path is turned into a file:// URL; with OpenOptions.CreateDir a
// missing directory is created. No .attrs sidecar files are written (so
// Attributes has no MD5 there), every write goes to a temp file in
// _auditexport/tmp/ under the prefix and is renamed into place (never a
// half-written file next to its key, never a rename across devices;
// RemoveTempFiles deletes what killed writes left), and IfNotExist is
// atomic across processes (see local.go).
//
// In memory, for tests (every Open is a new, empty bucket):
//
//	mem://
//
// On every scheme, gocloud's prefix= parameter is folded into
// OpenOptions.Prefix (URL part first); key= is refused.
//
// # Credentials
//
// Credentials come only from each SDK's default chain and the environment:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE,
// web identity and instance/pod roles for S3; Application Default
// Credentials (GOOGLE_APPLICATION_CREDENTIALS, workload identity, the
// metadata server) for GCS, refused at Open when absent; AZURE_STORAGE_KEY,
// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING or
// DefaultAzureCredential (AZURE_CLIENT_ID ..., managed identity) for Azure.
// Never from a URL or a config file. Bucket.String, Redact and every error
// drop URL userinfo and mask signature-, token- and key-like values.
//
// # Errors and retries
//
// Every error a Bucket returns reads "<op> <key> in <bucket>: <class>
// (<hint>): <driver message, redacted>", e.g.
//
//	put audit/event_date=2026-11-25/part-0.parquet in s3://bucket: already exists: ...
//	put audit/x.parquet in s3://bucket: permission denied (needs s3:PutObject): ...
//
// and matches its class with errors.Is (List returns its callback's own error
// as is); Needs returns the permission a permission error names. IsPermanent
// tells what retrying cannot fix. Idempotent calls, and puts, are retried under
// OpenOptions.Retry (RetryPolicy: 5 tries, 500ms doubling to 10s, ±50%
// jitter, by default). Open sends no request to the service; Check does one cheap
// listing to fail fast. Probe goes further, for `auditexport check`: with
// one object under _auditexport/check/ it tries every call an export makes
// (create-if-absent, and that a second one is refused; read, list, copy,
// delete), names what each failure lacks, and cleans up.
//
// # Semantics worth knowing
//
//   - List takes a plain string prefix, as gocloud does: "a/b" also lists
//     "a/bc/x"; pass "a/b/" for the "directory". Keys come in byte order.
//   - Keys are "/"-separated, non-empty segments other than "." and "..",
//     without control characters; others are refused with ErrInvalid before
//     any request, since drivers would escape them differently.
//   - PutFile/PutBytes return Written (size, SHA-256, MD5) only after the
//     stored size (and MD5, where the service keeps one) matched. On S3, an
//     object under SSE-KMS, DSSE-KMS or SSE-C (ours or the bucket's
//     default) has an ETag that is not its MD5: it is checked by size only,
//     and S3 listings carry no MD5 (see s3.go).
//   - Create-if-absent and retries: when an IfNotExist put meets ErrExists,
//     the stored object is compared with ours; identical bytes mean the key
//     already holds our object (Written.Existed), else ErrExists. This holds
//     on the first attempt too, because the SDKs retry inside one attempt
//     (gocloud gives the AWS SDK its standard 3-attempt retryer): an upload
//     that lands but whose response is lost meets itself on the SDK's
//     retry. Writers that race for a key (the commit protocol) put
//     something in the object that identifies the writer, so two writers
//     never hold identical bytes.
//   - Every write goes through (*blob.Bucket).Upload (see azure.go for why).
package sinks
