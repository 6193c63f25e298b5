package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// Conflict is a value that both the administrators and the new template
// changed, differently, since the template was installed; the upgrade
// keeps the administrators' value.
type Conflict struct {
	// Path names the value: objects/lead/fields/email/label/zh.
	Path string `json:"path"`
	// Installed, Current and Template are the value as installed, as it is
	// now and as the new template has it (absent: nil).
	Installed any `json:"installed"`
	Current   any `json:"current"`
	Template  any `json:"template"`
}

// String describes the conflict in one line.
func (c Conflict) String() string {
	return fmt.Sprintf("%s: changed here to %s, the template changes it to %s (kept %s)", c.Path, show(c.Current), show(c.Template), show(c.Current))
}

// show writes a value compactly for a message.
func show(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// absent marks a value missing on one side of a merge.
type absentValue struct{}

var absent = absentValue{}

// Merge merges three versions of a schema: base (the template as
// installed), current (the metadata now) and next (the new template). It
// returns the merged schema and the conflicts, where current's value was
// kept.
func Merge(base, current, next *metadata.Schema) (*metadata.Schema, []Conflict, error) {
	var m merger
	out := m.merge("", tree(base), tree(current), tree(next))
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, nil, fmt.Errorf("templates: merge: %w", err)
	}
	var s metadata.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("templates: merge: %w", err)
	}
	return &s, m.conflicts, nil
}

// tree turns a schema into JSON values (maps, lists, json.Number …).
func tree(s *metadata.Schema) any {
	if s == nil {
		s = &metadata.Schema{}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("templates: schema as JSON: %v", err))
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		panic(fmt.Sprintf("templates: schema as JSON: %v", err))
	}
	return v
}

// merger collects conflicts.
type merger struct{ conflicts []Conflict }

// identities are the keys that name the items of a list, in the order
// they are tried: documents, fields and rules have a name, options a
// value, permissions an object.
var identities = []string{"name", "value", "object"}

// merge merges one value three ways.
func (m *merger) merge(path string, b, c, n any) any {
	switch {
	case same(c, n):
		return c
	case same(b, c):
		return n
	case same(b, n):
		return c
	}
	if cm, ok := c.(map[string]any); ok {
		if nm, ok := n.(map[string]any); ok {
			bm, _ := b.(map[string]any)
			return m.mergeMaps(path, bm, cm, nm)
		}
	}
	if cl, ok := c.([]any); ok {
		if nl, ok := n.([]any); ok {
			bl, _ := b.([]any)
			if key := identity(bl, cl, nl); key != "" {
				return m.mergeLists(path, key, bl, cl, nl)
			}
		}
	}
	m.conflicts = append(m.conflicts, Conflict{Path: strings.TrimPrefix(path, "/"), Installed: value(b), Current: value(c), Template: value(n)})
	return c
}

// value is v for a report, nil when absent.
func value(v any) any {
	if v == absent {
		return nil
	}
	return v
}

// mergeMaps merges maps key by key.
func (m *merger) mergeMaps(path string, b, c, n map[string]any) any {
	keys := map[string]bool{}
	for _, mm := range []map[string]any{b, c, n} {
		for k := range mm {
			keys[k] = true
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, k := range names {
		v := m.merge(path+"/"+k, get(b, k), get(c, k), get(n, k))
		if v != absent {
			out[k] = v
		}
	}
	return out
}

// get is m[k], or absent.
func get(m map[string]any, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	return absent
}

// mergeLists merges lists of named items item by item, in current's
// order, with the items only next has inserted after the item they follow
// in next.
func (m *merger) mergeLists(path, key string, b, c, n []any) any {
	bi, ci, ni := index(b, key), index(c, key), index(n, key)
	var order []string
	for _, it := range c {
		order = append(order, name(it, key))
	}
	for i, it := range n {
		k := name(it, key)
		if _, ok := ci[k]; ok {
			continue
		}
		if _, ok := bi[k]; ok {
			continue // removed here: the merge below decides
		}
		at := 0
		if i > 0 {
			prev := name(n[i-1], key)
			for j, o := range order {
				if o == prev {
					at = j + 1
				}
			}
		}
		order = append(order[:at], append([]string{k}, order[at:]...)...)
	}
	for _, it := range b {
		k := name(it, key)
		if _, ok := ci[k]; !ok && !contains(order, k) {
			order = append(order, k)
		}
	}
	var out []any
	for _, k := range order {
		v := m.merge(path+"/"+k, lookup(bi, k), lookup(ci, k), lookup(ni, k))
		if v != absent {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lookup is idx[k], or absent.
func lookup(idx map[string]any, k string) any {
	if v, ok := idx[k]; ok {
		return v
	}
	return absent
}

// identity is the key naming every item of the lists uniquely, or "" when
// the lists are plain values.
func identity(lists ...[]any) string {
	for _, key := range identities {
		ok := true
		for _, l := range lists {
			seen := map[string]bool{}
			for _, it := range l {
				k := name(it, key)
				if k == "" || seen[k] {
					ok = false
					break
				}
				seen[k] = true
			}
		}
		if ok {
			return key
		}
	}
	return ""
}

// name is the identity of an item of a list ("" if it has none).
func name(it any, key string) string {
	mm, ok := it.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := mm[key].(string)
	return s
}

// index maps the items of a list by their identity.
func index(l []any, key string) map[string]any {
	out := make(map[string]any, len(l))
	for _, it := range l {
		out[name(it, key)] = it
	}
	return out
}

// same reports whether two JSON values are equal.
func same(a, b any) bool { return reflect.DeepEqual(a, b) }
