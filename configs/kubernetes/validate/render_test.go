package validate

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// renderedSet is what `kubectl apply -k` would apply for one overlay: the
// overlay as shipped, or with another workload or optional components put
// in place of its workload component, as docs/kubernetes.md tells a user to.
type renderedSet struct {
	name      string   // e.g. "aws" or "aws with schedule, service-monitor"
	overlay   string   // aws, gke or aks
	workloads []string // cronjob, schedule or backfill; a backfill may sit beside the cronjob
	extras    []string
	objs      []manifest
}

// The shipped overlays and their clouds; each names its workload on the
// line shippedWorkload.
var overlays = []string{"aws", "gke", "aks"}

const shippedWorkload = "  - ../../components/cronjob\n"

// variants are the component lists put in place of shippedWorkload: every
// workload, a backfill beside the daily CronJob, and the optional
// monitoring components where they apply.
var variants = []struct {
	workloads []string
	extras    []string
}{
	{[]string{"cronjob"}, nil},
	{[]string{"cronjob"}, []string{"prometheus-rule"}},
	{[]string{"schedule"}, []string{"prometheus-rule", "service-monitor"}},
	{[]string{"backfill"}, nil},
	{[]string{"cronjob", "backfill"}, nil},
}

var (
	renderOnce sync.Once
	rendered   []renderedSet
	renderErrs []string
)

// renderAll renders every overlay and variant with the kustomize API (the
// one kubectl embeds), in memory from a copy of configs/kubernetes, and
// decodes each object strictly.
func renderAll(t *testing.T) []renderedSet {
	t.Helper()
	renderOnce.Do(func() { rendered, renderErrs = render(t) })
	for _, e := range renderErrs {
		t.Error(e)
	}
	if len(rendered) != len(overlays)*len(variants) {
		t.Fatalf("rendered %d sets, want %d", len(rendered), len(overlays)*len(variants))
	}
	return rendered
}

func render(t *testing.T) ([]renderedSet, []string) {
	var errs []string
	mem := filesys.MakeFsInMemory()
	const root = "/k"
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "validate" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", p)
		return mem.WriteFile(path.Join(root, filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, []string{"copying configs/kubernetes: " + err.Error()}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	var sets []renderedSet
	for _, o := range overlays {
		dir := path.Join(root, "overlays", o)
		kust, err := mem.ReadFile(path.Join(dir, "kustomization.yaml"))
		if err != nil {
			errs = append(errs, "overlay "+o+": "+err.Error())
			continue
		}
		if strings.Count(string(kust), shippedWorkload) != 1 {
			errs = append(errs, "overlay "+o+": its kustomization.yaml must list its workload once, as "+strings.TrimSpace(shippedWorkload))
			continue
		}
		for i, v := range variants {
			s := renderedSet{name: o, overlay: o, workloads: v.workloads, extras: v.extras}
			vdir := dir
			if i > 0 {
				components := append(slices.Clone(v.workloads), v.extras...)
				s.name = o + " with " + strings.Join(components, ", ")
				lines := ""
				for _, c := range components {
					lines += "  - ../../components/" + c + "\n"
				}
				vdir = path.Join(root, "overlays", o+"-variant-"+string(rune('a'+i)))
				if err := mem.WriteFile(path.Join(vdir, "kustomization.yaml"), []byte(strings.Replace(string(kust), shippedWorkload, lines, 1))); err != nil {
					errs = append(errs, err.Error())
					continue
				}
			}
			rm, err := k.Run(mem, vdir)
			if err != nil {
				errs = append(errs, s.name+": kustomize: "+err.Error())
				continue
			}
			out, err := rm.AsYaml()
			if err != nil {
				errs = append(errs, s.name+": "+err.Error())
				continue
			}
			s.objs = decodeDocs(t, s.name, out)
			sets = append(sets, s)
		}
	}
	return sets, errs
}

// allManifests is every object of every rendered set.
func allManifests(t *testing.T) []manifest {
	t.Helper()
	var out []manifest
	for _, s := range renderAll(t) {
		out = append(out, s.objs...)
	}
	return out
}

func (s renderedSet) has(component string) bool { return slices.Contains(s.extras, component) }
