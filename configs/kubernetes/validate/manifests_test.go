package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// manifest is one object of a rendered overlay, decoded strictly into its
// official Kubernetes type.
type manifest struct {
	set string // the rendered overlay
	obj any
}

func (m manifest) String() string {
	meta := objectMeta(m.obj)
	return fmt.Sprintf("%s: %T %s", m.set, m.obj, meta.Name)
}

// newObject returns the typed object for an apiVersion and kind, or nil for
// one the overlays are not expected to render.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}
	case "batch/v1 Job":
		return &batchv1.Job{}
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}
	case "v1 Service":
		return &corev1.Service{}
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &monitoringv1.PrometheusRule{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}
	}
	return nil
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decodeDocs decodes every document of a YAML stream strictly: an unknown
// or misspelt field, a duplicate key or a value of the wrong type (a bad
// resource quantity, a string where an int goes) is an error.
func decodeDocs(t *testing.T, set string, data []byte) []manifest {
	t.Helper()
	var out []manifest
	for i, doc := range docSeparator.Split(string(data), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Errorf("%s document %d: %v", set, i, err)
			continue
		}
		if tm.Kind == "" && tm.APIVersion == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Errorf("%s document %d has no apiVersion and kind", set, i)
			}
			continue
		}
		obj := newObject(tm.APIVersion, tm.Kind)
		if obj == nil {
			t.Errorf("%s document %d: unexpected %s %s", set, i, tm.APIVersion, tm.Kind)
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s document %d (%s): %v", set, i, tm.Kind, err)
			continue
		}
		out = append(out, manifest{set: set, obj: obj})
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// Every overlay, and every variant of it a user is told to make, renders
// (kustomize, as kubectl apply -k does) into objects that decode strictly
// into their official types, with valid names and labels, each name once
// per kind, the workloads chosen (one, or a backfill beside the daily
// CronJob; never the CronJob and the schedule Deployment), one ServiceAccount, the
// config and the overlay's settings, and no Secret: the PostgreSQL password
// Secret is created from a secret store, never from a file in the repo.
func TestOverlaysRender(t *testing.T) {
	workloadKind := map[string]string{"cronjob": "*v1.CronJob", "schedule": "*v1.Deployment", "backfill": "*v1.Job"}
	for _, s := range renderAll(t) {
		kinds := map[string]int{}
		names := map[string]bool{}
		configMaps := map[string]bool{}
		for _, m := range s.objs {
			kind := fmt.Sprintf("%T", m.obj)
			kinds[kind]++
			meta := objectMeta(m.obj)
			if errs := validation.IsDNS1123Subdomain(meta.Name); len(errs) > 0 {
				t.Errorf("%s: name %q: %v", m, meta.Name, errs)
			}
			if key := kind + " " + meta.Name; names[key] {
				t.Errorf("%s: %s named %q twice", s.name, kind, meta.Name)
			} else {
				names[key] = true
			}
			checkLabels(t, m.String(), meta.Labels)
			if cm, ok := m.obj.(*corev1.ConfigMap); ok {
				configMaps[strings.TrimRight(strings.TrimRight(cm.Name, "abcdefghijklmnopqrstuvwxyz0123456789"), "-")] = true
			}
		}
		workloads := kinds["*v1.CronJob"] + kinds["*v1.Job"] + kinds["*v1.Deployment"]
		if workloads != len(s.workloads) {
			t.Errorf("%s: %d workloads (%v), want %v", s.name, workloads, kinds, s.workloads)
		}
		for _, w := range s.workloads {
			if kinds[workloadKind[w]] != 1 {
				t.Errorf("%s: %d %s, want one (%s)", s.name, kinds[workloadKind[w]], workloadKind[w], w)
			}
		}
		if kinds["*v1.CronJob"] > 0 && kinds["*v1.Deployment"] > 0 {
			t.Errorf("%s: both the CronJob and the schedule Deployment: every export would run twice", s.name)
		}
		if kinds["*v1.ServiceAccount"] != 1 {
			t.Errorf("%s: %d ServiceAccounts, want 1", s.name, kinds["*v1.ServiceAccount"])
		}
		if kinds["*v1.Secret"] != 0 {
			t.Errorf("%s: renders a Secret; the PostgreSQL password Secret comes from a secret store", s.name)
		}
		if !configMaps["auditexport-config"] || !configMaps["auditexport-settings"] || kinds["*v1.ConfigMap"] != 2 {
			t.Errorf("%s: ConfigMaps %v, want auditexport-config and auditexport-settings (generated, with a hash suffix)", s.name, configMaps)
		}
		if want := s.has("prometheus-rule"); (kinds["*v1.PrometheusRule"] == 1) != want {
			t.Errorf("%s: %d PrometheusRules", s.name, kinds["*v1.PrometheusRule"])
		}
		if want := s.has("service-monitor"); (kinds["*v1.ServiceMonitor"] == 1) != want {
			t.Errorf("%s: %d ServiceMonitors", s.name, kinds["*v1.ServiceMonitor"])
		}
	}
}

