package source

import (
	"context"
	"fmt"
	"time"

	"github.com/auditexport/auditexport/sinks"
)

// Kind is one kind of source: the settings it reads, their checks, how it
// opens and what the check command probes. Each kind is one package under
// exporter/source (exports, postgres) exporting a Kind; the CLI lists the
// kinds it offers in one registry and drives settings, validation, opening
// and check from it, so a new source is one package and one line there.
//
// The cfg every method takes is the pointer NewConfig returned, filled in
// from the configuration; a kind may panic on any other type.
type Kind interface {
	// Name is the value of the source.kind setting that selects the kind,
	// e.g. sigma-export or postgres.
	Name() string
	// About describes the kind for help texts.
	About() About
	// Section is where the kind's settings live under source: "postgres"
	// puts them at source.postgres.<key>; "" at source.<key> (the
	// sigma-export kind, whose source.url and source.prefix came first).
	Section() string
	// NewConfig returns a pointer to the kind's settings struct holding its
	// defaults. Each field is one setting: its yaml tag is the key, its help
	// tag the help text, and secret:"true" marks a value never printed. A
	// field may be a string, bool, int, int64, float64, time.Duration or
	// []string.
	NewConfig() any
	// Validate checks the settings without reaching any server. Each problem
	// is a *FieldError.
	Validate(cfg any, d Deps) []error
	// Open opens the source, checking that it can be reached.
	Open(ctx context.Context, cfg any, d Deps) (Source, error)
	// Probe checks, step by step, everything a run needs of the source; a
	// step that cannot run after a failure is skipped. It never fails
	// otherwise: every problem is in the report.
	Probe(ctx context.Context, cfg any, d Deps) ProbeReport
}

// About describes a kind for help texts.
type About struct {
	// Summary says what the kind reads, after its name: "a table or view".
	Summary string
	// Probe says what Probe checks, as a sentence starting in lower case.
	Probe string
}

// Deps is what a kind gets from its caller: how the caller names settings,
// where they came from, and what the rest of the configuration says.
type Deps struct {
	// Setting returns the name to show for the kind's setting with the
	// given yaml key, e.g. "table" -> "source.postgres.table".
	Setting func(key string) string
	// EnvVar returns the environment variable that sets the key.
	EnvVar func(key string) string
	// FromFile reports whether the key was set in a config file, which is
	// no place for a secret.
	FromFile func(key string) bool
	// Zone is the time zone of source timestamps without a UTC offset.
	Zone *time.Location
	// Now is the end of the window of recent rows a probe counts.
	Now time.Time
	// CheckHeader resolves a source header as a run would, for a probe of
	// a kind whose inputs carry one; its step is named "header".
	CheckHeader func(names []string) ProbeStep
}

// SettingName is d.Setting(key), or key when d names no settings.
func (d Deps) SettingName(key string) string {
	if d.Setting == nil {
		return key
	}
	return d.Setting(key)
}

// EnvVarName is d.EnvVar(key), or "" when d names no variables.
func (d Deps) EnvVarName(key string) string {
	if d.EnvVar == nil {
		return ""
	}
	return d.EnvVar(key)
}

// FieldError is a kind's setting with a bad value, named by its yaml key
// in the kind's section; the caller names the setting. Value is empty when
// the setting is empty or its value must not be shown.
type FieldError struct {
	Field   string
	Value   string
	Problem string
	// Required means the setting is empty and the kind needs it; Problem
	// then holds an example, or nothing.
	Required bool
	// Secret means the setting holds a secret where none may be (a
	// password in a URL or in a config file): reported whichever kind is
	// selected, since the value sits in the configuration either way.
	Secret bool
}

func (e *FieldError) Error() string {
	problem := e.Problem
	if e.Required {
		problem = "is required"
		if e.Problem != "" {
			problem += " (" + e.Problem + ")"
		}
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, problem)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, problem)
}

// ProbeStep is one step of a source's probe, as the sinks' probe reports
// its steps: passed, failed (Err, and Needs when known) or skipped.
type ProbeStep = sinks.ProbeStep

// ProbeReport is what a source's probe found.
type ProbeReport struct {
	What  string // the source, with no secrets
	Steps []ProbeStep
}

// OK records a step that passed.
func (r *ProbeReport) OK(name, detail string) {
	r.Steps = append(r.Steps, ProbeStep{Name: name, Detail: detail})
}

// Fail records a step that failed; needs says what is missing, if known.
func (r *ProbeReport) Fail(name string, err error, needs string) {
	r.Steps = append(r.Steps, ProbeStep{Name: name, Err: err, Needs: needs})
}

// Skip records steps that could not run, and why.
func (r *ProbeReport) Skip(why string, names ...string) {
	for _, n := range names {
		r.Steps = append(r.Steps, ProbeStep{Name: n, Detail: why, Skipped: true})
	}
}

// Add records a step as it is.
func (r *ProbeReport) Add(s ProbeStep) { r.Steps = append(r.Steps, s) }
