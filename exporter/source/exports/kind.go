package exports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
	"github.com/auditexport/auditexport/sinks"
)

// Config is the kind's settings.
type Config struct {
	URL    string `yaml:"url" help:"landing bucket URL or local directory of Sigma exports (s3://, gs://, azblob://, file://, mem:// or a path)"`
	Prefix string `yaml:"prefix" help:"key prefix of the exports inside source.url"`
}

// Kind is the sigma-export kind.
var Kind source.Kind = kind{}

type kind struct{}

func (kind) Name() string    { return "sigma-export" }
func (kind) Section() string { return "" }
func (kind) About() source.About {
	return source.About{
		Summary: "Sigma's CSV, CSV.gz or JSON Lines exports under a landing prefix",
		Probe:   "list the landing prefix, count the export objects, open the newest one and resolve its header (the time column must be among its columns).",
	}
}
func (kind) NewConfig() any { return &Config{} }

// Validate requires the URL and refuses one that holds a password or does
// not parse.
func (kind) Validate(cfg any, d source.Deps) []error {
	c := cfg.(*Config)
	switch {
	case c.URL == "":
		return []error{&source.FieldError{Field: "url", Required: true, Problem: "e.g. s3://landing-bucket or ./configs/samples"}}
	case sinks.HasPassword(c.URL):
		return []error{&source.FieldError{Field: "url", Secret: true, Problem: "holds a password (in its user info or in its endpoint= parameter); credentials come from the environment or the cloud SDK's default credential chain, never from a URL"}}
	}
	if err := sinks.CheckBucketURL(c.URL); err != nil {
		return []error{&source.FieldError{Field: "url", Value: sinks.Redact(c.URL), Problem: err.Error() + " (e.g. s3://archive-bucket?endpoint=http://127.0.0.1:7070&region=us-east-1)"}}
	}
	return nil
}

// Open opens the landing prefix and lists it once, so a missing bucket or a
// wrong credential fails before the run reads anything.
func (kind) Open(ctx context.Context, cfg any, d source.Deps) (source.Source, error) {
	c := cfg.(*Config)
	b, err := sinks.Open(ctx, c.URL, sinks.OpenOptions{Prefix: c.Prefix})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.SettingName("url"), err)
	}
	if err := b.Check(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("%s: %w", d.SettingName("url"), err)
	}
	return New(b), nil
}

// Probe steps.
const (
	stepConnect = "connect"
	stepList    = "list"
	stepNewest  = "newest"
	stepHeader  = "header"
)

// Probe lists the landing prefix, counts the export objects, opens the
// newest one and has its header checked by d.CheckHeader.
func (kind) Probe(ctx context.Context, cfg any, d source.Deps) source.ProbeReport {
	c := cfg.(*Config)
	r := source.ProbeReport{What: sinks.Redact(c.URL)}
	url := d.SettingName("url")
	later := []string{stepList, stepNewest, stepHeader}
	unreachable := func(err error) source.ProbeReport {
		needs := ""
		if errors.Is(err, sinks.ErrNotFound) {
			needs = "the landing bucket, container or directory named in " + url + " must exist"
		}
		r.Fail(stepConnect, fmt.Errorf("%s: %w", url, err), needs)
		r.Skip("the source cannot be reached", later...)
		return r
	}
	b, err := sinks.Open(ctx, c.URL, sinks.OpenOptions{Prefix: c.Prefix})
	if err != nil {
		return unreachable(err)
	}
	defer b.Close()
	r.What = b.String()
	if err := b.Check(ctx); err != nil {
		return unreachable(err)
	}
	r.OK(stepConnect, "listed "+b.String())

	ex := New(b)
	ins, err := ex.List(ctx, source.Window{})
	if err != nil {
		r.Fail(stepList, err, "")
		r.Skip("the landing prefix cannot be listed", later[1:]...)
		return r
	}
	if len(ins) == 0 {
		r.Fail(stepList, fmt.Errorf("no Sigma exports (.csv, .csv.gz, .jsonl, .ndjson) under %s; %d other objects", b.String(), len(ex.Skipped)),
			"exports under "+url+" and "+d.SettingName("prefix")+": check both, and that Sigma's scheduled export has run")
		r.Skip("no export to open", later[1:]...)
		return r
	}
	r.OK(stepList, fmt.Sprintf("%d export objects under the prefix (%d other objects ignored)", len(ins), len(ex.Skipped)))

	newest := ins[0]
	for _, in := range ins[1:] {
		if in.ModTime.After(newest.ModTime) || in.ModTime.Equal(newest.ModTime) && in.Key > newest.Key {
			newest = in
		}
	}
	names, err := header(ctx, ex, newest)
	if err != nil {
		r.Fail(stepNewest, err, "")
		r.Skip("the newest export cannot be read", stepHeader)
		return r
	}
	r.OK(stepNewest, fmt.Sprintf("opened %s (%d bytes, modified %s)", newest.Key, newest.Size, newest.ModTime.UTC().Format(time.RFC3339)))
	if d.CheckHeader != nil {
		r.Add(d.CheckHeader(names))
	}
	return r
}

// header opens one export and returns its header.
func header(ctx context.Context, ex *Source, in source.Input) ([]string, error) {
	rd, err := ex.Open(ctx, in, source.Window{})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	names, err := source.HeaderNames(ctx, rd)
	if err != nil {
		return nil, fmt.Errorf("read the first record of %s: %w", in.Key, err)
	}
	return names, nil
}