func objectMeta(obj any) metav1.ObjectMeta {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		return o.ObjectMeta
	case *batchv1.Job:
		return o.ObjectMeta
	case *appsv1.Deployment:
		return o.ObjectMeta
	case *corev1.ConfigMap:
		return o.ObjectMeta
	case *corev1.Secret:
		return o.ObjectMeta
	case *corev1.ServiceAccount:
		return o.ObjectMeta
	case *corev1.Service:
		return o.ObjectMeta
	case *monitoringv1.PrometheusRule:
		return o.ObjectMeta
	case *monitoringv1.ServiceMonitor:
		return o.ObjectMeta
	}
	return metav1.ObjectMeta{}
}

func checkLabels(t *testing.T, where string, labels map[string]string) {
	t.Helper()
	for k, v := range labels {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("%s: label key %q: %v", where, k, errs)
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%s: label %s value %q: %v", where, k, v, errs)
		}
	}
}

// podTemplates returns every pod template with where it is.
func podTemplates(ms []manifest) map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *batchv1.CronJob:
			out[m.String()] = o.Spec.JobTemplate.Spec.Template
		case *batchv1.Job:
			out[m.String()] = o.Spec.Template
		case *appsv1.Deployment:
			out[m.String()] = o.Spec.Template
		}
	}
	return out
}

