package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/auditexport/auditexport/exporter"
)

// The version comes from what was stamped, else from the build info: a
// module version (a pseudo-version names its commit), a VCS revision;
// "devel" and "unknown" when there is neither.
func TestResolveBuild(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, c := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            build
	}{
		{"stamped", "v1.2.3", "0123abcd", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs("ffff", "true")},
			build{version: "v1.2.3", revision: "0123abcd", goVersion: "go1.26.8"}},
		{"go install @version", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			build{version: "v1.4.0", revision: "unknown", goVersion: "go1.26.8"}},
		{"go install @commit", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261205150405-0123456789ab"}},
			build{version: "v0.0.0-20261205150405-0123456789ab", revision: "0123456789ab", goVersion: "go1.26.8"}},
		{"go build in a checkout", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.1-0.20261205150405-0123456789ab"}, Settings: vcs("0123456789abcdef0123456789abcdef01234567", "false")},
			build{version: "v1.4.1-0.20261205150405-0123456789ab", revision: "0123456789abcdef0123456789abcdef01234567", goVersion: "go1.26.8"}},
		{"go build with changes, no module version", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "true")},
			build{version: "devel", revision: "0123456789abcdef", modified: true, goVersion: "go1.26.8"}},
		{"go run", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			build{version: "devel", revision: "unknown", goVersion: "go1.26.8"}},
		{"no build info", "", "", nil,
			build{version: "devel", revision: "unknown", goVersion: runtime.Version()}},
	} {
		if got := resolveBuild(c.version, c.commit, c.bi); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// version prints what buildVersion resolved.
func TestVersionCommand(t *testing.T) {
	code, out, _ := cli(t, "version")
	b := buildVersion()
	if want := fmt.Sprintf("auditexport %s (revision %s", b.version, b.revision); code != exitOK || !strings.HasPrefix(out, want) || !strings.Contains(out, b.goVersion) {
		t.Errorf("version: code %d %q, want it to start with %q", code, out, want)
	}
}

// buildInfoSample is the auditexport_build_info series as exposed.
func buildInfoSample() string {
	b := buildVersion()
	return fmt.Sprintf("auditexport_build_info{go_version=%q,revision=%q,version=%q}", b.goVersion, b.revision, b.version)
}

// run pushes auditexport_build_info with its metrics; schedule serves it
// on /metrics.
func TestBuildInfoMetric(t *testing.T) {
	if got := gather(t, newMetrics())[buildInfoSample()]; got != 1 {
		t.Errorf("%s = %v, want 1", buildInfoSample(), got)
	}

	var gw fakePushgateway
	srv := httptest.NewServer(gw.handler(t))
	defer srv.Close()
	dir := t.TempDir()
	if code, _, stderr := cli(t, "run", "--source.url", "../../configs/samples", "--destination.url", dir, "--metrics.pushgateway_url", srv.URL); code != exitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	gw.mu.Lock()
	if len(gw.pushes) != 1 || gw.pushes[0].body[buildInfoSample()] != 1 {
		t.Errorf("pushed %v; want %s 1", gw.pushes, buildInfoSample())
	}
	gw.mu.Unlock()
	// The archive records the same version in each file it writes.
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("the run wrote no Parquet file")
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pf.Lookup(exporter.MetaToolVersion); got != buildVersion().version {
		t.Errorf("%s: %s %q, want %q", files[0], exporter.MetaToolVersion, got, buildVersion().version)
	}

	lc := loadTestConfig(t, fmt.Sprintf("source:\n  url: %s\ndestination:\n  url: %s\nschedule:\n  cron: '@yearly'\n  listen: 127.0.0.1:0\n", dir, filepath.Join(dir, "out")), nil)
	addr, stop := startSchedule(t, &scheduleOpts{lc: lc, log: slog.New(slog.DiscardHandler), out: io.Discard})
	var served float64
	waitFor(t, "/metrics", 10*time.Second, func() bool {
		served = scrape(t, addr)[buildInfoSample()]
		return served != 0
	})
	if served != 1 {
		t.Errorf("schedule serves %s = %v, want 1", buildInfoSample(), served)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
