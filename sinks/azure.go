package sinks

// Azure quirks.
//
// Writes. gocloud's azureblob streaming writer (NewWriter, then Write, then
// Close) feeds an io.Pipe from a goroutine running UploadStream. When that
// upload fails (an IfNotExist conflict is the everyday case: 409
// BlobAlreadyExists / 412 ConditionNotMet) the goroutine closes the pipe and
// sets it to nil, and Writer.Close then calls Close on the nil pipe: a panic,
// not an error, exactly on the path the commit protocol relies on.
// (*blob.Bucket).Upload hands the reader to the driver's Upload instead,
// which calls UploadStream directly without a pipe, so a failed write comes
// back as an error. Hence, for every scheme: this package writes only through
// (*blob.Bucket).Upload, never NewWriter or WriteAll (nowriter_test.go
// enforces it).
//
// There is one more trap: gocloud's Upload falls back to the streaming path
// whenever WriterOptions.ContentMD5 is set (it checks the MD5 while copying).
// So for azblob we leave ContentMD5 empty and set the same digest through
// BeforeWrite on azblob's UploadStreamOptions: the blob's Content-MD5
// property (x-ms-blob-content-md5), plus a CRC64 per staged block that the
// service verifies. Our own hashing reader (put.go) still fails the upload
// if the bytes read differ from the digest computed beforehand.
//
// Endpoint. gocloud's registered azblob opener is unexported; the mux gets
// the exported URLOpener with the environment's credentials (shared key,
// SAS token, connection string, else DefaultAzureCredential). With a SAS
// token in AZURE_STORAGE_SAS_TOKEN, a URL may not redirect the service
// endpoint (domain, protocol, storage_account, cdn, localemu), so the token
// is never sent to another host.

import (
	"context"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
)

type azureOpener struct{}

func (azureOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	o := &azureblob.URLOpener{
		MakeClient:        azureblob.NewDefaultClient,
		ServiceURLOptions: *azureblob.NewDefaultServiceURLOptions(),
	}
	return o.OpenBucketURL(ctx, u)
}

// checkAzureURL refuses endpoint overrides while a SAS token comes from the
// environment.
//
// It also refuses a URL without a storage account (azureblob would say
// "Options.AccountName is required"), naming the two places it comes from.
func checkAzureURL(u *url.URL) error {
	env := azureblob.NewDefaultServiceURLOptions()
	if env.AccountName == "" && u.Query().Get("storage_account") == "" {
		return errorf(ErrCredentials, "no Azure storage account: set AZURE_STORAGE_ACCOUNT (with AZURE_STORAGE_KEY, "+
			"AZURE_STORAGE_SAS_TOKEN or a managed identity) or AZURE_STORAGE_CONNECTION_STRING, or add storage_account=<account> to the URL")
	}
	if env.SASToken == "" {
		return nil
	}
	for _, p := range []string{"domain", "protocol", "storage_account", "cdn", "localemu"} {
		if u.Query().Has(p) {
			return errorf(ErrInvalid, "azblob URL parameter %s= cannot change the service endpoint while AZURE_STORAGE_SAS_TOKEN is set; use AZURE_STORAGE_DOMAIN/AZURE_STORAGE_PROTOCOL/AZURE_STORAGE_ACCOUNT", p)
		}
	}
	return nil
}

// azureWriteOptions moves the MD5 from ContentMD5 (which would make gocloud
// stream through the panicking writer) into the upload's own options.
func azureWriteOptions(wo *blob.WriterOptions, md5sum []byte) {
	wo.ContentMD5 = nil
	sum := append([]byte(nil), md5sum...)
	wo.BeforeWrite = func(as func(any) bool) error {
		var uo *azblob.UploadStreamOptions
		if !as(&uo) {
			return nil
		}
		if uo.HTTPHeaders == nil {
			uo.HTTPHeaders = &azblobblob.HTTPHeaders{}
		}
		uo.HTTPHeaders.BlobContentMD5 = sum
		uo.TransactionalValidation = azblobblob.TransferValidationTypeComputeCRC64()
		return nil
	}
}