// Every pod runs hardened: non-root, read-only root filesystem, no
// privilege escalation, all capabilities dropped, the runtime's default
// seccomp profile, requests and limits set, a pinned image, /tmp on an
// emptyDir, and only volumes, ConfigMaps and ServiceAccounts that exist
// (a Secret that may be absent is optional).
func TestPodsAreHardened(t *testing.T) {
	for _, set := range renderAll(t) {
		ms := set.objs
		configMaps, secrets, accounts := map[string]*corev1.ConfigMap{}, map[string]*corev1.Secret{}, map[string]bool{}
		for _, m := range ms {
			switch o := m.obj.(type) {
			case *corev1.ConfigMap:
				configMaps[o.Name] = o
			case *corev1.Secret:
				secrets[o.Name] = o
			case *corev1.ServiceAccount:
				accounts[o.Name] = true
			}
		}
		pods := podTemplates(ms)
		if len(pods) != len(set.workloads) {
			t.Errorf("%s: %d pod templates, want one per workload (%v)", set.name, len(pods), set.workloads)
		}
		for where, pt := range pods {
			ps := pt.Spec
			checkLabels(t, where, pt.Labels)
			if aks := set.overlay == "aks"; (pt.Labels["azure.workload.identity/use"] == "true") != aks {
				t.Errorf("%s: label azure.workload.identity/use %q; want \"true\" on AKS only (the webhook injects the token into labelled pods)", where, pt.Labels["azure.workload.identity/use"])
			}
			if !accounts[ps.ServiceAccountName] {
				t.Errorf("%s: service account %q is not defined here", where, ps.ServiceAccountName)
			}
			if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
				t.Errorf("%s: the Kubernetes API token is mounted; auditexport never calls the API", where)
			}
			psc := ps.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
				t.Errorf("%s: the pod must run as a non-root user (runAsNonRoot, runAsUser != 0)", where)
			}
			if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s: seccompProfile must be RuntimeDefault", where)
			}
			if ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds < 60 {
				t.Errorf("%s: terminationGracePeriodSeconds must leave a commit time to finish (>= 60)", where)
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range ps.Volumes {
				volumes[v.Name] = v
				if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil {
					t.Errorf("%s: volume %s: ConfigMap %q is not defined here", where, v.Name, v.ConfigMap.Name)
				}
			}
			if len(ps.Containers) != 1 {
				t.Errorf("%s: %d containers, want 1", where, len(ps.Containers))
			}
			for _, c := range ps.Containers {
				cw := where + " container " + c.Name
				if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
					t.Errorf("%s: %v", cw, errs)
				}
				if !regexp.MustCompile(`^[a-z0-9.\-]+(:[0-9]+)?/[a-z0-9.\-/]+:[A-Za-z0-9._\-]+$`).MatchString(c.Image) || strings.HasSuffix(c.Image, ":latest") {
					t.Errorf("%s: image %q: the overlay's images: must set a registry path and a version tag (not latest)", cw, c.Image)
				}
				for _, ef := range c.EnvFrom {
					if ef.ConfigMapRef == nil || configMaps[ef.ConfigMapRef.Name] == nil {
						t.Errorf("%s: envFrom %+v: no such ConfigMap here", cw, ef)
					}
				}
				if len(c.EnvFrom) == 0 {
					t.Errorf("%s: no envFrom: the overlay's settings (the buckets) would not reach the pod", cw)
				}
				sc := c.SecurityContext
				switch {
				case sc == nil:
					t.Errorf("%s: no securityContext", cw)
				default:
					if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
						t.Errorf("%s: readOnlyRootFilesystem must be true", cw)
					}
					if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
						t.Errorf("%s: allowPrivilegeEscalation must be false", cw)
					}
					if sc.Privileged != nil && *sc.Privileged {
						t.Errorf("%s: privileged", cw)
					}
					if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
						t.Errorf("%s: capabilities must drop ALL and add none", cw)
					}
					if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
						t.Errorf("%s: runs as root", cw)
					}
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
					req, okReq := c.Resources.Requests[r]
					lim, okLim := c.Resources.Limits[r]
					if !okReq || !okLim {
						t.Errorf("%s: %s needs a request and a limit", cw, r)
						continue
					}
					if req.Cmp(lim) > 0 {
						t.Errorf("%s: %s request %s above its limit %s", cw, r, req.String(), lim.String())
					}
				}
				tmp := false
				for _, vm := range c.VolumeMounts {
					v, ok := volumes[vm.Name]
					if !ok {
						t.Errorf("%s: mount %s: no such volume", cw, vm.Name)
						continue
					}
					if vm.MountPath == "/tmp" {
						tmp = v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil
						if lim := c.Resources.Limits[corev1.ResourceEphemeralStorage]; tmp && v.EmptyDir.SizeLimit.Cmp(lim) > 0 {
							t.Errorf("%s: /tmp sizeLimit %s above the ephemeral-storage limit %s", cw, v.EmptyDir.SizeLimit, lim.String())
						}
					}
				}
				if !tmp {
					t.Errorf("%s: /tmp must be an emptyDir with a sizeLimit (the root filesystem is read-only; run.work_dir and TMPDIR point there)", cw)
				}
				for _, e := range c.Env {
					if e.Value != "" && regexp.MustCompile(`(?i)password|secret|token|key`).MatchString(e.Name) {
						t.Errorf("%s: env %s holds a literal secret; use a secretKeyRef", cw, e.Name)
					}
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						ref := e.ValueFrom.SecretKeyRef
						s := secrets[ref.Name]
						if s == nil && (ref.Optional == nil || !*ref.Optional) {
							t.Errorf("%s: env %s: Secret %q is not defined here and not optional: the pod would not start without it", cw, e.Name, ref.Name)
						} else if s != nil && s.StringData[ref.Key] == "" {
							if _, ok := s.Data[ref.Key]; !ok {
								t.Errorf("%s: env %s: Secret %s has no key %s", cw, e.Name, ref.Name, ref.Key)
							}
						}
					}
					if e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.ContainerName != c.Name {
						t.Errorf("%s: env %s refers to container %q", cw, e.Name, e.ValueFrom.ResourceFieldRef.ContainerName)
					}
				}
				// The sigma-api source reads its API client from the
				// environment only: every workload takes it from a Secret.
				for _, name := range []string{"SIGMA_CLIENT_ID", "SIGMA_CLIENT_SECRET"} {
					i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
					if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.SecretKeyRef == nil {
						t.Errorf("%s: env %s must come from a secretKeyRef (auditexport-sigma-api)", cw, name)
					}
				}
			}
		}
	}
}

