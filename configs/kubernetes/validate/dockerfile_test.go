package validate

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
	corev1 "k8s.io/api/core/v1"
)

const repoRoot = "../../.."

func readDockerfile(t *testing.T) []byte {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// offlineImages answers BuildKit's base-image lookups without a registry
// (there is no network here): the lint rules that read a base image's
// config see an empty linux one.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"` + runtime.GOARCH + `","os":"linux","config":{}}`), nil
}

var _ llb.ImageMetaResolver = offlineImages{}

// TestDockerfileLint runs BuildKit's own Dockerfile checks (the rules of
// `docker build --check`) and fails on any finding. hadolint is not
// installable here (no Debian or Go package); BuildKit's linter is the one
// Docker ships.
func TestDockerfileLint(t *testing.T) {
	dt := readDockerfile(t)
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{MetaResolver: offlineImages{}, SourceMap: sm})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil {
		t.Errorf("Dockerfile: %s", res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		t.Errorf("Dockerfile:%d: %s: %s (%s)", line, w.RuleName, w.Detail, w.URL)
	}
}

// stages parses the Dockerfile into BuildKit's instructions.
func stages(t *testing.T) []instructions.Stage {
	t.Helper()
	ast, err := parser.Parse(bytes.NewReader(readDockerfile(t)))
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// buildCommand is the stage's RUN that runs go build, as written.
func buildCommand(t *testing.T, s instructions.Stage) string {
	t.Helper()
	for _, c := range s.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			if !r.PrependShell || len(r.CmdLine) != 1 {
				t.Fatalf("the go build RUN must be one shell command line: %v", r.CmdLine)
			}
			return r.CmdLine[0]
		}
	}
	t.Fatal("no RUN ... go build in the build stage")
	return ""
}

// The image is multi-stage: a Go build stage, then distroless static (or
// scratch) with a numeric non-root user and an exec-form entrypoint; the
// build is static, trimmed, stripped and stamped; modules are downloaded
// before the sources are copied.
func TestDockerfileShape(t *testing.T) {
	st := stages(t)
	if len(st) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(st))
	}
	build, final := st[0], st[len(st)-1]
	if !strings.HasPrefix(build.BaseName, "golang:1.26") {
		t.Errorf("build stage FROM %s, want golang:1.26 (go.mod's Go)", build.BaseName)
	}
	if final.BaseName != "gcr.io/distroless/static-debian12:nonroot" && final.BaseName != "scratch" {
		t.Errorf("final stage FROM %s, want distroless static or scratch", final.BaseName)
	}
	var user string
	var entry []string
	for _, c := range final.Commands {
		switch x := c.(type) {
		case *instructions.UserCommand:
			user = x.User
		case *instructions.EntrypointCommand:
			if x.PrependShell {
				t.Error("ENTRYPOINT must be in exec form (JSON array) so the process gets SIGTERM")
			}
			entry = x.CmdLine
		case *instructions.RunCommand:
			t.Error("the final stage runs nothing (distroless has no shell)")
		}
	}
	if !regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(user) {
		t.Errorf("USER %q: want a numeric non-root uid[:gid] (Kubernetes can only check runAsNonRoot on a numeric user)", user)
	}
	if len(entry) != 1 || !strings.HasSuffix(entry[0], "/auditexport") {
		t.Errorf("ENTRYPOINT %v, want the binary", entry)
	}
	cmd := buildCommand(t, build)
	for _, want := range []string{"CGO_ENABLED=0", "go build", "-trimpath", "-s -w", "-X main.Version=${VERSION}", "-X main.Commit=${COMMIT}", "./cmd/auditexport"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("the go build command lacks %q: %s", want, cmd)
		}
	}
	var copies []string
	for _, c := range build.Commands {
		if cp, ok := c.(*instructions.CopyCommand); ok {
			copies = append(copies, strings.Join(cp.SourcePaths, " "))
		}
	}
	if i, j := slices.Index(copies, "go.mod go.sum"), slices.Index(copies, "."); i < 0 || j < 0 || i > j {
		t.Errorf("COPY order %v: want go.mod go.sum (then go mod download) before the sources", copies)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// TestMain removes the binary dockerBuild built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// dockerBuild runs the Dockerfile's go build command as written, with its
// ARGs set and its output redirected to a temp dir.
func dockerBuild(t *testing.T) string {
	t.Helper()
	cmd := buildCommand(t, stages(t)[0])
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "auditexport-docker-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "auditexport")
		line := strings.Replace(cmd, "-o /out/auditexport", "-o "+builtBin, 1)
		if line == cmd {
			buildErr = errorString("the go build command does not write -o /out/auditexport (the path the final stage copies)")
			return
		}
		sh := exec.Command("sh", "-c", line)
		sh.Dir = repoRoot
		sh.Env = append(os.Environ(), "VERSION=v9.9.9-dockertest", "COMMIT=0123abcd", "TARGETOS=linux", "TARGETARCH="+runtime.GOARCH)
		buildOut, buildErr = sh.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("%s: %v\n%s", cmd, buildErr, buildOut)
	}
	return builtBin
}

