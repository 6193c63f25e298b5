package metadata

import (
	"fmt"
	"strings"
	"testing"
)

// parseSchema parses object documents into a schema, failing the test on
// parse problems.
func parseSchema(t *testing.T, docs ...string) (*Schema, Problems) {
	t.Helper()
	s := &Schema{}
	var all Problems
	for i, d := range docs {
		file := "objects/" + string(rune('a'+i)) + ".yaml"
		o, ps := ParseObject(file, []byte(d))
		all = append(all, ps...)
		if o != nil {
			s.Objects = append(s.Objects, o)
			s.SetSource(DocObject, o.Name, file)
		}
	}
	return s, all
}

func TestDefinitionErrors(t *testing.T) {
	cases := []struct {
		name string
		docs []string
		file string
		path string
		msg  string
	}{
		{"bad type", []string{"name: thing\nfields:\n  - {name: size, type: huge}"}, "objects/a.yaml", "/fields/0/type", "must be one of"},
		{"missing target", []string{"name: thing\nfields:\n  - {name: owner_account, type: lookup, target: nowhere}"}, "objects/a.yaml", "/fields/0/target", `unknown target object "nowhere"`},
		{"lookup without target", []string{"name: thing\nfields:\n  - {name: acc, type: lookup}"}, "objects/a.yaml", "/fields/0/target", "needs a target"},
		{"bad identifier", []string{"name: thing\nfields:\n  - {name: Big-Name, type: text}"}, "objects/a.yaml", "/fields/0/name", "must start with a lowercase letter"},
		{"sql-looking object name", []string{"name: \"x; drop table users\"\nfields: []"}, "objects/a.yaml", "/name", "hold only lowercase letters"},
		{"sql keyword as field", []string{"name: thing\nfields:\n  - {name: select, type: text}"}, "objects/a.yaml", "/fields/0/name", "reserved word"},
		{"system field", []string{"name: thing\nfields:\n  - {name: owner_id, type: text}"}, "objects/a.yaml", "/fields/0/name", "system field"},
		{"reserved prefix", []string{"name: crm_users\nfields: []"}, "objects/a.yaml", "/name", "reserved for system tables"},
		{"double underscore", []string{"name: a__b\nfields: []"}, "objects/a.yaml", "/name", "double underscore"},
		{"duplicate field", []string{"name: thing\nfields:\n  - {name: a, type: text}\n  - {name: a, type: integer}"}, "objects/a.yaml", "/fields/1/name", "defined twice"},
		{"unknown key", []string{"name: thing\nfields:\n  - {name: a, type: text, colour: red}"}, "objects/a.yaml", "/fields/0", "unknown key"},
		{"picklist without options", []string{"name: thing\nfields:\n  - {name: a, type: picklist}"}, "objects/a.yaml", "/fields/0/options", "at least one option"},
		{"bad default", []string{"name: thing\nfields:\n  - {name: n, type: integer, default: abc}"}, "objects/a.yaml", "/fields/0/default", "whole number"},
		{"bad cascade value", []string{"name: thing\nfields:\n  - {name: c, type: picklist, options: [{value: cn}]}\n  - {name: p, type: picklist, depends_on: c, options: [{value: zj, when: [us]}]}"}, "objects/a.yaml", "/fields/1/options/0/when/0", `"us" is not a value`},
		{"bad regex", []string{"name: thing\nfields:\n  - {name: a, type: text, pattern: \"([\"}"}, "objects/a.yaml", "/fields/0/pattern", "regular expression"},
		{"auto number without counter", []string{"name: thing\nfields:\n  - {name: no, type: auto_number, format: \"CT-{YYYY}\"}"}, "objects/a.yaml", "/fields/0/format", "exactly one counter"},
		{"bad label", []string{"name: thing\nlabel: {English: Thing}\nfields: []"}, "objects/a.yaml", "/label", ""},
		{"not yaml", []string{"name: [unclosed"}, "objects/a.yaml", "", "not valid YAML"},
		{"sqlite's table", []string{"name: sqlite_master\nfields: []"}, "objects/a.yaml", "/name", "reserved for the database's own tables"},
		{"sqlite's statistics", []string{"name: sqlite_stat1\nfields: []"}, "objects/a.yaml", "/name", "prefix sqlite_"},
		{"postgresql's catalog", []string{"name: pg_class\nfields: []"}, "objects/a.yaml", "/name", "prefix pg_"},
		{"system table", []string{"name: crm_meta_versions\nfields: []"}, "objects/a.yaml", "/name", "reserved for system tables"},
		{"too many fields", []string{manyFields(MaxFields + 1)}, "objects/a.yaml", "/fields", "at most 500"},
		{"master-detail text", []string{"name: thing\nfields:\n  - {name: a, type: text, master_detail: true}"}, "objects/a.yaml", "/fields/0/master_detail", "only a lookup"},
		{"master-detail not required", []string{"name: quote\nfields: []", "name: line\nfields:\n  - {name: quote, type: lookup, target: quote, on_delete: cascade, master_detail: true}"}, "objects/b.yaml", "/fields/0/master_detail", "required and cascade"},
		{"master-detail restricting", []string{"name: quote\nfields: []", "name: line\nfields:\n  - {name: quote, type: lookup, target: quote, required: true, master_detail: true}"}, "objects/b.yaml", "/fields/0/master_detail", "required and cascade"},
		{"two masters", []string{"name: quote\nfields: []", "name: line\nfields:\n  - {name: q1, type: lookup, target: quote, required: true, on_delete: cascade, master_detail: true}\n  - {name: q2, type: lookup, target: quote, required: true, on_delete: cascade, master_detail: true}"}, "objects/b.yaml", "/fields/1/master_detail", "one master"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ps := parseSchema(t, c.docs...)
			if len(ps) == 0 {
				ps = Validate(s)
			}
			for _, p := range ps {
				if p.File == c.file && p.Path == c.path && strings.Contains(p.Message, c.msg) {
					return
				}
			}
			t.Fatalf("want a problem at %s %s containing %q, got %v", c.file, c.path, c.msg, ps)
		})
	}
}

