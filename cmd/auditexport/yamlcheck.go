package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// readConfigFile decodes a config file into c and reports every problem in it at
// once, in the file's own terms: each unknown key by its dotted path with
// the setting it most likely meant, and each value that is not of its
// setting's type, with the file's line. Keys are checked against the
// settings of every registered source kind, so a kind's settings need no
// list of their own here. It returns nil when the file is sound; c then
// holds what it sets.
func readConfigFile(path string, c *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ConfigError{Setting: "--config", Value: path, Problem: "cannot read the file: " + err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return &ConfigError{Setting: "--config", Value: path, Problem: "is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &ConfigError{Setting: "--config", Value: path, Problem: "must be a mapping of sections (source:, destination: ...)"}
	}
	ck := newYAMLChecker(path)
	ck.mapping(root, "")

	// Decode what is sound; the checks above have named everything else.
	// Unknown keys are skipped here, and a value yaml cannot decode is
	// reported by its line, unless it was named already.
	if err := yaml.Unmarshal(data, c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return &ConfigError{Setting: "--config", Value: path, Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		for _, m := range te.Errors {
			ck.typeError(m)
		}
	}
	return ck.err()
}

// yamlChecker walks a config file's nodes against the known settings.
type yamlChecker struct {
	path     string
	leaves   map[string]setting         // dotted key -> setting
	lists    map[string][]string        // dotted key of a list of mappings -> its entries' keys
	children map[string]map[string]bool // dotted section ("" for the top) -> its keys
	problems []error
	named    map[int]bool   // lines with a problem already
	lineKey  map[int]string // line -> the dotted key on it
}

func newYAMLChecker(path string) *yamlChecker {
	scratch := defaultConfig()
	settings, lists := settingsAndLists(&scratch)
	ck := &yamlChecker{
		path: path, leaves: map[string]setting{}, lists: map[string][]string{},
		children: map[string]map[string]bool{}, named: map[int]bool{}, lineKey: map[int]string{},
	}
	add := func(key string) {
		parent, name := "", key
		if i := strings.LastIndexByte(key, '.'); i >= 0 {
			parent, name = key[:i], key[i+1:]
		}
		for {
			if ck.children[parent] == nil {
				ck.children[parent] = map[string]bool{}
			}
			ck.children[parent][name] = true
			if parent == "" {
				return
			}
			if i := strings.LastIndexByte(parent, '.'); i >= 0 {
				parent, name = parent[:i], parent[i+1:]
			} else {
				parent, name = "", parent
			}
		}
	}
	for _, s := range settings {
		ck.leaves[s.key] = s
		add(s.key)
	}
	for key, elem := range lists {
		add(key)
		for i := 0; i < elem.NumField(); i++ {
			if name, _, _ := strings.Cut(elem.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
				ck.lists[key] = append(ck.lists[key], name)
			}
		}
	}
	return ck
}

func (ck *yamlChecker) where(line int) string { return fmt.Sprintf("%s line %d", ck.path, line) }

func (ck *yamlChecker) bad(key string, line int, value, problem string) {
	ck.named[line] = true
	ck.problems = append(ck.problems, &ConfigError{Setting: key, Value: value, Problem: problem + " (" + ck.where(line) + ")"})
}

// mapping checks the keys of a section at prefix ("" or "source.").
func (ck *yamlChecker) mapping(n *yaml.Node, prefix string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		ck.lineKey[k.Line] = key
		switch {
		case ck.leaves[key].key != "":
			ck.leaf(ck.leaves[key], k, v)
		case ck.lists[key] != nil:
			ck.list(key, v)
		case ck.children[key] != nil:
			switch v.Kind {
			case yaml.MappingNode:
				ck.mapping(v, key+".")
			case yaml.ScalarNode:
				if v.Tag != "!!null" {
					ck.bad(key, k.Line, "", "is a section: give its settings under it ("+ck.known(key)+")")
				}
			default:
				ck.bad(key, k.Line, "", "is a section: give its settings under it, not a list")
			}
		default:
			ck.unknown(key, k.Line, strings.TrimSuffix(prefix, "."), ck.children[strings.TrimSuffix(prefix, ".")])
		}
	}
}

// known lists the keys of a section, for a message.
func (ck *yamlChecker) known(section string) string {
	var names []string
	for n := range ck.children[section] {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// unknown reports a key that is no setting, with the sibling it most
// likely meant, or where a setting of that name lives.
func (ck *yamlChecker) unknown(key string, line int, section string, siblings map[string]bool) {
	name := key[strings.LastIndexByte(key, '.')+1:]
	var names []string
	for n := range siblings {
		names = append(names, n)
	}
	sort.Strings(names)
	if m := closest(name, names); m != "" {
		full := m
		if section != "" {
			full = section + "." + m
		}
		ck.bad(key, line, "", "is not a setting; did you mean "+full+"?")
		return
	}
	var elsewhere []string
	for k := range ck.leaves {
		if strings.HasSuffix(k, "."+name) {
			elsewhere = append(elsewhere, k)
		}
	}
	sort.Strings(elsewhere)
	switch {
	case len(elsewhere) > 0:
		ck.bad(key, line, "", "is not a setting here; did you mean "+orList(elsewhere)+"?")
	case section == "":
		ck.bad(key, line, "", "is not a section (the sections are "+ck.known("")+")")
	default:
		ck.bad(key, line, "", "is not a setting ("+section+" takes "+ck.known(section)+")")
	}
}

// leaf checks a setting's value: a single value of its type, or a list
// of values for a list setting.
func (ck *yamlChecker) leaf(s setting, k, v *yaml.Node) {
	if s.v.Kind() == reflect.Slice {
		if v.Kind == yaml.SequenceNode {
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					ck.bad(s.key, e.Line, "", "must be a list of values (e.g. [EVENT_ID])")
					return
				}
			}
			return
		}
		if v.Kind != yaml.ScalarNode || v.Tag != "!!null" {
			ck.bad(s.key, k.Line, "", "must be a list (e.g. [EVENT_ID])")
		}
		return
	}
	switch v.Kind {
	case yaml.ScalarNode:
	case yaml.MappingNode:
		ck.bad(s.key, k.Line, "", "must be a single value, not a mapping")
		return
	default:
		ck.bad(s.key, k.Line, "", "must be a single value, not a list")
		return
	}
	if v.Tag == "!!null" {
		return
	}
	// s belongs to the checker's scratch config: parsing into it is harmless.
	if err := s.set(v.Value); err != nil {
		ck.bad(s.key, v.Line, shown(s, v.Value), err.Error())
	}
}

// list checks a list of mappings (schema.columns): each entry's keys.
func (ck *yamlChecker) list(key string, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		ck.bad(key, v.Line, "", "must be a list of mappings (- header: ... id: ...)")
		return
	}
	fields := map[string]bool{}
	for _, f := range ck.lists[key] {
		fields[f] = true
	}
	for i, e := range v.Content {
		entry := fmt.Sprintf("%s[%d]", key, i)
		if e.Kind != yaml.MappingNode {
			ck.bad(entry, e.Line, "", "must be a mapping ("+strings.Join(ck.lists[key], ", ")+")")
			continue
		}
		for j := 0; j+1 < len(e.Content); j += 2 {
			fk := e.Content[j]
			ck.lineKey[fk.Line] = entry + "." + fk.Value
			if !fields[fk.Value] {
				if m := closest(fk.Value, ck.lists[key]); m != "" {
					ck.bad(entry+"."+fk.Value, fk.Line, "", "is not a field; did you mean "+m+"?")
				} else {
					ck.bad(entry+"."+fk.Value, fk.Line, "", "is not a field (an entry takes "+strings.Join(ck.lists[key], ", ")+")")
				}
			}
		}
	}
}

var typeErrorLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeError reports one of yaml's decoding errors not named already, by
// the key on its line, without Go's type names.
func (ck *yamlChecker) typeError(msg string) {
	m := typeErrorLine.FindStringSubmatch(msg)
	if m == nil {
		ck.problems = append(ck.problems, &ConfigError{Setting: "--config", Value: ck.path, Problem: msg})
		return
	}
	line, _ := strconv.Atoi(m[1])
	if ck.named[line] {
		return
	}
	problem := m[2]
	if i := strings.Index(problem, " into "); i >= 0 {
		problem = problem[:i] // "cannot unmarshal !!str `x` into main.Foo": Go's name is no help
	}
	problem = strings.Replace(problem, "cannot unmarshal", "cannot read", 1)
	key := ck.lineKey[line]
	if key == "" {
		key = "--config"
	}
	ck.bad(key, line, "", problem)
}

func (ck *yamlChecker) err() error {
	return errors.Join(ck.problems...)
}

// closest is the name among names nearest to s by edit distance, when it
// is near enough to be a typo of it (one edit per three letters), else "".
func closest(s string, names []string) string {
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		if d := levenshtein.ComputeDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD || d == bestD && best == "" {
			best, bestD = n, d
		}
	}
	if best == s {
		return ""
	}
	return best
}

// flatJoin joins errors, flattening nested joins, so each problem is one
// entry (config validate --json lists them).
func flatJoin(errs ...error) error {
	var out []error
	for _, e := range errs {
		out = append(out, splitJoined(e)...)
	}
	return errors.Join(out...)
}
