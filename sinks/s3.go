package sinks

// S3 quirks.
//
// Server-side encryption. OpenOptions.S3Encryption becomes gocloud s3blob's
// own URL parameters, ssetype= and kmskeyid=, so that s3blob sets
// x-amz-server-side-encryption (and x-amz-server-side-encryption-aws-kms-key-id)
// on every write: PutObject, CreateMultipartUpload, and CopyObject (which
// would otherwise encrypt the copy with the bucket's default, not the
// source's settings). Those parameters may also be written in the URL
// itself, but not both ways at once. The types are the three S3 lets a
// client ask for: AES256 (SSE-S3), aws:kms (SSE-KMS) and aws:kms:dsse
// (DSSE-KMS); gocloud would also pass aws:fsx and aws:backup, which S3
// refuses on a bucket, so Open refuses them first. A KMS key ID without a
// KMS type is refused too (S3 would answer 400 on the first write).
// Credentials for KMS are the caller's AWS credentials: the role needs
// kms:GenerateDataKey (writes) and kms:Decrypt (reads, and multipart
// uploads) on the key.
//
// ETags are not MD5s under SSE-KMS, DSSE-KMS or SSE-C. s3blob takes any
// 32-hex-digit ETag for the object's MD5, but AWS documents that objects
// encrypted with SSE-KMS, DSSE-KMS or SSE-C get an ETag that is not the MD5
// of their data, and that holds also when the encryption is the bucket's
// default rather than ours. Comparing it with our MD5 would fail every
// verified upload with ErrIntegrity. storedMD5 drops the MD5 when the HEAD
// response says such encryption is in force; the upload is then verified by
// size, after the SDK's own CRC checksums guarded the transfer. A listing
// cannot tell which ETags are MD5s, so S3 listings carry no MD5 at all.

import (
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// S3 server-side encryption types (S3Encryption.Type).
const (
	SSES3      = "AES256"       // SSE-S3: keys managed by S3
	SSEKMS     = "aws:kms"      // SSE-KMS: a KMS key (S3Encryption.KMSKeyID, else the AWS managed key aws/s3)
	SSEKMSDSSE = "aws:kms:dsse" // DSSE-KMS: two layers, a KMS key as for SSE-KMS
)

// S3EncryptionTypes lists the accepted S3Encryption.Type values.
func S3EncryptionTypes() []string { return []string{SSES3, SSEKMS, SSEKMSDSSE} }

// S3Encryption asks S3 to encrypt every object this bucket writes (uploads
// and copies) with the given server-side encryption. The zero value sends
// no encryption headers: the bucket's default encryption applies.
type S3Encryption struct {
	// Type is SSES3, SSEKMS or SSEKMSDSSE (case-insensitive).
	Type string
	// KMSKeyID is the KMS key (ID, alias or ARN) for SSEKMS or SSEKMSDSSE.
	// Empty means the AWS managed key aws/s3.
	KMSKeyID string
}

// s3 URL parameters of gocloud's s3blob.
const (
	sseTypeParam  = "ssetype"
	kmsKeyIDParam = "kmskeyid"
)

// NormS3EncryptionType returns the canonical spelling of an encryption
// type, and false when t is not one S3 accepts from a client.
func NormS3EncryptionType(t string) (string, bool) {
	for _, v := range S3EncryptionTypes() {
		if strings.EqualFold(v, t) {
			return v, true
		}
	}
	return "", false
}

func isKMS(t string) bool { return t == SSEKMS || t == SSEKMSDSSE }

// applyS3Encryption validates the encryption settings, from opts or from
// the URL's ssetype=/kmskeyid= parameters, and writes them into u's query
// for s3blob.
func applyS3Encryption(u *url.URL, e S3Encryption) error {
	q := u.Query()
	inURL := q.Has(sseTypeParam) || q.Has(kmsKeyIDParam)
	if e == (S3Encryption{}) {
		if !inURL || u.Scheme != "s3" {
			return nil // other schemes' openers refuse unknown parameters themselves
		}
		e = S3Encryption{Type: q.Get(sseTypeParam), KMSKeyID: q.Get(kmsKeyIDParam)}
	} else {
		if u.Scheme != "s3" {
			return errorf(ErrInvalid, "server-side encryption settings apply to s3:// buckets only; "+
				"GCS buckets and Azure storage accounts encrypt with the key set on the bucket, account or container")
		}
		if inURL {
			return errorf(ErrInvalid, "server-side encryption is set both in the URL (%s=, %s=) and in the options; give it once", sseTypeParam, kmsKeyIDParam)
		}
	}
	t, ok := NormS3EncryptionType(e.Type)
	switch {
	case e.Type == "" && e.KMSKeyID != "":
		return errorf(ErrInvalid, "a KMS key ID needs server-side encryption type %s or %s", SSEKMS, SSEKMSDSSE)
	case !ok:
		return errorf(ErrInvalid, "server-side encryption type %q: use %s", e.Type, strings.Join(S3EncryptionTypes(), ", "))
	case e.KMSKeyID != "" && !isKMS(t):
		return errorf(ErrInvalid, "a KMS key ID needs server-side encryption type %s or %s, not %s", SSEKMS, SSEKMSDSSE, t)
	}
	q.Set(sseTypeParam, t)
	q.Del(kmsKeyIDParam)
	if e.KMSKeyID != "" {
		q.Set(kmsKeyIDParam, e.KMSKeyID)
	}
	u.RawQuery = q.Encode()
	return nil
}

// storedMD5 is the MD5 of a stored object's data as the attributes tell
// it, or nil when they cannot: on S3, an object under SSE-KMS, DSSE-KMS or
// SSE-C has an ETag that is not its MD5.
func (b *Bucket) storedMD5(a *blob.Attributes) []byte {
	if b.scheme != "s3" || len(a.MD5) == 0 {
		return a.MD5
	}
	var h s3.HeadObjectOutput
	if !a.As(&h) {
		return a.MD5
	}
	if h.SSECustomerAlgorithm != nil || h.ServerSideEncryption == s3types.ServerSideEncryptionAwsKms ||
		h.ServerSideEncryption == s3types.ServerSideEncryptionAwsKmsDsse {
		return nil
	}
	return a.MD5
}
