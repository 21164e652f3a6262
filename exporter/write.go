package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/auditexport/auditexport/sinks"
)

// stagingPrefix holds files written before they are published.
const stagingPrefix = "_auditexport/staging/"

// noCategory counts events whose category cell is empty.
const noCategory = "(none)"

// writePartitions reads each partition's spill back, drops duplicate event
// keys, and encodes the rest as Parquet files that are uploaded to staging.
// In a dry run it only counts.
func (r *run) writePartitions(ctx context.Context) error {
	sc := r.outputSchema()
	props, err := r.writerProps()
	if err != nil {
		return err
	}
	meta, err := r.fileMeta()
	if err != nil {
		return err
	}
	catCol, hasCat := r.cols.index[r.o.CategoryColumn]
	var dec []decodedField
	for _, part := range r.spills.partitions() {
		if err := ctx.Err(); err != nil {
			return err
		}
		stats := PartitionStats{Partition: part}
		var pw *partWriter
		if !r.o.DryRun {
			dir, err := os.MkdirTemp(r.work, "parquet-")
			if err != nil {
				return fmt.Errorf("work_dir: %w", err)
			}
			pw = r.newPartWriter(dir, sc, props, meta, func(lf localFile) error {
				st, err := r.stage(ctx, part, lf)
				if err != nil {
					return err
				}
				r.staged = append(r.staged, st)
				stats.Files++
				return os.Remove(lf.path)
			})
		}
		err := func() error {
			if pw != nil {
				defer pw.release()
			}
			sr, err := r.spills.reader(part)
			if err != nil {
				return err
			}
			defer sr.close()
			seen := make(map[eventKey]struct{}, r.spills.parts[part].rows)
			for {
				body, err := sr.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("read spill of %s: %w", part, err)
				}
				key, micros, fields, err := decodeRow(body, r.cols.types, dec)
				if err != nil {
					return fmt.Errorf("read spill of %s: %w", part, err)
				}
				dec = fields
				if _, dup := seen[key]; dup {
					stats.Duplicate++
					continue
				}
				seen[key] = struct{}{}
				stats.Rows++
				if hasCat {
					r.countCategory(fields, catCol)
				}
				if pw != nil {
					if err := pw.add(micros, fields); err != nil {
						return err
					}
				}
			}
			if pw != nil {
				return pw.finish()
			}
			return nil
		}()
		if err != nil {
			return err
		}
		r.sum.RowsDuplicate += stats.Duplicate
		r.sum.RowsWritten += stats.Rows
		r.sum.Partitions = append(r.sum.Partitions, stats)
		r.log.Info("partition", "partition", part, "rows", stats.Rows, "duplicate", stats.Duplicate, "files", stats.Files)
	}
	return nil
}

func (r *run) countCategory(fields []decodedField, catCol int) {
	v := ""
	for _, f := range fields {
		if f.col == catCol {
			v = string(f.bytes)
			break
		}
	}
	if v == "" {
		r.sum.Categories[noCategory]++
		return
	}
	r.sum.Categories[v]++
	if _, ok := r.o.Catalog.Category(v); !ok {
		r.sum.UnknownCategories[v]++
	}
}

// staged is a file uploaded to staging, waiting to be published.
type staged struct {
	stagingKey string
	info       FileInfo
}

// stage uploads one finished file under the run's staging prefix, checking
// that the stored object is the one encoded.
func (r *run) stage(ctx context.Context, part string, lf localFile) (staged, error) {
	final := path.Join(part, lf.name)
	key := stagingPrefix + r.o.RunID + "/" + final
	w, err := r.o.Dest.PutFile(ctx, key, lf.path, sinks.PutOptions{IfNotExist: true, ContentType: "application/vnd.apache.parquet"})
	if err != nil {
		return staged{}, err
	}
	if w.SHA256 != lf.sha256 || w.Size != lf.bytes {
		return staged{}, fmt.Errorf("upload %s: stored %d bytes sha256 %s, encoded %d bytes sha256 %s", key, w.Size, w.SHA256, lf.bytes, lf.sha256)
	}
	r.sum.BytesWritten += lf.bytes
	r.log.Debug("staged file", "key", key, "rows", lf.rows, "bytes", lf.bytes)
	return staged{stagingKey: key, info: FileInfo{
		Key: final, Partition: part, Rows: lf.rows, Bytes: lf.bytes, SHA256: lf.sha256,
		MinTime: lf.minTime, MaxTime: lf.maxTime,
	}}, nil
}

// publish copies staged files into the Hive layout and removes the staging
// copies. File names carry the run ID, so publishing never replaces a file
// of another run.
func (r *run) publish(ctx context.Context) error {
	for _, f := range r.staged {
		if err := r.o.Dest.Copy(ctx, f.info.Key, f.stagingKey); err != nil {
			return fmt.Errorf("publish %s: %w", f.info.Key, err)
		}
		r.sum.Files = append(r.sum.Files, f.info)
	}
	r.removeStaged(ctx)
	return nil
}

// removeStaged deletes the run's staging objects, best effort: what is left
// is debris that no reader lists.
func (r *run) removeStaged(ctx context.Context) {
	for _, f := range r.staged {
		if err := r.o.Dest.Delete(ctx, f.stagingKey); err != nil && !errors.Is(err, sinks.ErrNotFound) {
			r.log.Warn("remove staging file", "key", f.stagingKey, "err", err)
		}
	}
	r.staged = nil
}
