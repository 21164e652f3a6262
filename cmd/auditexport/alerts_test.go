package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// registeredMetrics is the name of every metric the run and schedule
// registries describe, with the series names a histogram adds.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	ch := make(chan *prometheus.Desc)
	go func() {
		newMetrics().withSchedule().reg.Describe(ch)
		close(ch)
	}()
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names[m[1]] = true
		if m[1] == "auditexport_run_duration_seconds" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d metrics registered: %v", len(names), names)
	}
	return names
}

// Every auditexport_* metric an alert of the PrometheusRule names is one
// that run and schedule register (configs/kubernetes/validate parses the
// expressions with Prometheus's parser), and docs/operations.md documents
// each of them.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `yaml:"alert"`
					Expr  string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	readYAML(t, filepath.Join(kubernetesDir, "components", "prometheus-rule", "prometheusrule.yaml"), &rule)
	registered := registeredMetrics(t)
	ops := readText(t, "../../docs/operations.md")
	metric := regexp.MustCompile(`\bauditexport_[a-z0-9_]+`)
	n := 0
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			for _, name := range metric.FindAllString(r.Expr, -1) {
				n++
				if !registered[name] {
					t.Errorf("alert %s: %s is not a metric auditexport registers (metrics.go)", r.Alert, name)
				}
				if !strings.Contains(ops, name) && !strings.Contains(ops, strings.TrimPrefix(name, "auditexport_schedule")) {
					t.Errorf("alert %s: %s is not in docs/operations.md", r.Alert, name)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("%d metric references in the alerts; want freshness, failures and rejects at least", n)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
