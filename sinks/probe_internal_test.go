package sinks

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"gocloud.dev/blob"
)

// s3Faulty is a faulty bucket that classifies and hints like an s3:// one.
func s3Faulty(t *testing.T) (*Bucket, *faulty) {
	t.Helper()
	f := newFaulty()
	b := wrap(blob.NewBucket(f), "s3://audit", "s3", "archive/", tinyRetry)
	t.Cleanup(func() { _ = b.Close() })
	return b, f
}

// denied fails every call of op with a permission error, as a driver does.
func denied(f *faulty, op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = func(o, key string) (error, bool) {
		if o == op {
			return &fs.PathError{Op: op, Path: key, Err: fs.ErrPermission}, false
		}
		return nil, false
	}
}

// steps renders a report as "name:ok|FAILED|skipped" in order.
func steps(r ProbeReport) string {
	var s []string
	for _, st := range r.Steps {
		state := "ok"
		switch {
		case st.Err != nil:
			state = "FAILED"
		case st.Skipped:
			state = "skipped"
		}
		s = append(s, st.Name+":"+state)
	}
	return strings.Join(s, " ")
}

func step(t *testing.T, r ProbeReport, name string) ProbeStep {
	t.Helper()
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in %s", name, steps(r))
	return ProbeStep{}
}

// left lists what the inner bucket still holds.
func left(t *testing.T, f *faulty) []string {
	t.Helper()
	var keys []string
	iter := f.inner.List(nil)
	for {
		o, err := iter.Next(context.Background())
		if err != nil {
			break
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func TestProbeAllPass(t *testing.T) {
	b, f := s3Faulty(t)
	r := b.Probe(context.Background())
	want := "connect:ok create:ok create-again:ok read:ok list:ok copy:ok delete:ok"
	if got := steps(r); got != want || !r.OK() {
		t.Fatalf("steps = %s (OK %v), want %s", got, r.OK(), want)
	}
	if !strings.HasPrefix(r.Key, ProbePrefix) || len(r.Remaining) != 0 {
		t.Errorf("key %q remaining %v; want a key under %s and nothing remaining", r.Key, r.Remaining, ProbePrefix)
	}
	if k := left(t, f); len(k) != 0 {
		t.Errorf("probe left %v behind", k)
	}
	if r.Bucket != "s3://audit/archive/" {
		t.Errorf("Bucket = %q", r.Bucket)
	}
}

// A missing delete permission fails the delete step naming s3:DeleteObject,
// and both probe objects are reported as remaining, with the prefix.
func TestProbeDeleteDenied(t *testing.T) {
	b, f := s3Faulty(t)
	denied(f, "delete")
	r := b.Probe(context.Background())
	want := "connect:ok create:ok create-again:ok read:ok list:ok copy:ok delete:FAILED"
	if got := steps(r); got != want || r.OK() {
		t.Fatalf("steps = %s, want %s", got, want)
	}
	d := step(t, r, ProbeDelete)
	if d.Needs != "s3:DeleteObject and s3:GetObject" {
		t.Errorf("delete needs %q, want s3:DeleteObject and s3:GetObject", d.Needs)
	}
	wantLeft := []string{"archive/" + r.Key, "archive/" + r.Key + ".copy"}
	if strings.Join(r.Remaining, ",") != strings.Join(wantLeft, ",") {
		t.Errorf("remaining %v, want %v", r.Remaining, wantLeft)
	}
}

// A store that ignores the create-if-absent condition fails create-again,
// and the probe still cleans up.
func TestProbeConditionIgnored(t *testing.T) {
	b, f := s3Faulty(t)
	f.ignoreIfNotExist = true
	r := b.Probe(context.Background())
	ca := step(t, r, ProbeCreateAgain)
	if ca.Err == nil || !strings.Contains(ca.Needs, "If-None-Match") {
		t.Fatalf("create-again = %+v, want a failure naming If-None-Match", ca)
	}
	if rd := step(t, r, ProbeRead); rd.Err == nil {
		t.Errorf("read passed though the second put replaced the probe")
	}
	if del := step(t, r, ProbeDelete); del.Err != nil || len(r.Remaining) != 0 || len(left(t, f)) != 0 {
		t.Errorf("delete %+v, remaining %v, left %v; want a clean bucket", del, r.Remaining, left(t, f))
	}
}

// Without the put permission nothing is created: the later steps are
// skipped, and nothing remains.
func TestProbePutDenied(t *testing.T) {
	b, f := s3Faulty(t)
	denied(f, "put")
	r := b.Probe(context.Background())
	want := "connect:ok create:FAILED create-again:skipped read:skipped list:skipped copy:skipped delete:skipped"
	if got := steps(r); got != want {
		t.Fatalf("steps = %s, want %s", got, want)
	}
	if n := step(t, r, ProbeCreate).Needs; n != "s3:PutObject" {
		t.Errorf("create needs %q, want s3:PutObject", n)
	}
	if len(r.Remaining) != 0 {
		t.Errorf("remaining %v", r.Remaining)
	}
}

// A listing refused for want of permission does not stop the other steps.
func TestProbeListDenied(t *testing.T) {
	b, f := s3Faulty(t)
	denied(f, "list")
	r := b.Probe(context.Background())
	want := "connect:FAILED create:ok create-again:ok read:ok list:FAILED copy:ok delete:ok"
	if got := steps(r); got != want {
		t.Fatalf("steps = %s, want %s", got, want)
	}
	if n := step(t, r, ProbeConnect).Needs; n != "s3:ListBucket" {
		t.Errorf("connect needs %q, want s3:ListBucket", n)
	}
}

// A bucket that cannot be reached skips everything else.
func TestProbeUnreachable(t *testing.T) {
	b, f := s3Faulty(t)
	f.failTimes("list", 100, false)
	r := b.Probe(context.Background())
	want := "connect:FAILED create:skipped create-again:skipped read:skipped list:skipped copy:skipped delete:skipped"
	if got := steps(r); got != want {
		t.Fatalf("steps = %s, want %s", got, want)
	}
}

// A put the service refused created nothing: with the delete refused too,
// the probe names no object that "may remain" and does not fail the
// delete step over an object that never existed.
func TestProbePutAndDeleteDenied(t *testing.T) {
	b, f := s3Faulty(t)
	f.mu.Lock()
	f.fail = func(o, key string) (error, bool) {
		if o == "put" || o == "delete" {
			return &fs.PathError{Op: o, Path: key, Err: fs.ErrPermission}, false
		}
		return nil, false
	}
	f.mu.Unlock()
	r := b.Probe(context.Background())
	want := "connect:ok create:FAILED create-again:skipped read:skipped list:skipped copy:skipped delete:skipped"
	if got := steps(r); got != want {
		t.Fatalf("steps = %s, want %s", got, want)
	}
	if len(r.Remaining) != 0 {
		t.Errorf("remaining %v, want none: the refused put created nothing", r.Remaining)
	}
}