func args(ps corev1.PodSpec) []string {
	if len(ps.Containers) == 0 {
		return nil
	}
	return ps.Containers[0].Args
}

// argValue returns the value after flag in args ("--flag value" or
// "--flag=value").
func argValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

// The CronJob never runs twice at once, gives up on a late start, bounds
// its retries, its run time and its history, and has a schedule that
// Kubernetes's own parser (robfig/cron) accepts.
func TestCronJob(t *testing.T) {
	n := 0
	for _, m := range allManifests(t) {
		cj, ok := m.obj.(*batchv1.CronJob)
		if !ok {
			continue
		}
		n++
		s := cj.Spec
		if _, err := cron.ParseStandard(s.Schedule); err != nil {
			t.Errorf("%s: schedule %q: %v", m, s.Schedule, err)
		}
		if s.TimeZone != nil {
			if _, err := time.LoadLocation(*s.TimeZone); err != nil {
				t.Errorf("%s: timeZone %q: %v", m, *s.TimeZone, err)
			}
		}
		if s.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", m, s.ConcurrencyPolicy)
		}
		if s.StartingDeadlineSeconds == nil || *s.StartingDeadlineSeconds <= 0 {
			t.Errorf("%s: startingDeadlineSeconds must be set", m)
		}
		if s.SuccessfulJobsHistoryLimit == nil || s.FailedJobsHistoryLimit == nil {
			t.Errorf("%s: history limits must be set", m)
		}
		checkJobSpec(t, m.String(), s.JobTemplate.Spec)
		if a := args(s.JobTemplate.Spec.Template.Spec); len(a) == 0 || a[0] != "run" {
			t.Errorf("%s: args %v, want the run command", m, a)
		}
	}
	if want := setsWith(t, "cronjob"); n != want {
		t.Errorf("%d CronJobs, want one in each of the %d sets with the cronjob workload", n, want)
	}
}

func checkJobSpec(t *testing.T, where string, js batchv1.JobSpec) {
	t.Helper()
	if js.BackoffLimit == nil && js.BackoffLimitPerIndex == nil {
		t.Errorf("%s: backoffLimit must be set", where)
	}
	if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds <= 0 {
		t.Errorf("%s: activeDeadlineSeconds must be set", where)
	}
	if rp := js.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never (podFailurePolicy needs it, and a fresh pod is cleaner)", where, rp)
	}
	if pfp := js.PodFailurePolicy; pfp != nil {
		for _, r := range pfp.Rules {
			if r.OnExitCodes != nil && r.OnExitCodes.ContainerName != nil && *r.OnExitCodes.ContainerName != js.Template.Spec.Containers[0].Name {
				t.Errorf("%s: podFailurePolicy names container %q", where, *r.OnExitCodes.ContainerName)
			}
		}
	}
}

