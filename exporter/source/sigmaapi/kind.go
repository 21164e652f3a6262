package sigmaapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/auditexport/auditexport/exporter/source"
)

// The API client's credentials come from these environment variables only:
// never from the configuration, never in a log or an error.
const (
	EnvClientID     = "SIGMA_CLIENT_ID"
	EnvClientSecret = "SIGMA_CLIENT_SECRET"
)

// Defaults and bounds.
const (
	DefaultControlID         = "API-Date-Filter"
	MaxRowLimit              = 1_000_000 // Sigma's cap on one CSV or JSON export
	MaxRequestsPerMinute     = 400       // Sigma's limit on the export and download endpoints
	DefaultRequestsPerMinute = 350
)

// Config is the kind's settings, under source.sigma_api.
type Config struct {
	BaseURL           string        `yaml:"base_url" help:"Sigma's API URL for the org's cloud and region, e.g. https://aws-api.sigmacomputing.com (see docs/sigma-api.md)"`
	WorkbookID        string        `yaml:"workbook_id" help:"the workbook holding the audit log table element"`
	ElementID         string        `yaml:"element_id" help:"the table element with every audit column, sorted by event time"`
	ControlID         string        `yaml:"control_id" help:"the ID of the workbook's date-range page control on the event time"`
	ControlTimeZone   string        `yaml:"control_timezone" help:"time zone in which the control compares calendar dates (the org's)"`
	Format            string        `yaml:"format" help:"export format: csv or jsonl"`
	WindowDays        int           `yaml:"window_days" help:"calendar days per export"`
	RowLimit          int           `yaml:"row_limit" help:"rows per export, at most 1000000; a window that fills it is read again in chunks"`
	PollInterval      time.Duration `yaml:"poll_interval" help:"first wait between polls of an export being prepared (doubles up to 30s)"`
	PollTimeout       time.Duration `yaml:"poll_timeout" help:"how long an export may take to be prepared before the run fails"`
	RetryFor          time.Duration `yaml:"retry_for" help:"how long one request is retried on 429 and 5xx answers"`
	RequestsPerMinute int           `yaml:"requests_per_minute" help:"requests per minute this process makes, at most 400 (Sigma's limit); split it between concurrent processes"`
}

// Kind is the sigma-api kind.
var Kind source.Kind = kind{}

type kind struct{}

func (kind) Name() string    { return "sigma-api" }
func (kind) Section() string { return "sigma_api" }
func (kind) About() source.About {
	return source.About{
		Summary: "a workbook element exported through Sigma's REST API, one window of days at a time",
		Probe:   "get a token, export one row of today's window, download it and resolve its header (the time column must be among its columns).",
	}
}

func (kind) NewConfig() any {
	return &Config{
		ControlID: DefaultControlID, ControlTimeZone: "UTC", Format: "csv", WindowDays: 1,
		RowLimit: MaxRowLimit, PollInterval: time.Second, PollTimeout: 30 * time.Minute,
		RetryFor: 5 * time.Minute, RequestsPerMinute: DefaultRequestsPerMinute,
	}
}

// Validate checks every setting without reaching Sigma.
func (kind) Validate(cfg any, d source.Deps) []error {
	c := cfg.(*Config)
	var errs []error
	bad := func(field, value, problem string) {
		errs = append(errs, &source.FieldError{Field: field, Value: value, Problem: problem})
	}
	if c.BaseURL == "" {
		errs = append(errs, &source.FieldError{Field: "base_url", Required: true, Problem: "e.g. https://aws-api.sigmacomputing.com"})
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("base_url", c.BaseURL, "want the https:// URL of Sigma's API for the org's region, e.g. https://aws-api.sigmacomputing.com")
	} else if u.User != nil {
		errs = append(errs, &source.FieldError{Field: "base_url", Secret: true, Problem: "holds user info; the API client's ID and secret come from " + EnvClientID + " and " + EnvClientSecret})
	}
	for _, f := range []struct{ key, v string }{{"workbook_id", c.WorkbookID}, {"element_id", c.ElementID}, {"control_id", c.ControlID}} {
		if strings.TrimSpace(f.v) == "" {
			errs = append(errs, &source.FieldError{Field: f.key, Required: true})
		}
	}
	if _, err := time.LoadLocation(c.ControlTimeZone); err != nil || c.ControlTimeZone == "" {
		bad("control_timezone", c.ControlTimeZone, "want an IANA time zone, e.g. UTC or America/New_York")
	}
	if c.Format != "csv" && c.Format != "jsonl" {
		bad("format", c.Format, "must be csv or jsonl")
	}
	if c.WindowDays < 1 || c.WindowDays > RetentionDays {
		bad("window_days", fmt.Sprint(c.WindowDays), fmt.Sprintf("must be 1..%d", RetentionDays))
	}
	if c.RowLimit < 2 || c.RowLimit > MaxRowLimit {
		bad("row_limit", fmt.Sprint(c.RowLimit), fmt.Sprintf("must be 2..%d (Sigma's cap)", MaxRowLimit))
	}
	if c.PollInterval <= 0 || c.PollInterval > time.Minute {
		bad("poll_interval", c.PollInterval.String(), "must be within (0, 1m]")
	}
	if c.PollTimeout < c.PollInterval || c.PollTimeout > 24*time.Hour {
		bad("poll_timeout", c.PollTimeout.String(), "must be at least poll_interval and at most 24h")
	}
	if c.RetryFor < 0 || c.RetryFor > time.Hour {
		bad("retry_for", c.RetryFor.String(), "must be within 0..1h")
	}
	if c.RequestsPerMinute < 10 || c.RequestsPerMinute > MaxRequestsPerMinute {
		bad("requests_per_minute", fmt.Sprint(c.RequestsPerMinute), fmt.Sprintf("must be 10..%d (Sigma's limit)", MaxRequestsPerMinute))
	}
	return errs
}