type errorString string

func (e errorString) Error() string { return string(e) }

// The Dockerfile's build command works as written (no Docker engine here,
// so this runs the same command) and gives a static, stripped binary with
// the version and commit stamped, which runs with nothing but TMPDIR in its
// environment, as in the distroless image.
func TestDockerfileBuild(t *testing.T) {
	bin := dockerBuild(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a dynamic loader (PT_INTERP): not static, it would not start on distroless static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary keeps its symbol table: -s did not apply")
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v9.9.9-dockertest") || !strings.Contains(string(out), "0123abcd") {
		t.Errorf("version: %v %s; want the stamped version and commit", err, out)
	}

	// A run as in the image: an empty environment but TMPDIR, JSON logs.
	tmp, dest := t.TempDir(), t.TempDir()
	run := exec.Command(bin, "run", "--source.url", filepath.Join(repoRoot, "configs/samples"), "--destination.url", dest)
	run.Env = []string{"TMPDIR=" + tmp, "AUDITEXPORT_LOG_FORMAT=json"}
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("run in an empty environment: %v\n%s", err, stderr.String())
	}
	var sum struct {
		Status      string `json:"status"`
		RowsWritten int64  `json:"rows_written"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Status != "ok" || sum.RowsWritten == 0 {
		t.Errorf("summary %q: %v", stdout.String(), err)
	}
	if first, _, _ := strings.Cut(stderr.String(), "\n"); !json.Valid([]byte(first)) {
		t.Errorf("logs are not JSON: %q", first)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the run left %d entries in TMPDIR", len(left))
	}

	// Each overlay's config (the base config.yaml, with the overlay's
	// settings as environment variables, as the pods get them) is valid
	// for this binary, and each workload's args parse.
	for _, set := range renderAll(t) {
		var config string
		env := []string{"TMPDIR=" + tmp}
		for _, m := range set.objs {
			switch o := m.obj.(type) {
			case *corev1.ConfigMap:
				if c, ok := o.Data["config.yaml"]; ok {
					config = c
				} else {
					for k, v := range o.Data {
						env = append(env, k+"="+v)
					}
				}
			}
		}
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		validate := exec.Command(bin, "config", "validate", "--config", cfg)
		validate.Env = env
		if out, err := validate.CombinedOutput(); err != nil {
			t.Errorf("%s: config validate of its config and settings: %v\n%s", set.name, err, out)
		}
		for where, pt := range podTemplates(set.objs) {
			for _, c := range pt.Spec.Containers {
				help := exec.Command(bin, append(slices.Clone(c.Args), "--help")...)
				help.Env = env
				if out, err := help.CombinedOutput(); err != nil {
					t.Errorf("%s: args %v do not parse: %v\n%s", where, c.Args, err, out)
				}
			}
		}
	}
}

// .dockerignore keeps local output, server data and the repository out of
// the build context, and nothing the build needs: every Go and embedded
// file of the binary's packages, go.mod and go.sum (read with Docker's own
// pattern matcher).
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/config", "out/sigma-audit/x.parquet", "integration/.run/pg/data", "integration/.cache/bin", "auditexport"} {
		if ok, _ := pm.MatchesOrParentMatches(p); !ok {
			t.Errorf("%s is not ignored", p)
		}
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	list := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/auditexport")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, _ := filepath.Rel(root, p.Dir)
		for _, name := range append(p.GoFiles, p.EmbedFiles...) {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, name)))
		}
	}
	if len(needed) < 20 {
		t.Fatalf("only %d files found for the build", len(needed))
	}
	for _, p := range needed {
		if ok, _ := pm.MatchesOrParentMatches(p); ok {
			t.Errorf("%s is needed by the build but .dockerignore drops it", p)
		}
	}
}
