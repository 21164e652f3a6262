package sinks

// ETags in listings. gocloud's ListObject has no ETag, but the three cloud
// listings carry one in the driver's own object type, reachable through As at
// no extra request. file:// and mem:// listings have none (Attributes does);
// Object.ETag is then empty.
//
// Listings and HEAD responses spell ETags differently: GCS's and Azure's
// listings give them bare (0x8DC..., base64), their HEAD responses and S3's
// listing quoted. normETag puts every ETag in the quoted HTTP form, so the
// ETag of a listing and of Attributes compare equal (checked against
// fake-gcs-server and Azurite).

import (
	"strings"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

func listETag(o *blob.ListObject) string {
	var s3o s3types.Object
	if o.As(&s3o) && s3o.ETag != nil {
		return normETag(*s3o.ETag)
	}
	var gcso storage.ObjectAttrs
	if o.As(&gcso) {
		return normETag(gcso.Etag)
	}
	var azo container.BlobItem
	if o.As(&azo) && azo.Properties != nil && azo.Properties.ETag != nil {
		return normETag(string(*azo.Properties.ETag))
	}
	return ""
}

// normETag returns etag in quoted form ("abc", or W/"abc"); "" stays "".
func normETag(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}
