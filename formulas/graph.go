package formulas

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// node names a field in the dependency graph: "object.field".
func nodeName(object, field string) string { return object + "." + field }

// edges returns what a computed field reads, as graph nodes: fields of its
// own record, fields of records its lookups reach and fields of the child
// records its roll-ups aggregate. Users are outside the graph (formulas
// cannot compute user fields).
func edges(object string, rd *reads) []string {
	var out []string
	for _, f := range sortedKeys(rd.fields) {
		out = append(out, nodeName(object, f))
	}
	var walk func(p *pathNode)
	walk = func(p *pathNode) {
		if p.object == UserObject {
			return
		}
		for _, f := range sortedKeys(p.fields) {
			out = append(out, nodeName(p.object, f))
		}
		for _, k := range sortedPathKeys(p.next) {
			walk(p.next[k])
		}
	}
	for _, k := range sortedPathKeys(rd.paths) {
		walk(rd.paths[k])
	}
	for _, r := range rd.rollups {
		for _, f := range r.Reads {
			out = append(out, nodeName(r.Child, f))
		}
	}
	return out
}

func sortedPathKeys(m map[string]*pathNode) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// order sorts the computed fields of every object so that each comes after
// the computed fields it reads, over the whole schema (a roll-up or lookup
// can close a cycle across objects), and reports each cycle with its path.
func (c *Compiled) order() metadata.Problems {
	programs := map[string]*program{}
	owner := map[string]*ObjectProgram{}
	var names []string
	for _, o := range c.schema.Objects {
		op := c.objects[o.Name]
		for _, p := range op.computed {
			n := nodeName(o.Name, p.field.Name)
			programs[n] = p
			owner[n] = op
			names = append(names, n)
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var sorted []string
	var ps metadata.Problems
	reported := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		p, computed := programs[n]
		if !computed {
			return
		}
		switch color[n] {
		case black:
			return
		case grey:
			i := len(stack) - 1
			for i > 0 && stack[i] != n {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), n)
			key := canonicalCycle(cycle)
			if !reported[key] {
				reported[key] = true
				op := owner[n]
				ps = append(ps, metadata.Problem{
					File:    c.schema.Sources[metadata.DocObject+":"+op.object.Name],
					Path:    fmt.Sprintf("/fields/%d/formula", p.index),
					Message: "formulas depend on each other in a cycle: " + strings.Join(cycle, " → "),
				})
			}
			return
		}
		color[n] = grey
		stack = append(stack, n)
		for _, d := range edges(owner[n].object.Name, p.reads) {
			visit(d)
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		sorted = append(sorted, n)
	}
	for _, n := range names {
		visit(n)
	}
	if len(ps) > 0 {
		return ps
	}
	for _, op := range c.objects {
		op.computed = op.computed[:0]
	}
	for _, n := range sorted {
		op := owner[n]
		op.computed = append(op.computed, programs[n])
	}
	return nil
}

// canonicalCycle names a cycle independently of where it was entered.
func canonicalCycle(cycle []string) string {
	ring := cycle[:len(cycle)-1]
	min := 0
	for i, n := range ring {
		if n < ring[min] {
			min = i
		}
	}
	return strings.Join(append(append([]string{}, ring[min:]...), ring[:min]...), ",")
}

// triggers gathers the roll-ups and the lookup dependencies of the schema.
func (c *Compiled) triggers() {
	type key struct{ object, path, target string }
	deps := map[key]*LookupDependency{}
	var order []key
	for _, o := range c.schema.Objects {
		op := c.objects[o.Name]
		for _, list := range [][]*program{op.computed, op.rules} {
			for _, p := range list {
				for _, r := range p.reads.rollups {
					if p.rule != nil {
						r.Rule = p.rule.Name
					}
					c.rollups = append(c.rollups, r)
				}
				var walk func(path []string, n *pathNode)
				walk = func(path []string, n *pathNode) {
					k := key{o.Name, strings.Join(path, "."), n.object}
					d := deps[k]
					if d == nil {
						d = &LookupDependency{Object: o.Name, Path: append([]string{}, path...), Target: n.object}
						deps[k] = d
						order = append(order, k)
					}
					d.Fields = union(d.Fields, sortedKeys(n.fields))
					if p.rule != nil {
						d.Rules = union(d.Rules, []string{p.rule.Name})
					} else {
						d.Computed = union(d.Computed, []string{p.field.Name})
					}
					for _, name := range sortedPathKeys(n.next) {
						walk(append(path, name), n.next[name])
					}
				}
				for _, name := range sortedPathKeys(p.reads.paths) {
					walk([]string{name}, p.reads.paths[name])
				}
			}
		}
	}
	for _, k := range order {
		c.lookupDeps = append(c.lookupDeps, *deps[k])
	}
}

// union merges two sorted string sets.
func union(a, b []string) []string {
	m := map[string]bool{}
	for _, s := range a {
		m[s] = true
	}
	for _, s := range b {
		m[s] = true
	}
	return sortedKeys(m)
}

// ChangedComputed compares two compiled versions of a schema and lists, per
// object, the computed fields whose stored values must be recomputed for
// every existing record: new computed fields, fields whose formula
// changed, and computed fields that depend (directly or through other
// computed fields of any object) on one of those. old may be nil.
func ChangedComputed(old, new *Compiled) map[string][]string {
	changed := map[string]bool{}
	for _, o := range new.schema.Objects {
		op := new.objects[o.Name]
		for _, p := range op.computed {
			n := nodeName(o.Name, p.field.Name)
			var before *program
			if old != nil {
				if oop := old.objects[o.Name]; oop != nil {
					for _, q := range oop.computed {
						if q.field.Name == p.field.Name {
							before = q
						}
					}
				}
			}
			if before == nil || before.source != p.source || before.field.Type != p.field.Type || before.field.ScaleOr(-1) != p.field.ScaleOr(-1) {
				changed[n] = true
			}
		}
	}
	// Propagate along the graph until nothing changes; computed fields are
	// in dependency order within an object, but dependencies cross
	// objects, so iterate.
	for more := true; more; {
		more = false
		for _, o := range new.schema.Objects {
			for _, p := range new.objects[o.Name].computed {
				n := nodeName(o.Name, p.field.Name)
				if changed[n] {
					continue
				}
				for _, d := range edges(o.Name, p.reads) {
					if changed[d] {
						changed[n], more = true, true
						break
					}
				}
			}
		}
	}
	out := map[string][]string{}
	for _, o := range new.schema.Objects {
		for _, p := range new.objects[o.Name].computed {
			if changed[nodeName(o.Name, p.field.Name)] {
				out[o.Name] = append(out[o.Name], p.field.Name)
			}
		}
	}
	return out
}