// The backfill Job is Indexed, and each completion's share matches: its
// --shards equals completions, and it has a date range.
func TestIndexedBackfillJob(t *testing.T) {
	n := 0
	for _, m := range allManifests(t) {
		job, ok := m.obj.(*batchv1.Job)
		if !ok {
			continue
		}
		n++
		s := job.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			t.Errorf("%s: completionMode must be Indexed (JOB_COMPLETION_INDEX picks each pod's share)", m)
		}
		if s.Completions == nil || s.Parallelism == nil || *s.Parallelism < 1 || *s.Parallelism > *s.Completions {
			t.Errorf("%s: completions and parallelism (1..completions) must be set", m)
			continue
		}
		checkJobSpec(t, m.String(), s)
		a := args(s.Template.Spec)
		if len(a) == 0 || a[0] != "backfill" {
			t.Errorf("%s: args %v, want the backfill command", m, a)
		}
		shards, ok := argValue(a, "--backfill.shards")
		if _, old := argValue(a, "--shards"); old {
			t.Errorf("%s: --shards is a deprecated spelling (it warns at each run); use --backfill.shards", m)
		}
		for _, e := range s.Template.Spec.Containers[0].Env {
			if e.Name == "AUDITEXPORT_BACKFILL_SHARDS" {
				shards, ok = e.Value, true
			}
		}
		if !ok || shards != fmt.Sprint(*s.Completions) {
			t.Errorf("%s: --backfill.shards %q, want completions (%d)", m, shards, *s.Completions)
		}
		from, okf := argValue(a, "--from")
		to, okt := argValue(a, "--to")
		f, ferr := time.Parse(time.DateOnly, from)
		tt, terr := time.Parse(time.DateOnly, to)
		if !okf || !okt || ferr != nil || terr != nil || tt.Before(f) {
			t.Errorf("%s: --from %q --to %q: want two dates, in order", m, from, to)
		} else if days := int(tt.Sub(f).Hours()/24) + 1; days < int(*s.Completions) {
			t.Errorf("%s: %d days for %d shards: some shards would have nothing to do", m, days, *s.Completions)
		}
		if _, ok := argValue(a, "--shard"); ok {
			t.Errorf("%s: --shard fixes one share for every pod; an Indexed Job takes JOB_COMPLETION_INDEX", m)
		}
	}
	if want := setsWith(t, "backfill"); n != want {
		t.Errorf("%d Jobs, want one in each of the %d sets with the backfill workload", n, want)
	}
}

// The schedule Deployment runs one scheduler, replaced without overlap,
// with probes on /healthz and /readyz and a metrics port the Service
// exposes, and a run at start (a new pod need not wait for the next time
// of schedule.cron). A ServiceMonitor, when there is one, scrapes that
// Service's metrics port.
func TestScheduleDeployment(t *testing.T) {
	n := 0
	for _, set := range renderAll(t) {
		checkScheduleSet(t, set, &n)
	}
	if want := setsWith(t, "schedule"); n != want {
		t.Errorf("%d Deployments, want one in each of the %d sets with the schedule workload", n, want)
	}
}

func checkScheduleSet(t *testing.T, set renderedSet, n *int) {
	t.Helper()
	ms := set.objs
	var svc *corev1.Service
	var mon *monitoringv1.ServiceMonitor
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *corev1.Service:
			svc = o
		case *monitoringv1.ServiceMonitor:
			mon = o
		}
	}
	if mon != nil {
		sel, err := metav1.LabelSelectorAsSelector(&mon.Spec.Selector)
		switch {
		case err != nil:
			t.Errorf("%s: ServiceMonitor selector: %v", set.name, err)
		case svc == nil || !sel.Matches(labelSet(svc.Labels)):
			t.Errorf("%s: the ServiceMonitor selects no Service here (it needs the schedule workload)", set.name)
		default:
			for _, e := range mon.Spec.Endpoints {
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == e.Port }) || e.Path != "/metrics" {
					t.Errorf("%s: ServiceMonitor endpoint port %q path %q: want the Service's metrics port and /metrics", set.name, e.Port, e.Path)
				}
			}
		}
	}
	for _, m := range ms {
		d, ok := m.obj.(*appsv1.Deployment)
		if !ok {
			continue
		}
		*n++
		s := d.Spec
		if s.Replicas == nil || *s.Replicas != 1 {
			t.Errorf("%s: replicas must be 1 (one scheduler)", m)
		}
		if s.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: strategy %q, want Recreate (never two schedulers at once)", m, s.Strategy.Type)
		}
		sel, err := metav1.LabelSelectorAsSelector(s.Selector)
		if err != nil || !sel.Matches(labelSet(s.Template.Labels)) {
			t.Errorf("%s: the selector does not match the pod template's labels (%v)", m, err)
		}
		c := s.Template.Spec.Containers[0]
		if len(c.Args) == 0 || c.Args[0] != "schedule" {
			t.Errorf("%s: args %v, want the schedule command", m, c.Args)
		}
		if !runsOnStart(t, ms, c.Args) {
			t.Errorf("%s: neither its args nor its config set schedule.run_on_start: a new pod would write nothing until the next time of schedule.cron", m)
		}
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		if ports["metrics"] != 9090 {
			t.Errorf("%s: no metrics port 9090 (schedule.listen :9090)", m)
		}
		for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[name]
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want {
				t.Errorf("%s: %s probe must GET %s", m, name, want)
				continue
			}
			if p := probe.HTTPGet.Port; p.StrVal != "" && ports[p.StrVal] == 0 {
				t.Errorf("%s: %s probe port %q is not a container port", m, name, p.StrVal)
			}
		}
		if svc == nil {
			t.Errorf("%s: no Service exposes the metrics port", m)
			continue
		}
		if !labelSet(svc.Spec.Selector).AsSelector().Matches(labelSet(s.Template.Labels)) {
			t.Errorf("Service %s does not select the schedule pods", svc.Name)
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal != "" && ports[p.TargetPort.StrVal] == 0 {
				t.Errorf("Service %s: targetPort %q is not a container port", svc.Name, p.TargetPort.StrVal)
			}
		}
	}
}

