package sinks

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"

	"gocloud.dev/blob"
)

// PutOptions configures a Put.
type PutOptions struct {
	// IfNotExist makes the put create-if-absent: when key already holds an
	// object the put fails with ErrExists and the object is left untouched.
	IfNotExist bool
	// ContentType defaults to application/octet-stream.
	ContentType string
	// Digests, for PutFile, are the file's size and hashes as the file's
	// writer computed them, so PutFile does not read the file once more to
	// hash it. The upload still fails, as with the digests PutFile computes
	// itself, when the bytes it reads do not match them. PutBytes ignores
	// them.
	Digests *Digests
}

// Digests are a file's size, MD5 and SHA-256.
type Digests struct {
	Size        int64
	MD5, SHA256 []byte
}

// Written is what Put verified after the upload.
type Written struct {
	Key    string
	Size   int64
	SHA256 string // hex
	MD5    string // hex
	// Existed is set when an IfNotExist put was retried after a transient
	// failure and found the key holding exactly these bytes: the earlier
	// attempt had landed.
	Existed bool
}

// PutFile uploads the file at path to key. It hashes the file first (SHA-256
// and MD5) unless opts.Digests holds those, uploads with that MD5 so the
// service (GCS; Azure per block; gocloud itself elsewhere) rejects corrupted
// bytes, fails the upload if the file does not match the digests as it is
// read, and then checks the stored size (and the stored MD5 where the
// service keeps one) with Attributes.
//
// Transient failures are retried (see RetryPolicy). With IfNotExist, a put
// that meets ErrExists compares the stored object with ours: the same size
// and MD5 (or SHA-256 of the stored bytes, where there is no MD5) means the
// key already holds exactly these bytes (typically our own earlier attempt,
// retried by us or inside the SDK after a lost response), and the put
// succeeds with Written.Existed; anything else is ErrExists.
func (b *Bucket) PutFile(ctx context.Context, key, path string, opts PutOptions) (Written, error) {
	const op = "put"
	if err := b.check(op, key); err != nil {
		return Written{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Written{}, b.sourceError(key, path, err)
	}
	defer f.Close()
	var sums digests
	if d := opts.Digests; d != nil {
		sums = digests{size: d.Size, md5: d.MD5, sha256: d.SHA256}
	} else if sums, err = hashAll(f); err != nil {
		return Written{}, b.sourceError(key, path, err)
	}
	return b.put(ctx, key, opts, sums, func() (io.Reader, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, b.sourceError(key, path, err)
		}
		return f, nil
	})
}

// PutBytes uploads data to key, like PutFile.
func (b *Bucket) PutBytes(ctx context.Context, key string, data []byte, opts PutOptions) (Written, error) {
	const op = "put"
	if err := b.check(op, key); err != nil {
		return Written{}, err
	}
	sums, _ := hashAll(bytes.NewReader(data))
	return b.put(ctx, key, opts, sums, func() (io.Reader, error) {
		return bytes.NewReader(data), nil
	})
}

type digests struct {
	size   int64
	md5    []byte
	sha256 []byte
}

func hashAll(r io.Reader) (digests, error) {
	m, s := md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(m, s), r)
	return digests{size: n, md5: m.Sum(nil), sha256: s.Sum(nil)}, err
}

func (b *Bucket) sourceError(key, path string, err error) error {
	return &opError{op: "put", key: b.fullKey(key), bucket: b.url, perm: true,
		detail: "read source " + path + ": " + redactText(err.Error())}
}

func (b *Bucket) put(ctx context.Context, key string, opts PutOptions, sums digests, open func() (io.Reader, error)) (Written, error) {
	const op = "put"
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	wo := &blob.WriterOptions{ContentType: ct, ContentMD5: sums.md5, IfNotExist: opts.IfNotExist}
	if b.scheme == "azblob" {
		azureWriteOptions(wo, sums.md5)
	}
	existed := false
	_, err := retry(ctx, b, op, key, opts.IfNotExist, func() (struct{}, error) {
		src, err := open()
		if err != nil {
			return struct{}{}, err
		}
		vr := &verifyingReader{r: src, h: md5.New(), want: sums}
		if b.scheme == "file" {
			err = b.uploadLocal(ctx, key, vr, wo)
		} else {
			err = b.b.Upload(ctx, key, vr, wo)
		}
		if vr.err != nil {
			// The source changed under us: report that, not the driver's view
			// of it, and do not retry with digests that no longer hold.
			e := b.classify(op, key, vr.err, false).(*opError)
			e.perm = true
			return struct{}{}, e
		}
		if err != nil && opts.IfNotExist && errors.Is(b.classify(op, key, err, true), ErrExists) {
			same, cerr := b.sameContent(ctx, key, sums)
			if cerr != nil {
				return struct{}{}, cerr
			}
			if same {
				existed = true
				return struct{}{}, nil
			}
		}
		return struct{}{}, err
	})
	if err != nil {
		return Written{}, err
	}
	w := Written{Key: key, Size: sums.size, SHA256: hex.EncodeToString(sums.sha256),
		MD5: hex.EncodeToString(sums.md5), Existed: existed}
	if existed {
		return w, nil // sameContent has just compared it
	}
	a, err := b.Attributes(ctx, key)
	if err != nil {
		return Written{}, err
	}
	if a.Size != sums.size {
		return Written{}, b.classify(op, key, errorf(ErrIntegrity, "stored size %d, uploaded %d", a.Size, sums.size), false)
	}
	if len(a.MD5) > 0 && !bytes.Equal(a.MD5, sums.md5) {
		return Written{}, b.classify(op, key, errorf(ErrIntegrity, "stored md5 %x, uploaded %x", a.MD5, sums.md5), false)
	}
	return w, nil
}

// sameContent reports whether key holds exactly the bytes described by sums:
// by size and the stored MD5, or, where the service keeps no MD5 (file://,
// S3 multipart or SSE-KMS), by reading the object back and hashing it.
func (b *Bucket) sameContent(ctx context.Context, key string, sums digests) (bool, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return false, err
	}
	if a.Size != sums.size {
		return false, nil
	}
	if m := b.storedMD5(a); len(m) > 0 {
		return bytes.Equal(m, sums.md5), nil
	}
	r, err := b.b.NewReader(ctx, key, nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	got, err := hashAll(r)
	if err != nil {
		return false, err
	}
	return bytes.Equal(got.sha256, sums.sha256), nil
}

// verifyingReader fails the upload (instead of letting gocloud commit what it
// has) when the source does not produce exactly the bytes hashed beforehand.
type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want digests
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.n > v.want.size:
		v.err = errorf(ErrIntegrity, "source changed during upload: more than the %d bytes hashed", v.want.size)
	case errors.Is(err, io.EOF) && (v.n != v.want.size || !bytes.Equal(v.h.Sum(nil), v.want.md5)):
		v.err = errorf(ErrIntegrity, "source changed during upload: %d bytes read, %d hashed", v.n, v.want.size)
	default:
		return n, err
	}
	return n, v.err
}
