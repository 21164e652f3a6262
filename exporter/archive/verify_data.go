package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/auditexport/auditexport/sinks"
)

// readData downloads every committed data file in range that is in place
// (present, with its recorded size), checks its sha256 against the commit,
// and reads its row count from the Parquet footer. Each file goes through
// a temporary file, so memory stays bounded whatever the file size.
func (v *verifier) readData(ctx context.Context) error {
	var todo []fileRef
	for _, key := range sortedKeys(v.files) {
		f := v.files[key]
		if o, ok := v.objs[key]; ok && o.Size == f.Bytes && v.inRange(f.Partition) {
			todo = append(todo, f)
		}
	}
	v.log.Info("reading data", "files", len(todo))
	return forEach(ctx, v.o.Workers, len(todo), func(ctx context.Context, i int) error {
		return v.readFile(ctx, todo[i])
	})
}

func (v *verifier) readFile(ctx context.Context, f fileRef) error {
	tmp, err := os.CreateTemp(v.o.WorkDir, "auditexport-verify-*.parquet")
	if err != nil {
		return fmt.Errorf("verify: a temporary file for %s: %w", f.Key, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	rc, err := v.b.NewReader(ctx, f.Key)
	if errors.Is(err, sinks.ErrNotFound) {
		v.rep.errorf(KindFileMissing, f.Key, "the data file committed by commit %d disappeared while verify ran", f.commit)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Key, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Key, err)
	}
	v.rep.mu.Lock()
	v.rep.DataFilesRead++
	v.rep.BytesRead += n
	v.rep.mu.Unlock()
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
		v.rep.errorf(KindSHA256Mismatch, f.Key, "sha256 of its %d bytes is %s, commit %d recorded %s: the file was changed after its commit", n, short(sum), f.commit, short(f.SHA256))
		return nil
	}
	rows, err := footerRows(tmp)
	if err != nil {
		v.rep.errorf(KindDataDamaged, f.Key, "has the committed sha256 but its Parquet footer cannot be read: %v", err)
		return nil
	}
	if rows != f.Rows {
		v.rep.errorf(KindRowsMismatch, f.Key, "its Parquet footer says %d rows, commit %d recorded %d", rows, f.commit, f.Rows)
	}
	return nil
}

// footerRows reads the row count from a Parquet file's footer. A damaged
// footer can make the decoder panic; that is an error here, not a crash.
func footerRows(f *os.File) (rows int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet footer: %v", p)
		}
	}()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return 0, err
	}
	return pr.NumRows(), nil
}
