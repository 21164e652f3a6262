package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
)

func versionCommand() *command {
	return &command{
		name:     "version",
		summary:  "print the version, commit and Go version",
		usage:    "version",
		about:    "Prints the version and commit stamped at build time (-ldflags -X main.Version=... -X main.Commit=...).",
		examples: []string{"auditexport version"},
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio) error {
			return func(ctx context.Context, io *stdio) error {
				fmt.Fprintf(io.out, "auditexport %s (commit %s, %s, %s/%s)\n", Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	}
}
