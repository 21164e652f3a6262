package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/exporter/archive"
	"github.com/auditexport/auditexport/sinks"
)

// metrics are the Prometheus metrics of the runs of one process, in their
// own registry (no package-level state): scraped from /metrics in schedule
// mode, pushed to a Pushgateway by run and backfill. They are fed from each
// run's exporter.Summary, so they agree with the JSON summary line.
type metrics struct {
	reg *prometheus.Registry

	rowsRead, rowsWritten, rowsDuplicate, rowsArchived, rowsRejected, rowsOutOfWindow, rowsLate prometheus.Counter
	bytesUploaded, filesUploaded                                                                prometheus.Counter
	runDuration                                                                                 prometheus.Histogram
	lastSuccess, lastEvent                                                                      *prometheus.GaugeVec
	headCommit, headInfo                                                                        *prometheus.GaugeVec
	runs, errs                                                                                  *prometheus.CounterVec
	// Schedule mode only.
	overlaps   prometheus.Counter
	inProgress prometheus.Gauge
	nextRun    prometheus.Gauge
}

// Run statuses (label status of auditexport_runs_total).
const (
	statusOK       = "ok"
	statusFailed   = "failed"
	statusCanceled = "canceled" // stopped by SIGTERM/SIGINT before its commit
)

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "auditexport", Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	m := &metrics{
		reg:             reg,
		rowsRead:        counter("rows_read_total", "Rows read from the source (every input row, rejected ones included)."),
		rowsWritten:     counter("rows_written_total", "Rows committed to the archive (successful runs only)."),
		rowsDuplicate:   counter("rows_duplicate_total", "Rows dropped as duplicates of an event seen earlier in the same run."),
		rowsArchived:    counter("rows_already_archived_total", "Rows dropped because the archive already holds their event."),
		rowsRejected:    counter("rows_rejected_total", "Rows sent to the rejects file (could not be decoded or coerced)."),
		rowsOutOfWindow: counter("rows_out_of_window_total", "Rows outside the run's time window (outside a backfill's dates)."),
		rowsLate:        counter("rows_late_total", "New events committed that are older than the run's lookback: the archive had missed them (a missed run, or a source later than run.lookback)."),
		bytesUploaded:   counter("bytes_uploaded_total", "Bytes of Parquet files committed to the archive."),
		filesUploaded:   counter("files_uploaded_total", "Parquet files committed to the archive."),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "auditexport", Name: "run_duration_seconds",
			Help:    "Wall time of each run, whatever its outcome.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 15), // 1s .. ~4.5h
		}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "auditexport", Name: "last_success_timestamp_seconds",
			Help: "Unix time at which the last successful run finished.",
		}, []string{"destination"}),
		lastEvent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "auditexport", Name: "last_committed_event_timestamp_seconds",
			Help: "Event time of the latest event committed to the archive (its watermark): alert on time() minus this.",
		}, []string{"destination"}),
		headCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "auditexport", Name: "head_commit",
			Help: "Number of the archive's head commit after the last run that found or made one.",
		}, []string{"destination"}),
		headInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "auditexport", Name: "head_commit_info",
			Help: "1, labelled with the SHA-256 of the head commit's stored bytes: the anchor for verify --expect-head.",
		}, []string{"destination", "sha256"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "auditexport", Name: "runs_total", Help: "Runs by outcome: ok, failed, canceled.",
		}, []string{"status"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "auditexport", Name: "errors_total",
			Help: "Failed runs by kind of error: permission, not_found, rejects, conflict, config, other.",
		}, []string{"kind"}),
	}
	b := buildVersion()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "auditexport", Name: "build_info",
		Help:        "1, labelled with the version, VCS revision and Go version of the binary (as auditexport version prints them).",
		ConstLabels: prometheus.Labels{"version": b.version, "revision": b.revision, "go_version": b.goVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(m.runDuration, m.lastSuccess, m.lastEvent, m.headCommit, m.headInfo, m.runs, m.errs, buildInfo)
	for _, s := range []string{statusOK, statusFailed, statusCanceled} {
		m.runs.WithLabelValues(s)
	}
	for _, k := range errorKinds {
		m.errs.WithLabelValues(k)
	}
	return m
}

// withSchedule adds the metrics only a scheduler has.
func (m *metrics) withSchedule() *metrics {
	m.overlaps = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "auditexport", Subsystem: "schedule", Name: "skipped_total",
		Help: "Scheduled runs skipped because the previous run was still in progress."})
	m.inProgress = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "auditexport", Subsystem: "schedule", Name: "run_in_progress",
		Help: "1 while a run is in progress."})
	m.nextRun = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "auditexport", Subsystem: "schedule", Name: "next_run_timestamp_seconds",
		Help: "Unix time of the next scheduled run."})
	m.reg.MustRegister(m.overlaps, m.inProgress, m.nextRun)
	return m
}

// runStatus names a run's outcome for auditexport_runs_total.
func runStatus(err error) string {
	switch {
	case err == nil:
		return statusOK
	case errors.Is(err, context.Canceled):
		return statusCanceled
	}
	return statusFailed
}