// manyFields is an object document with n text fields.
func manyFields(n int) string {
	var b strings.Builder
	b.WriteString("name: wide\nfields:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {name: f%d, type: text}\n", i)
	}
	return b.String()
}

func TestFieldLimit(t *testing.T) {
	s, ps := parseSchema(t, manyFields(MaxFields))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if ps := Validate(s); len(ps) > 0 {
		t.Fatalf("%d fields are allowed: %v", MaxFields, ps)
	}
}

func TestValidSchemaHasNoProblems(t *testing.T) {
	s, ps := parseSchema(t,
		"name: account\nlabel: {en: Account, zh: 客户}\nfields:\n  - {name: name, type: text, required: true}",
		"name: contact\nfields:\n  - {name: account, type: lookup, target: account, on_delete: cascade}\n  - {name: tags, type: multi_picklist, options: [{value: vip}, {value: new, label: New, colour: green}]}")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if ps := Validate(s); len(ps) > 0 {
		t.Fatal(ps)
	}
	c, _ := s.Object("contact")
	tags, _ := c.Field("tags")
	if opt, _ := tags.Option("new"); opt.Attrs["colour"] != "green" {
		t.Errorf("free option attribute lost: %v", opt.Attrs)
	}
}

func TestDiff(t *testing.T) {
	old, _ := parseSchema(t, "name: a\nfields:\n  - {name: x, type: integer}\n  - {name: y, type: text}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}")
	cases := []struct {
		name  string
		doc   string
		kind  ChangeKind
		lossy bool
	}{
		{"add field", "name: a\nfields:\n  - {name: x, type: integer}\n  - {name: y, type: text}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}\n  - {name: z, type: date}", AddField, false},
		{"drop field", "name: a\nfields:\n  - {name: x, type: integer}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}", DropField, false},
		{"widen", "name: a\nfields:\n  - {name: x, type: decimal}\n  - {name: y, type: text}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}", ChangeType, false},
		{"narrow", "name: a\nfields:\n  - {name: x, type: integer}\n  - {name: y, type: integer}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}", ChangeType, true},
		{"drop option", "name: a\nfields:\n  - {name: x, type: integer}\n  - {name: y, type: text}\n  - {name: p, type: picklist, options: [{value: one}]}", DropOptions, false},
		{"relabel", "name: a\nlabel: A\nfields:\n  - {name: x, type: integer}\n  - {name: y, type: text}\n  - {name: p, type: picklist, options: [{value: one}, {value: two}]}", AlterObject, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, _ := parseSchema(t, c.doc)
			changes := Diff(old, next)
			if len(changes) != 1 || changes[0].Kind != c.kind || changes[0].Lossy != c.lossy {
				t.Fatalf("want one %s (lossy %v), got %v", c.kind, c.lossy, changes)
			}
		})
	}
}

// TestDiffMasterDetail: making a lookup master-detail, or no longer, is a
// field change without a table change that the plan names.
func TestDiffMasterDetail(t *testing.T) {
	doc := func(md bool) string {
		return fmt.Sprintf("name: line\nfields:\n  - {name: quote, type: lookup, target: quote, required: true, on_delete: cascade, master_detail: %v}", md)
	}
	for _, c := range []struct {
		from, to bool
		want     string
	}{{false, true, "becomes part of its target"}, {true, false, "no longer master-detail"}} {
		old, _ := parseSchema(t, "name: quote\nfields: []", doc(c.from))
		next, _ := parseSchema(t, "name: quote\nfields: []", doc(c.to))
		changes := Diff(old, next)
		if len(changes) != 1 || changes[0].Kind != AlterField || !strings.Contains(changes[0].Reason, c.want) {
			t.Errorf("master_detail %v to %v: want one alter_field saying %q, got %v", c.from, c.to, c.want, changes)
		}
	}
}