// streamName names a download of this format for the decoder, which
// picks CSV or JSON Lines by its suffix.
func (c Config) streamName(name string) string {
	if c.Format == "jsonl" {
		return name + ".jsonl"
	}
	return name + ".csv"
}

// credentials reads the API client's ID and secret from the environment.
func credentials() (id, secret string, err error) {
	id, secret = os.Getenv(EnvClientID), os.Getenv(EnvClientSecret)
	var missing []string
	if id == "" {
		missing = append(missing, EnvClientID)
	}
	if secret == "" {
		missing = append(missing, EnvClientSecret)
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%s not set: the sigma-api source reads the API client's ID and secret (Sigma: Administration > Developer Access) from the environment only", strings.Join(missing, " and ")+map[bool]string{true: " is", false: " are"}[len(missing) == 1])
	}
	return id, secret, nil
}

// New makes a source from validated settings and the API client's
// credentials; hc may be nil.
func New(c Config, clientID, secret string, d source.Deps, hc *http.Client) (*Source, error) {
	zone, err := time.LoadLocation(c.ControlTimeZone)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.SettingName("control_timezone"), err)
	}
	now := time.Now
	if !d.Now.IsZero() {
		fixed := d.Now
		start := time.Now()
		now = func() time.Time { return fixed.Add(time.Since(start)) }
	}
	bg, stop := context.WithCancel(context.Background())
	return &Source{
		cfg: c, zone: zone, now: now, setting: d.SettingName, bg: bg, stop: stop,
		c: newClient(clientConfig{
			baseURL: c.BaseURL, clientID: clientID, secret: secret,
			requestsPerMinute: c.RequestsPerMinute, retryFor: c.RetryFor, httpClient: hc,
		}),
	}, nil
}

// Open reads the credentials and gets a token, so that wrong credentials or
// a wrong base URL fail before the run reads anything.
func (kind) Open(ctx context.Context, cfg any, d source.Deps) (source.Source, error) {
	c := cfg.(*Config)
	id, secret, err := credentials()
	if err != nil {
		return nil, err
	}
	s, err := New(*c, id, secret, d, nil)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.c.bearer(ctx); err != nil {
		return nil, s.tokenError(err)
	}
	return s, nil
}

// tokenError names what to check when no token could be had.
func (s *Source) tokenError(err error) error {
	if errors.Is(err, ErrCredentials) {
		return fmt.Errorf("get a token: %w; check %s and %s", err, EnvClientID, EnvClientSecret)
	}
	return fmt.Errorf("get a token from %s: %w; check %s (the API URL of the org's cloud and region)", s.c.creds.TokenURL, err, s.setting("base_url"))
}

// Probe steps.
const (
	stepToken    = "token"
	stepExport   = "export"
	stepDownload = "download"
	stepHeader   = "header"
)

// Probe gets a token, exports one row of today's window, downloads it and
// has its header checked by d.CheckHeader.
func (kind) Probe(ctx context.Context, cfg any, d source.Deps) source.ProbeReport {
	c := *cfg.(*Config)
	r := source.ProbeReport{What: "sigma api " + c.BaseURL + " workbook " + c.WorkbookID + " element " + c.ElementID}
	id, secret, err := credentials()
	if err != nil {
		r.Fail(stepToken, err, "")
		r.Skip("no credentials", stepExport, stepDownload, stepHeader)
		return r
	}
	s, err := New(c, id, secret, d, nil)
	if err != nil {
		r.Fail(stepToken, err, "")
		r.Skip("bad settings", stepExport, stepDownload, stepHeader)
		return r
	}
	defer s.Close()
	if _, _, err := s.c.bearer(ctx); err != nil {
		r.Fail(stepToken, s.tokenError(err), "")
		r.Skip("no token", stepExport, stepDownload, stepHeader)
		return r
	}
	r.OK(stepToken, "got a token from "+s.c.creds.TokenURL)
	today := day(s.now().In(s.zone))
	win := window{first: today, last: today}
	qid, err := s.c.export(ctx, c.WorkbookID, exportRequest{
		ElementID: c.ElementID, Format: exportFormat{Type: c.Format},
		Parameters: map[string]string{c.ControlID: win.param()}, RowLimit: 1, RunAsynchronously: true,
	})
	if err != nil {
		r.Fail(stepExport, s.explain(win, err), "")
		r.Skip("the export was refused", stepDownload, stepHeader)
		return r
	}
	r.OK(stepExport, fmt.Sprintf("workbook %s element %s exported one row of %s (queryId %s)", c.WorkbookID, c.ElementID, win.param(), qid))
	body, err := s.c.download(ctx, qid, c.PollInterval, c.PollTimeout)
	if err != nil {
		r.Fail(stepDownload, s.explain(win, err), "")
		r.Skip("nothing downloaded", stepHeader)
		return r
	}
	rd, _, err := source.OpenStream(body, c.streamName("probe"))
	if err != nil {
		body.Close()
		r.Fail(stepDownload, err, "")
		r.Skip("the download cannot be decoded", stepHeader)
		return r
	}
	defer rd.Close()
	names, err := source.HeaderNames(ctx, rd)
	if err != nil {
		r.Fail(stepDownload, fmt.Errorf("no row today to read the columns from: %w", err), "an event today in the element, or format csv, whose header comes without rows")
		r.Skip("no header", stepHeader)
		return r
	}
	r.OK(stepDownload, fmt.Sprintf("downloaded the export: %d columns", len(names)))
	if d.CheckHeader != nil {
		r.Add(d.CheckHeader(names))
	}
	return r
}