// observe records one finished run. sum may be nil when the run failed
// before it started (a source or destination that cannot be opened).
func (m *metrics) observe(sum *exporter.Summary, err error, took time.Duration) {
	m.runDuration.Observe(took.Seconds())
	status := runStatus(err)
	m.runs.WithLabelValues(status).Inc()
	if status == statusFailed {
		m.errs.WithLabelValues(errorKind(err)).Inc()
	}
	if sum == nil || sum.DryRun {
		return
	}
	m.rowsRead.Add(float64(sum.RowsRead))
	m.rowsRejected.Add(float64(sum.RowsRejected))
	m.rowsDuplicate.Add(float64(sum.RowsDuplicate))
	m.rowsArchived.Add(float64(sum.RowsArchived))
	m.rowsOutOfWindow.Add(float64(sum.RowsOutOfWindow))
	if sum.HeadSHA256 != "" {
		// A commit in the log is the head whatever happened after it.
		m.setHead(sum.Destination, sum.HeadCommit, sum.HeadSHA256)
	}
	if err != nil {
		return // nothing of a failed run counts as written
	}
	m.rowsWritten.Add(float64(sum.RowsWritten))
	m.rowsLate.Add(float64(sum.RowsLate))
	for _, f := range sum.Files {
		m.bytesUploaded.Add(float64(f.Bytes))
		m.filesUploaded.Inc()
	}
	m.lastSuccess.WithLabelValues(sum.Destination).Set(float64(sum.Finished.UnixNano()) / 1e9)
}

// setHead records the archive's head commit: one info series per
// destination, the previous head's removed.
func (m *metrics) setHead(destination string, n int64, sha string) {
	m.headCommit.WithLabelValues(destination).Set(float64(n))
	m.headInfo.DeletePartialMatch(prometheus.Labels{"destination": destination})
	m.headInfo.WithLabelValues(destination, sha).Set(1)
}

// setWatermark records the archive's latest committed event time.
func (m *metrics) setWatermark(destination string, t time.Time) {
	if !t.IsZero() {
		m.lastEvent.WithLabelValues(destination).Set(float64(t.UnixNano()) / 1e9)
	}
}

// observeWatermark reads the archive's watermark from its commit log (the
// head commit's source progress) and records it.
func (m *metrics) observeWatermark(ctx context.Context, dst *sinks.Bucket, log *slog.Logger) {
	st, err := archive.LoadState(ctx, dst)
	if err != nil {
		log.Warn("cannot read the archive's watermark for auditexport_last_committed_event_timestamp_seconds", "err", err)
		return
	}
	if st.Head != nil {
		m.setWatermark(dst.String(), st.Head.Source.Watermark)
	}
}

// pushTimeout bounds a push to the Pushgateway, which must not hold a run
// that has finished.
const pushTimeout = 15 * time.Second

// push sends the metrics to a Pushgateway with POST, which replaces only
// the metrics it sends within the group job/command[/shard]: a failed run
// sends no last_success_timestamp_seconds, so the previous success stays
// visible for freshness alerts. The URL's user info, if any, is sent as
// basic auth and never logged.
func (m *metrics) push(ctx context.Context, rawURL, job string, grouping map[string]string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("metrics.pushgateway_url %q: not a valid URL", sinks.Redact(rawURL))
	}
	var user, pass string
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	// The text format: readable in a proxy's log, accepted by every
	// Pushgateway version.
	p := push.New(u.String(), job).Gatherer(m.reg).Client(&http.Client{Timeout: pushTimeout}).
		Format(expfmt.NewFormat(expfmt.TypeTextPlain))
	if user != "" {
		p = p.BasicAuth(user, pass)
	}
	for _, k := range []string{"command", "shard"} {
		if v := grouping[k]; v != "" {
			p = p.Grouping(k, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	if err := p.AddContext(ctx); err != nil {
		return fmt.Errorf("push metrics to %s (metrics.pushgateway_url): %s", sinks.Redact(rawURL), sinks.RedactText(err.Error()))
	}
	return nil
}

// validateMetrics checks the metrics section. A Pushgateway password may
// come from the environment or a flag, never from the config file.
func validateMetrics(c *MetricsConfig, origin map[string]string) []error {
	var errs []error
	if c.PushgatewayURL != "" {
		const form = "must be an http:// or https:// URL (e.g. http://pushgateway.monitoring:9091)"
		u, err := url.Parse(c.PushgatewayURL)
		switch malformed := sinks.CheckURL(c.PushgatewayURL); {
		case malformed != nil:
			errs = append(errs, &ConfigError{Setting: "metrics.pushgateway_url", Value: sinks.Redact(c.PushgatewayURL),
				Problem: malformed.Error() + "; " + form})
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, &ConfigError{Setting: "metrics.pushgateway_url", Value: sinks.Redact(c.PushgatewayURL), Problem: form})
		case origin["metrics.pushgateway_url"] == "config" && hasUserinfoPassword(c.PushgatewayURL):
			errs = append(errs, &ConfigError{Setting: "metrics.pushgateway_url",
				Problem: "holds a password in the config file; set AUDITEXPORT_METRICS_PUSHGATEWAY_URL in the environment instead"})
		}
	}
	if c.PushgatewayJob == "" {
		errs = append(errs, &ConfigError{Setting: "metrics.pushgateway_job", Problem: "must not be empty"})
	}
	return errs
}

// pushAfter prepares p to record its run when the config names a
// Pushgateway, and returns what pushes the metrics once the run is over
// (a no-op otherwise, and for dry runs). A failed push is logged, never
// fatal: the run's outcome is what the exit status says.
func pushAfter(lc *loadedConfig, p *exportPlan, dryRun bool) func(ctx context.Context, log *slog.Logger, shard string) {
	if lc.Metrics.PushgatewayURL == "" || dryRun {
		return func(context.Context, *slog.Logger, string) {}
	}
	m := newMetrics()
	p.metrics = m
	return func(ctx context.Context, log *slog.Logger, shard string) {
		err := m.push(ctx, lc.Metrics.PushgatewayURL, lc.Metrics.PushgatewayJob, map[string]string{"command": p.command, "shard": shard})
		if err != nil {
			log.Warn("metrics not pushed", "err", err)
			return
		}
		log.Debug("metrics pushed", "pushgateway", sinks.Redact(lc.Metrics.PushgatewayURL))
	}
}
