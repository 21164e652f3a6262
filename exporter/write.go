package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// noCategory counts events whose category cell is empty.
const noCategory = "(none)"

// partResult is what writing one partition produced.
type partResult struct {
	stats PartitionStats
	keys  []archive.Key // keys of the rows written, for the key file
}

// writePartitions reads each partition's spill back, drops events whose key
// it has seen in this run or finds committed in the archive, and encodes the
// rest as Parquet files staged in the destination with a key file per
// partition. In a dry run it only counts. It can run again after a lost
// commit race: it starts from the spills each time.
func (r *run) writePartitions(ctx context.Context) error {
	r.resetWriteCounts()
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
	for _, part := range r.spills.partitions() {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := r.writePartition(ctx, part, sc, props, meta, catCol, hasCat)
		if err != nil {
			return err
		}
		if len(res.keys) > 0 && !r.o.DryRun {
			if err := r.stageKeys(ctx, part, res.keys); err != nil {
				return err
			}
		}
		r.sum.RowsDuplicate += res.stats.Duplicate
		r.sum.RowsArchived += res.stats.Archived
		r.sum.RowsWritten += res.stats.Rows
		r.sum.Partitions = append(r.sum.Partitions, res.stats)
		r.log.Info("partition", "partition", part, "rows", res.stats.Rows, "duplicate", res.stats.Duplicate,
			"already_archived", res.stats.Archived, "files", res.stats.Files)
	}
	return nil
}

func (r *run) resetWriteCounts() {
	r.sum.RowsDuplicate, r.sum.RowsArchived, r.sum.RowsWritten, r.sum.BytesWritten = 0, 0, 0, 0
	r.sum.Partitions = []PartitionStats{}
	clear(r.sum.Categories)
	clear(r.sum.UnknownCategories)
	r.staged, r.stagedKeys = nil, nil
}

func (r *run) writePartition(ctx context.Context, part string, sc *arrow.Schema, props *parquet.WriterProperties, meta [][2]string, catCol int, hasCat bool) (partResult, error) {
	res := partResult{stats: PartitionStats{Partition: part}}
	// Committed keys first: an event already in the archive is not written
	// again, whichever export or run it came from.
	// seen maps each key to whether it is committed (true) or was first
	// met in this run (false).
	seen := make(map[eventKey]bool, r.spills.parts[part].rows)
	if _, err := archive.LoadKeys(ctx, r.o.Dest, part, func(k archive.Key) { seen[k] = true }); err != nil {
		return res, err
	}
	var pw *partWriter
	if !r.o.DryRun {
		dir, err := os.MkdirTemp(r.work, "parquet-")
		if err != nil {
			return res, fmt.Errorf("work_dir: %w", err)
		}
		defer os.RemoveAll(dir)
		pw = r.newPartWriter(dir, sc, props, meta, func(lf localFile) error {
			st, err := r.stage(ctx, part, lf)
			if err != nil {
				return err
			}
			r.staged = append(r.staged, st)
			res.stats.Files++
			r.phase(PhaseStage)
			return os.Remove(lf.path)
		})
		defer pw.release()
	}
	sr, err := r.spills.reader(part)
	if err != nil {
		return res, err
	}
	defer sr.close()
	var dec []decodedField
	for {
		body, err := sr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("read spill of %s: %w", part, err)
		}
		key, micros, fields, err := decodeRow(body, r.cols.types, dec)
		if err != nil {
			return res, fmt.Errorf("read spill of %s: %w", part, err)
		}
		dec = fields
		if committed, dup := seen[key]; dup {
			if committed {
				res.stats.Archived++
			} else {
				res.stats.Duplicate++
			}
			continue
		}
		seen[key] = false
		res.keys = append(res.keys, key)
		res.stats.Rows++
		if hasCat {
			r.countCategory(fields, catCol)
		}
		if pw != nil {
			if err := pw.add(micros, fields); err != nil {
				return res, err
			}
		}
	}
	if pw != nil {
		if err := pw.finish(); err != nil {
			return res, err
		}
	}
	return res, nil
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

// stagingDir is where this attempt of the run stages its objects.
func (r *run) stagingDir() string {
	return archive.StagingPrefix + r.o.RunID + "/" + strconv.Itoa(r.attempt) + "/"
}

// stage uploads one finished file under the run's staging prefix, checking
// that the stored object is the one encoded.
func (r *run) stage(ctx context.Context, part string, lf localFile) (archive.File, error) {
	final := path.Join(part, lf.name)
	key := r.stagingDir() + final
	w, err := r.o.Dest.PutFile(ctx, key, lf.path, sinks.PutOptions{IfNotExist: true, ContentType: "application/vnd.apache.parquet"})
	if err != nil {
		return archive.File{}, err
	}
	if w.SHA256 != lf.sha256 || w.Size != lf.bytes {
		return archive.File{}, fmt.Errorf("upload %s: stored %d bytes sha256 %s, encoded %d bytes sha256 %s", key, w.Size, w.SHA256, lf.bytes, lf.sha256)
	}
	r.sum.BytesWritten += lf.bytes
	r.log.Debug("staged file", "key", key, "rows", lf.rows, "bytes", lf.bytes)
	return archive.File{
		Key: final, Partition: part, Rows: lf.rows, Bytes: lf.bytes, SHA256: lf.sha256,
		MinTime: lf.minTime, MaxTime: lf.maxTime, Staging: key,
	}, nil
}

// stageKeys uploads the key file of the rows this run writes to a partition.
func (r *run) stageKeys(ctx context.Context, part string, keys []archive.Key) error {
	final := archive.KeysDir(part) + r.o.RunID + ".keys"
	staging := r.stagingDir() + final
	w, err := r.o.Dest.PutBytes(ctx, staging, archive.EncodeKeys(keys), sinks.PutOptions{IfNotExist: true, ContentType: "application/octet-stream"})
	if err != nil {
		return err
	}
	r.stagedKeys = append(r.stagedKeys, archive.KeyFile{
		Key: final, Partition: part, Count: int64(len(keys)), Bytes: w.Size, SHA256: w.SHA256, Staging: staging,
	})
	return nil
}

// removeStaged deletes the objects this attempt staged, best effort: what
// is left is debris that no reader lists and a later run collects.
func (r *run) removeStaged(ctx context.Context) {
	for _, k := range r.stagingKeys() {
		if err := r.o.Dest.Delete(ctx, k); err != nil && !errors.Is(err, sinks.ErrNotFound) {
			r.log.Warn("remove staging file", "key", k, "err", err)
		}
	}
	r.staged, r.stagedKeys = nil, nil
}

func (r *run) stagingKeys() []string {
	var ks []string
	for _, f := range r.staged {
		ks = append(ks, f.Staging)
	}
	for _, k := range r.stagedKeys {
		ks = append(ks, k.Staging)
	}
	return ks
}
