package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/auditexport/auditexport/exporter"
)

func scheduleCommand() *command {
	return &command{
		name:    "schedule",
		summary: "run exports on a cron schedule (long-running, with /healthz, /readyz, /metrics)",
		usage:   "schedule [--config FILE] [--schedule.cron SPEC] [--schedule.listen ADDR] [--schedule.run_on_start] [settings]",
		about: `Stays up and runs one incremental export (as the run command does) at each
time of schedule.cron, a cron spec: five fields (minute hour day-of-month
month day-of-week), or a descriptor (@hourly, @daily, @weekly, @monthly,
@every 6h), optionally prefixed by CRON_TZ=<IANA zone> (default: the
process's local zone, UTC in the container). A malformed spec fails at start,
naming the field. Two runs never overlap: a time that comes while a run is
still in progress is skipped and counted (auditexport_schedule_skipped_total).
schedule.jitter delays each run by a random time up to that long. With
schedule.run_on_start it also runs one export as soon as it has started
(without jitter), so a new deployment need not wait for the first time of
the spec; a time that comes while that run is in progress is skipped like
any other.

On schedule.listen it serves /healthz (liveness: the process is up), /readyz
(ready once the config is valid and the destination was reached; not ready
while stopping) and /metrics (Prometheus). Each run prints its one-line JSON
summary on stdout.

SIGTERM or SIGINT stops scheduling. A run in progress that has not staged
all its files yet stops at once and commits nothing; one that has begun its
commit finishes it (and its publish) before the process exits 0. A second
signal exits at once, which is safe too: the next run finishes or discards
what the first left behind.`,
		examples: []string{
			"auditexport schedule --config prod.yaml --schedule.cron @daily --schedule.run_on_start",
			"auditexport schedule --config prod.yaml --schedule.cron 'CRON_TZ=Europe/Paris 30 6 * * *' --schedule.jitter 10m",
			"AUDITEXPORT_SCHEDULE_CRON='@every 6h' AUDITEXPORT_SCHEDULE_LISTEN=:9090 auditexport schedule --config prod.yaml",
		},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			cf := addConfigFlags(fs)
			deprecatedFlag(fs, cf, "cron", "schedule.cron", "spec")
			deprecatedFlag(fs, cf, "listen", "schedule.listen", "address")
			return func(ctx context.Context, io *stdio) error {
				lc, err := cf.loadNoArgs(io)
				if err != nil {
					return err
				}
				if lc.Schedule.Cron == "" {
					return &ConfigError{Setting: "schedule.cron", Problem: "is required by the schedule command (e.g. --cron @daily, or AUDITEXPORT_SCHEDULE_CRON='CRON_TZ=Europe/Paris 30 6 * * *')"}
				}
				return runSchedule(ctx, &scheduleOpts{lc: lc, log: newLogger(lc.Log, io.err), out: io.out})
			}
		},
	}
}

// scheduleOpts is what runSchedule needs; tests fill the hooks.
type scheduleOpts struct {
	lc  *loadedConfig
	log *slog.Logger
	out io.Writer
	// onListen, when set, receives the HTTP address once it listens.
	onListen func(addr string)
	// export, when set, replaces runExport (tests: a slow run).
	export func(ctx context.Context, p exportPlan) (*exporter.Summary, error)
	// phase, when set, is called at each phase of each run (tests).
	phase func(string)
}

// scheduler runs the exports of a schedule, one at a time.
type scheduler struct {
	o       *scheduleOpts
	ctx     context.Context
	m       *metrics
	busy    atomic.Bool
	ready   atomic.Bool
	jitter  time.Duration
	cron    *cron.Cron
	entry   cron.EntryID
	healthy func() bool
}

