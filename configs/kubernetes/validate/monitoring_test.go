package validate

import (
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// The PrometheusRule's alerts are valid PromQL (Prometheus's own parser),
// have a valid `for`, a severity and a summary, and cover what an operator
// must hear about: the archive's freshness, failed runs and rejected rows.
// That each metric they name is one auditexport exports is checked against
// its registry in the main module (cmd/auditexport TestAlertRulesNameExportedMetrics).
func TestPrometheusRule(t *testing.T) {
	n := 0
	for _, m := range allManifests(t) {
		pr, ok := m.obj.(*monitoringv1.PrometheusRule)
		if !ok {
			continue
		}
		n++
		metrics := map[string]bool{}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				where := m.String() + " alert " + r.Alert
				if r.Alert == "" {
					t.Errorf("%s: a rule without an alert name (recording rules are not expected)", m)
				}
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr.String())
				if err != nil {
					t.Errorf("%s: expr %q: %v", where, r.Expr.String(), err)
					continue
				}
				if expr.Type() != parser.ValueTypeVector {
					t.Errorf("%s: expr is a %s, want an instant vector", where, expr.Type())
				}
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					if vs, ok := node.(*parser.VectorSelector); ok {
						metrics[vs.Name] = true
					}
					return nil
				})
				if r.For != nil {
					if _, err := model.ParseDuration(string(*r.For)); err != nil {
						t.Errorf("%s: for %q: %v", where, *r.For, err)
					}
				}
				if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" && sev != "info" {
					t.Errorf("%s: severity %q, want critical, warning or info", where, sev)
				}
				if strings.TrimSpace(r.Annotations["summary"]) == "" {
					t.Errorf("%s: no summary annotation", where)
				}
			}
		}
		for _, want := range []string{
			"auditexport_last_committed_event_timestamp_seconds", // freshness of the data
			"auditexport_last_success_timestamp_seconds",         // freshness of the runs
			"auditexport_errors_total",                           // failures
			"auditexport_rows_rejected_total",                    // rejects
		} {
			if !metrics[want] {
				t.Errorf("%s: no alert on %s", m, want)
			}
		}
	}
	if want := 0; n == want {
		t.Error("no PrometheusRule rendered")
	}
}
