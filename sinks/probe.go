package sinks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ProbePrefix is where Probe puts its objects, under the bucket's prefix.
// Nothing else in an archive lives there.
const ProbePrefix = "_auditexport/check/"

// Probe steps, in the order Probe runs them.
const (
	ProbeConnect     = "connect"      // one listing: bucket exists, credentials accepted
	ProbeCreate      = "create"       // put the probe object only if absent
	ProbeCreateAgain = "create-again" // a second create-if-absent put of the key is refused
	ProbeRead        = "read"         // read it back, same bytes
	ProbeList        = "list"         // it appears in a listing
	ProbeCopy        = "copy"         // copy it (publishing copies staged files)
	ProbeDelete      = "delete"       // delete the copy and the probe; both are gone
)

// ProbeStep is the outcome of one step of Probe: passed (Err nil, Skipped
// false), failed (Err set) or skipped (Skipped set, Detail says why).
type ProbeStep struct {
	Name    string
	Detail  string // what was checked, or why the step was skipped
	Err     error
	Needs   string // on failure, what is missing, when known (see Needs)
	Skipped bool
}

// ProbeReport is what Probe found.
type ProbeReport struct {
	Bucket string // the bucket, redacted, prefix included
	Key    string // the probe object's key, relative to the bucket's prefix
	Steps  []ProbeStep
	// Remaining lists the full keys (bucket prefix included) of probe
	// objects that may be left behind: empty when Probe cleaned up.
	Remaining []string
}