// runSchedule serves the HTTP endpoints, checks the destination, then runs
// exports at each time of the schedule until ctx is done.
func runSchedule(ctx context.Context, o *scheduleOpts) error {
	c := &o.lc.Config
	spec, err := parseCron(c.Schedule.Cron)
	if err != nil { // validate has already said so; kept for direct callers
		return &ConfigError{Setting: "schedule.cron", Value: c.Schedule.Cron, Problem: err.Error()}
	}
	s := &scheduler{o: o, ctx: ctx, m: newMetrics().withSchedule(), jitter: c.Schedule.Jitter}
	if o.export == nil {
		o.export = func(ctx context.Context, p exportPlan) (*exporter.Summary, error) {
			return runExport(ctx, o.lc, o.log, p, false, o.out)
		}
	}
	if c.Schedule.Listen != "" {
		stopHTTP, err := s.serve(c.Schedule.Listen)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}
	// Ready means: the config is valid (it was loaded) and the destination
	// answers. A destination that does not fails the start, naming it.
	dst, err := openDestination(ctx, c)
	if err != nil {
		return err
	}
	s.m.observeWatermark(ctx, dst, o.log)
	dst.Close()

	s.cron = cron.New(cron.WithParser(cronParser), cron.WithLogger(cronLogger{o.log}))
	s.entry = s.cron.Schedule(spec, cron.FuncJob(s.tick))
	s.cron.Start()
	next := s.cron.Entry(s.entry).Next
	s.m.nextRun.Set(float64(next.Unix()))
	s.ready.Store(true)
	o.log.Info("scheduled", "cron", c.Schedule.Cron, "next_run", next, "jitter", c.Schedule.Jitter, "listen", c.Schedule.Listen, "run_on_start", c.Schedule.RunOnStart)
	// The run at start goes through the same guard as the scheduled ones:
	// a time of the spec that comes while it is in progress is skipped.
	var atStart sync.WaitGroup
	if c.Schedule.RunOnStart {
		atStart.Go(func() {
			o.log.Info("running once at start (schedule.run_on_start)")
			s.run(false)
		})
	}

	<-ctx.Done()
	s.ready.Store(false)
	if s.busy.Load() {
		o.log.Info("stopping: no new runs; the run in progress stops before its commit, or finishes a commit it has begun")
	} else {
		o.log.Info("stopping: no new runs")
	}
	<-s.cron.Stop().Done()
	atStart.Wait()
	o.log.Info("stopped")
	return nil
}

// tick is one time of the schedule. cron calls it on a goroutine of its
// own, so a tick that comes while a run is in progress finds busy set.
func (s *scheduler) tick() { s.run(true) }

// run runs one export unless one is in progress (then it counts a skip),
// after the jitter delay when withJitter.
func (s *scheduler) run(withJitter bool) {
	if s.ctx.Err() != nil {
		return
	}
	if !s.busy.CompareAndSwap(false, true) {
		s.m.overlaps.Inc()
		s.o.log.Warn("skipped a scheduled run: the previous run is still in progress")
		return
	}
	defer s.busy.Store(false)
	s.m.inProgress.Set(1)
	defer s.m.inProgress.Set(0)
	defer func() { s.m.nextRun.Set(float64(s.cron.Entry(s.entry).Next.Unix())) }()
	if withJitter && s.jitter > 0 {
		d := rand.N(s.jitter)
		s.o.log.Info("waiting before the run (schedule.jitter)", "delay", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
	_, _ = s.o.export(s.ctx, exportPlan{command: "run", incremental: true, metrics: s.m, phase: s.o.phase})
}

// serve starts the HTTP server of /healthz, /readyz and /metrics, and
// returns the function that stops it.
func (s *scheduler) serve(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ConfigError{Setting: "schedule.listen", Value: addr, Problem: "cannot listen: " + err.Error()}
	}
	runtime := prometheus.NewRegistry()
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{s.m.reg, runtime}, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if s.o.onListen != nil {
		s.o.onListen(ln.Addr().String())
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// cronLogger sends the cron library's messages to slog (its default logger
// writes to stdout, which carries only run summaries).
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// cronParser reads the standard five-field spec and descriptors (@daily,
// @every 6h), with an optional CRON_TZ= prefix: robfig/cron's ParseStandard.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var cronFields = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// parseCron parses a schedule spec; its error names the offending field.
func parseCron(spec string) (cron.Schedule, error) {
	rest := strings.TrimSpace(spec)
	if rest == "" {
		return nil, errors.New("is empty")
	}
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		prefix, after, ok := strings.Cut(rest, " ")
		name, zone, _ := strings.Cut(prefix, "=")
		if !ok || strings.TrimSpace(after) == "" {
			return nil, fmt.Errorf("has a %s= time zone but no schedule after it (e.g. %s=%s 30 6 * * *)", name, name, zone)
		}
		if _, err := time.LoadLocation(zone); err != nil || zone == "" {
			return nil, fmt.Errorf("%s=%s: not an IANA time zone (e.g. CRON_TZ=Europe/Paris)", name, zone)
		}
		rest = strings.TrimSpace(after)
	}
	sched, err := cronParser.Parse(strings.TrimSpace(spec))
	if err != nil {
		return nil, explainCron(rest, err)
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok && spec.Next(time.Now()).IsZero() {
		return nil, errors.New("never fires (no date matches it in the next five years, e.g. 31 February)")
	}
	return sched, nil
}

// explainCron turns a parse error into one that names the field.
func explainCron(spec string, err error) error {
	if strings.HasPrefix(spec, "@") {
		return fmt.Errorf("descriptor %q: %v (want @yearly, @monthly, @weekly, @daily, @hourly or @every <duration> such as @every 6h)", spec, err)
	}
	fields := strings.Fields(spec)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("has %d fields, want 5: minute hour day-of-month month day-of-week (e.g. 30 6 * * *), or a descriptor such as @daily", len(fields))
	}
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, perr := cronParser.Parse(strings.Join(probe, " ")); perr != nil {
			return fmt.Errorf("%s field %q: %v", cronFields[i], f, perr)
		}
	}
	return err
}

// validateSchedule checks the schedule section; the cron spec is checked
// whenever it is set, so config validate catches it too.
func validateSchedule(c *ScheduleConfig, origin map[string]string) []error {
	var errs []error
	if c.Cron != "" {
		if _, err := parseCron(c.Cron); err != nil {
			errs = append(errs, &ConfigError{Setting: "schedule.cron", Value: c.Cron, Problem: err.Error() + setBy("schedule.cron", origin)})
		}
	}
	if c.Jitter < 0 {
		errs = append(errs, &ConfigError{Setting: "schedule.jitter", Value: c.Jitter.String(), Problem: "must not be negative"})
	}
	if c.Listen != "" {
		host, port, err := net.SplitHostPort(c.Listen)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 0 || n > 65535 || strings.ContainsAny(host, "/ ") {
			errs = append(errs, &ConfigError{Setting: "schedule.listen", Value: c.Listen, Problem: "must be host:port or :port (e.g. :9090)"})
		}
	}
	return errs
}

// setBy says where a setting's value came from, for error messages.
func setBy(key string, origin map[string]string) string {
	switch origin[key] {
	case "flag":
		return " (set by --" + key + ")"
	case "env":
		return " (set by " + envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")) + ")"
	case "config":
		return " (set in the config file)"
	}
	return ""
}

