package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const kubernetesDir = "../../configs/kubernetes"

// The Kubernetes manifests agree with the CLI: the base config with each
// overlay's settings (its configMapGenerator literals, which reach the pods
// as environment variables) passes config validate; every container's args
// parse as an auditexport command line; every AUDITEXPORT_* variable names
// a setting. configs/kubernetes/validate renders the overlays themselves.
func TestKubernetesManifestsMatchTheCLI(t *testing.T) {
	known := map[string]bool{"AUDITEXPORT_CONFIG": true}
	var scratch Config
	for _, s := range settingsOf(&scratch) {
		known[s.env] = true
	}
	base := filepath.Join(kubernetesDir, "base", "config.yaml")
	if _, err := os.Stat(base); err != nil {
		t.Fatalf("the base config: %v", err)
	}
	overlays, err := filepath.Glob(filepath.Join(kubernetesDir, "overlays", "*", "kustomization.yaml"))
	if err != nil || len(overlays) < 3 {
		t.Fatalf("%d overlays (%v); want aws, gke and aks", len(overlays), err)
	}
	for _, k := range overlays {
		name := filepath.Base(filepath.Dir(k))
		var kust struct {
			ConfigMapGenerator []struct {
				Name     string   `yaml:"name"`
				Literals []string `yaml:"literals"`
			} `yaml:"configMapGenerator"`
		}
		readYAML(t, k, &kust)
		env := map[string]string{}
		for _, g := range kust.ConfigMapGenerator {
			for _, l := range g.Literals {
				k, v, _ := strings.Cut(l, "=")
				if !known[k] {
					t.Errorf("overlay %s: %s names no setting", name, k)
				}
				env[k] = v
			}
		}
		for _, want := range []string{"AUDITEXPORT_SOURCE_URL", "AUDITEXPORT_DESTINATION_URL"} {
			if env[want] == "" {
				t.Errorf("overlay %s does not set %s", name, want)
			}
		}
		t.Run(name, func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			if code, _, stderr := cli(t, "config", "validate", "--config", base); code != exitOK {
				t.Errorf("config validate of base/config.yaml with the overlay's settings: code %d\n%s", code, stderr)
			}
		})
	}

	workloads, err := filepath.Glob(filepath.Join(kubernetesDir, "components", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	containers := 0
	for _, f := range workloads {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				break
			}
			walkContainers(doc, func(c map[string]any) {
				containers++
				var args []string
				for _, a := range asList(c["args"]) {
					args = append(args, a.(string))
				}
				if len(args) == 0 {
					t.Errorf("%s: container %v has no args", f, c["name"])
					return
				}
				if code, _, stderr := cli(t, append(args, "--help")...); code != exitOK {
					t.Errorf("%s: args %v do not parse: %s", f, args, stderr)
				}
				for _, e := range asList(c["env"]) {
					name := e.(map[string]any)["name"].(string)
					if strings.HasPrefix(name, "AUDITEXPORT_") && !known[name] {
						t.Errorf("%s: env %s names no setting", f, name)
					}
				}
			})
		}
	}
	if containers < 3 {
		t.Errorf("checked %d containers; want the CronJob's, the Job's and the Deployment's", containers)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// walkContainers calls fn for every container (and init container) found
// anywhere in a manifest.
func walkContainers(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if k == "containers" || k == "initContainers" {
				for _, c := range asList(sub) {
					fn(c.(map[string]any))
				}
				continue
			}
			walkContainers(sub, fn)
		}
	case []any:
		for _, sub := range x {
			walkContainers(sub, fn)
		}
	}
}
