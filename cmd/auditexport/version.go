package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version, VCS revision and Go version",
		usage:   "version",
		about: `Prints the version and VCS revision of this binary: those stamped at build
time (-ldflags -X main.Version=... -X main.Commit=..., as the Dockerfile
does), or else those the Go toolchain records: the module version of
go install ...@v1.2.3 (a pseudo-version names its commit), the revision of
a go build in a git checkout ("modified" when the tree had uncommitted
changes). "devel" and "unknown" when neither is there (go run).`,
		examples: []string{"auditexport version"},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			return func(ctx context.Context, io *stdio) error {
				b := buildVersion()
				rev := b.revision
				if b.modified {
					rev += ", modified"
				}
				fmt.Fprintf(io.out, "auditexport %s (revision %s, %s, %s/%s)\n", b.version, rev, b.goVersion, runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	}
}

// build is what a binary knows of its own version.
type build struct {
	version   string // v1.2.3, a pseudo-version, or "devel"
	revision  string // the VCS commit, or "unknown"
	modified  bool   // built from a tree with uncommitted changes
	goVersion string
}

// Version and Commit, when stamped at build time (-ldflags "-X
// main.Version=v1.2.3 -X main.Commit=<sha>", as the Dockerfile does), win
// over what the Go toolchain records; empty means not stamped.
var (
	Version string
	Commit  string
)

// buildVersion is this binary's version: the stamped one, else the build
// info's. The archive records its version (ToolVersion).
func buildVersion() build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolveBuild(Version, Commit, bi)
}

// pseudoVersionRev matches the commit at the end of a Go pseudo-version
// (v0.0.0-20261205150405-0123456789ab, v1.2.4-0.20261205150405-0123456789ab).
var pseudoVersionRev = regexp.MustCompile(`[.-][0-9]{14}-([0-9a-f]{12})(\+[a-z.]+)?$`)

func resolveBuild(version, commit string, bi *debug.BuildInfo) build {
	b := build{version: version, revision: commit, goVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			b.goVersion = bi.GoVersion
		}
		if v := bi.Main.Version; b.version == "" && v != "" && v != "(devel)" {
			b.version = v
		}
		vcsRevision := ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRevision = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true" && commit == ""
			}
		}
		if b.revision == "" {
			b.revision = vcsRevision
		}
		if m := pseudoVersionRev.FindStringSubmatch(b.version); b.revision == "" && m != nil {
			b.revision = m[1]
		}
	}
	if b.version == "" {
		b.version = "devel"
	}
	if b.revision == "" {
		b.revision = "unknown"
	}
	// go build in a dirty checkout already says so in its version.
	if strings.HasSuffix(b.version, "+dirty") {
		b.modified = false
	}
	return b
}