// Each overlay sets, in its kustomization.yaml, what a user must set: the
// annotation its cloud's webhook reads (and no other cloud's), in the form
// that webhook expects; the buckets, as URLs of its cloud. No ConfigMap
// holds a credential.
func TestIdentityAndSettings(t *testing.T) {
	annotations := map[string]struct {
		key, scheme string
		form        *regexp.Regexp
	}{
		"aws": {"eks.amazonaws.com/role-arn", "s3://", regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)},
		"gke": {"iam.gke.io/gcp-service-account", "gs://", regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$`)},
		"aks": {"azure.workload.identity/client-id", "azblob://", regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
	}
	credential := regexp.MustCompile(`(?i)password\s*[=:]|://[^/\s:@]+:[^@\s]+@|sig=`)
	for _, set := range renderAll(t) {
		want, ok := annotations[set.overlay]
		if !ok {
			t.Fatalf("%s: no identity expected for overlay %s", set.name, set.overlay)
		}
		var settings map[string]string
		for _, m := range set.objs {
			switch o := m.obj.(type) {
			case *corev1.ServiceAccount:
				if v := o.Annotations[want.key]; !want.form.MatchString(v) {
					t.Errorf("%s: %s %q is not of the form the webhook expects", m, want.key, v)
				}
				for cloud, other := range annotations {
					if cloud != set.overlay && o.Annotations[other.key] != "" {
						t.Errorf("%s: carries %s, the annotation of %s", m, other.key, cloud)
					}
				}
			case *corev1.ConfigMap:
				for k, v := range o.Data {
					if credential.MatchString(v) {
						t.Errorf("%s: %s holds a credential", m, k)
					}
				}
				if strings.HasPrefix(o.Name, "auditexport-settings-") {
					settings = o.Data
				}
			}
		}
		for _, k := range []string{"AUDITEXPORT_SOURCE_URL", "AUDITEXPORT_DESTINATION_URL"} {
			if !strings.HasPrefix(settings[k], want.scheme) {
				t.Errorf("%s: %s %q, want a %s URL set in the overlay", set.name, k, settings[k], want.scheme)
			}
		}
	}
}

// setsWith counts the rendered sets whose workload is w.
func setsWith(t *testing.T, w string) int {
	n := 0
	for _, s := range renderAll(t) {
		if slices.Contains(s.workloads, w) {
			n++
		}
	}
	return n
}

// runsOnStart says whether a schedule container's args or its config
// (the auditexport-config ConfigMap) set schedule.run_on_start.
func runsOnStart(t *testing.T, ms []manifest, args []string) bool {
	t.Helper()
	for _, a := range args {
		if a == "--schedule.run_on_start" || a == "--schedule.run_on_start=true" {
			return true
		}
	}
	for _, m := range ms {
		cm, ok := m.obj.(*corev1.ConfigMap)
		if !ok || cm.Data["config.yaml"] == "" {
			continue
		}
		var cfg struct {
			Schedule struct {
				RunOnStart bool `json:"run_on_start"`
			} `json:"schedule"`
		}
		if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
			t.Errorf("%s: config.yaml: %v", m, err)
		}
		return cfg.Schedule.RunOnStart
	}
	return false
}

func labelSet(m map[string]string) labels.Set { return labels.Set(m) }