// OK reports whether every step passed.
func (r ProbeReport) OK() bool {
	for _, s := range r.Steps {
		if s.Err != nil || s.Skipped {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Probe checks, with one small object under ProbePrefix, that the bucket
// does everything an export needs of it: listing, create-if-absent puts
// (and refusing a second one: the commit protocol depends on that), reads,
// copies and deletes. It never touches a key outside ProbePrefix, and
// removes its objects; when it cannot, Remaining names them. Each failed
// step says what is missing where the service tells (a permission, a
// role, the credentials).
func (b *Bucket) Probe(ctx context.Context) ProbeReport {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	key := ProbePrefix + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
	p := &prober{b: b, r: ProbeReport{Bucket: b.String(), Key: key}, key: key, copyKey: key + ".copy"}
	p.run(ctx)
	return p.r
}

type prober struct {
	b            *Bucket
	r            ProbeReport
	key, copyKey string
	// maybe holds the keys that may exist: written, or a write failed in a
	// way that may have landed.
	maybe []string
}

func (p *prober) pass(name, detail string) {
	p.r.Steps = append(p.r.Steps, ProbeStep{Name: name, Detail: detail})
}

func (p *prober) fail(name string, err error, needs string) {
	if needs == "" {
		needs = Needs(err)
	}
	p.r.Steps = append(p.r.Steps, ProbeStep{Name: name, Err: err, Needs: needs})
}

func (p *prober) skip(name, why string) {
	p.r.Steps = append(p.r.Steps, ProbeStep{Name: name, Detail: why, Skipped: true})
}

func (p *prober) full(key string) string { return p.b.fullKey(key) }

func (p *prober) run(ctx context.Context) {
	rest := []string{ProbeCreate, ProbeCreateAgain, ProbeRead, ProbeList, ProbeCopy, ProbeDelete}
	if err := p.b.Check(ctx); err != nil {
		// A bucket that lists but refuses the listing (a missing list
		// permission) may still take the other calls; anything else (no
		// such bucket, wrong credentials, no network) fails them all alike.
		needs := ""
		if errors.Is(err, ErrNotFound) {
			needs = "the bucket must exist: auditexport does not create buckets or containers"
		}
		p.fail(ProbeConnect, err, needs)
		if !errors.Is(err, ErrPermission) || errors.Is(err, ErrCredentials) {
			for _, s := range rest {
				p.skip(s, "the bucket cannot be reached with these credentials")
			}
			return
		}
	} else {
		p.pass(ProbeConnect, "listed "+p.b.String())
	}

	data := fmt.Appendf(nil, "auditexport check probe %s\n", p.key)
	created := p.create(ctx, data)
	if created {
		p.createAgain(ctx)
		p.read(ctx, data)
		p.list(ctx, int64(len(data)))
		p.copy(ctx, int64(len(data)))
	} else {
		for _, s := range []string{ProbeCreateAgain, ProbeRead, ProbeList, ProbeCopy} {
			p.skip(s, "no probe object: create failed")
		}
	}
	p.delete(ctx, created)
}

func (p *prober) create(ctx context.Context, data []byte) bool {
	_, err := p.b.PutBytes(ctx, p.key, data, PutOptions{IfNotExist: true, ContentType: "text/plain"})
	if !refused(err) {
		// A put that failed in transit may have landed (and a retry of
		// one that did finds it there); one the service refused did not.
		p.maybe = append(p.maybe, p.key)
	}
	if err != nil {
		p.fail(ProbeCreate, err, "")
		return false
	}
	p.pass(ProbeCreate, fmt.Sprintf("created %s (%d bytes) only if absent", p.full(p.key), len(data)))
	return true
}

func (p *prober) createAgain(ctx context.Context) {
	_, err := p.b.PutBytes(ctx, p.key, []byte("auditexport check: this second put must be refused\n"),
		PutOptions{IfNotExist: true, ContentType: "text/plain"})
	switch {
	case errors.Is(err, ErrExists):
		p.pass(ProbeCreateAgain, "a second create-if-absent put of the same key was refused")
	case err == nil:
		p.fail(ProbeCreateAgain,
			errors.New("a second create-if-absent put of the same key succeeded and replaced the object: the store ignores the write condition, so two runs could both commit"),
			conditionalWriteNeeds(p.b.scheme))
	default:
		p.fail(ProbeCreateAgain, err, "")
	}
}

// conditionalWriteNeeds names the create-if-absent feature per service.
func conditionalWriteNeeds(scheme string) string {
	switch scheme {
	case "s3":
		return "conditional writes (PutObject with If-None-Match: *), which AWS S3 has; some S3-compatible stores ignore the header"
	case "gs":
		return "conditional writes (ifGenerationMatch=0)"
	case "azblob":
		return "conditional writes (If-None-Match: *)"
	}
	return "atomic create-if-absent"
}

func (p *prober) read(ctx context.Context, want []byte) {
	got, err := p.b.ReadAll(ctx, p.key)
	switch {
	case err != nil:
		p.fail(ProbeRead, err, "")
	case !bytes.Equal(got, want):
		p.fail(ProbeRead, fmt.Errorf("read %s: got %d bytes that differ from the %d written", p.full(p.key), len(got), len(want)), "")
	default:
		p.pass(ProbeRead, fmt.Sprintf("read back the same %d bytes", len(got)))
	}
}

func (p *prober) list(ctx context.Context, size int64) {
	found := false
	err := p.b.List(ctx, p.key, func(o Object) error {
		if o.Key == p.key && o.Size == size {
			found = true
		}
		return nil
	})
	switch {
	case err != nil:
		p.fail(ProbeList, err, "")
	case !found:
		p.fail(ProbeList, fmt.Errorf("list %s: the probe object is not in the listing", p.full(p.key)), "")
	default:
		p.pass(ProbeList, "the probe object is in the listing")
	}
}

func (p *prober) copy(ctx context.Context, size int64) {
	err := p.b.Copy(ctx, p.copyKey, p.key)
	if !refused(err) {
		p.maybe = append(p.maybe, p.copyKey)
	}
	if err != nil {
		p.fail(ProbeCopy, err, "")
		return
	}
	a, err := p.b.Attributes(ctx, p.copyKey)
	switch {
	case err != nil:
		p.fail(ProbeCopy, err, "")
	case a.Size != size:
		p.fail(ProbeCopy, fmt.Errorf("copy %s: the copy has %d bytes, want %d", p.full(p.copyKey), a.Size, size), "")
	default:
		p.pass(ProbeCopy, "copied it to "+p.full(p.copyKey))
	}
}

// refused reports whether err says the service refused a write outright
// (permission, credentials, a bad argument), so nothing was written.
func refused(err error) bool {
	return errors.Is(err, ErrPermission) || errors.Is(err, ErrCredentials) || errors.Is(err, ErrInvalid)
}

// delete removes every probe object that may exist and checks they are
// gone. Without a created probe, it only cleans up: a delete that finds
// nothing tells nothing about the permission, so the step is skipped.
func (p *prober) delete(ctx context.Context, created bool) {
	var failed error
	deleted := 0
	for _, k := range p.maybe {
		err := p.b.Delete(ctx, k)
		switch {
		case err == nil:
			deleted++
		case errors.Is(err, ErrNotFound): // never landed (a failed put or copy)
			continue
		default:
			if failed == nil {
				failed = err
			}
			p.r.Remaining = append(p.r.Remaining, p.full(k))
			continue
		}
		if ok, err := p.b.Exists(ctx, k); err != nil || ok {
			if failed == nil {
				failed = err
				if err == nil {
					failed = fmt.Errorf("delete %s: the object is still there after the delete", p.full(k))
				}
			}
			p.r.Remaining = append(p.r.Remaining, p.full(k))
		}
	}
	if b := p.b; b.scheme == "file" && failed == nil {
		// fileblob leaves the directories it made; the check one is ours alone.
		_ = os.Remove(filepath.Dir(b.localPath(p.key)))
	}
	switch {
	case failed != nil:
		p.fail(ProbeDelete, failed, "")
	case !created && deleted == 0:
		p.skip(ProbeDelete, "no probe object to delete")
	default:
		p.pass(ProbeDelete, fmt.Sprintf("deleted %d probe objects; none is left", deleted))
	}
}