// runGuard decides what a stop request (ctx done: SIGTERM or SIGINT) does
// to the run in progress. Until the run has staged all its files, it is
// cancelled at once: it commits nothing and the next run starts over. From
// then on it is left to finish. Its commit is one create-if-absent write
// that must not be cut off between the upload and its check (the exporter
// would then remove the staged files a landed commit names); its publish
// is idempotent, so cutting it off would be safe (the next run rolls it
// forward), but finishing it leaves readers a complete archive at once.
type runGuard struct {
	mu          sync.Mutex
	cancel      context.CancelFunc
	log         *slog.Logger
	pastStaging bool
	stopped     bool
}

// guardRun returns the run's context, its guard, and the function that
// releases both.
func guardRun(parent context.Context, log *slog.Logger) (context.Context, *runGuard, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	g := &runGuard{cancel: cancel, log: log}
	stop := context.AfterFunc(parent, g.stop)
	return ctx, g, func() { stop(); cancel() }
}

func (g *runGuard) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if g.pastStaging {
		g.log.Info("stop requested: the run has begun its commit and finishes it first")
		return
	}
	g.log.Info("stop requested: the run stops before its commit; nothing of it is committed")
	g.cancel()
}

// phase is chained into exporter.Options.Phase.
func (g *runGuard) phase(p string) {
	if p == exporter.PhaseStaged {
		g.mu.Lock()
		g.pastStaging = true
		g.mu.Unlock()
	}
}

// explain rewords the error of a run cancelled by a stop request.
func (g *runGuard) explain(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil && g.stopped && errors.Is(err, context.Canceled) {
		return fmt.Errorf("stopped by a signal before its commit; nothing of this run was committed and the next run starts over: %w", err)
	}
	return err
}

// chainPhases calls each non-nil hook in turn.
func chainPhases(hooks ...func(string)) func(string) {
	var hs []func(string)
	for _, h := range hooks {
		if h != nil {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return nil
	}
	return func(p string) {
		for _, h := range hs {
			h(p)
		}
	}
}
