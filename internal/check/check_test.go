package check

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/metadata"
)

// load reads a template made of the given files (template.yaml added).
func load(t *testing.T, files map[string]string) (*metadata.Schema, metadata.Problems) {
	t.Helper()
	m := fstest.MapFS{"template.yaml": {Data: []byte("name: t")}}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	_, s, ps := metadata.LoadFS(m)
	return s, ps
}

// want is a problem expected at a file and path, with a part of its
// message.
type want struct{ file, path, msg string }

func TestEveryStageInOneRun(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{"formula cycle beside a semantic problem", map[string]string{
			"objects/deal.yaml": `name: deal
fields:
  - {name: a, type: integer, formula: "b + 1"}
  - {name: b, type: integer, formula: "a + 1"}
  - {name: acc, type: lookup, target: nowhere}`,
			"objects/item.yaml": "name: item\nfields:\n  - {name: size, type: huge}",
		}, []want{{"objects/item.yaml", "/fields/0/type", ""}, {"objects/deal.yaml", "/fields/2/target", "nowhere"}, {"objects/deal.yaml", "", "cycle"}}},
		{"formula naming an unknown field", map[string]string{
			"objects/deal.yaml": "name: deal\nfields:\n  - {name: a, type: integer, formula: \"missing * 2\"}",
		}, []want{{"objects/deal.yaml", "/fields/0/formula", "missing"}}},
		{"validation rule that does not compile", map[string]string{
			"objects/deal.yaml": "name: deal\nfields:\n  - {name: a, type: integer}\nvalidation_rules:\n  - {name: r, condition: \"a +\", message: bad}",
		}, []want{{"objects/deal.yaml", "/validation_rules/0/condition", ""}}},
		{"sharing rule condition", map[string]string{
			"objects/deal.yaml": "name: deal\nfields:\n  - {name: a, type: integer}",
			"roles/rep.yaml":    "name: rep\nsharing_rules:\n  - {name: big, object: deal, condition: 'colour == \"red\"', access: read}",
		}, []want{{"roles/rep.yaml", "/sharing_rules/0/condition", "colour"}}},
		{"me() in a sharing rule", map[string]string{
			"objects/deal.yaml": "name: deal\nfields:\n  - {name: a, type: integer}",
			"roles/rep.yaml":    "name: rep\nsharing_rules:\n  - {name: mine, object: deal, condition: 'owner_id == me()', access: read}",
		}, []want{{"roles/rep.yaml", "/sharing_rules/0/condition", "no one reads"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ps := load(t, c.files)
			_, cps := Schema(s)
			ps = append(ps, cps...)
			for _, w := range c.want {
				found := false
				for _, p := range ps {
					found = found || (p.File == w.file && (w.path == "" || p.Path == w.path) && strings.Contains(p.Message, w.msg))
				}
				if !found {
					t.Errorf("no problem %s %s %q in:\n%v", w.file, w.path, w.msg, ps)
				}
			}
		})
	}
}

func TestSoundSchemaCompiles(t *testing.T) {
	s, ps := load(t, map[string]string{
		"objects/deal.yaml": "name: deal\nfields:\n  - {name: a, type: integer}\n  - {name: b, type: integer, formula: \"a * 2\"}",
		"roles/rep.yaml":    "name: rep\npermissions:\n  - {object: deal, actions: [read]}\nsharing_rules:\n  - {name: big, object: deal, condition: 'a > 10', access: read}",
	})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	res, ps := Schema(s)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if res.Formulas.Object("deal") == nil || res.RecordSchemas["deal"] == nil || len(res.Policies) == 0 {
		t.Fatalf("incomplete result: %+v", res)
	}
}

func TestUnknownFieldTypeDoesNotStopLaterStages(t *testing.T) {
	s := &metadata.Schema{Objects: []*metadata.Object{{Name: "deal", Fields: []*metadata.Field{
		{Name: "gadget", Type: "gadget"},
		{Name: "a", Type: "integer", Formula: "nothing + 1"},
	}}}}
	_, ps := Schema(s)
	var got []string
	for _, p := range ps {
		got = append(got, p.Path+" "+p.Message)
	}
	all := strings.Join(got, "\n")
	if !strings.Contains(all, `/fields/0/type unknown field type "gadget"`) || !strings.Contains(all, "/fields/1/formula") || !strings.Contains(all, "nothing") {
		t.Fatalf("problems:\n%s", all)
	}
}

// TestSchemaAfterRecompilesOnlyChangedRecordSchemas changes one object of
// two: the other keeps the record schema compiled before, the changed
// one checks records by its new definition, and a bad definition is
// still reported.
func TestSchemaAfterRecompilesOnlyChangedRecordSchemas(t *testing.T) {
	files := map[string]string{
		"objects/deal.yaml": "name: deal\nfields:\n  - {name: stage, type: picklist, options: [{value: open}]}",
		"objects/note.yaml": "name: note\nfields:\n  - {name: body, type: text}",
	}
	s, ps := load(t, files)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	prev, ps := Schema(s)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	files["objects/deal.yaml"] = "name: deal\nfields:\n  - {name: stage, type: picklist, options: [{value: open}, {value: won}]}"
	changed, ps := load(t, files)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	next, ps := SchemaAfter(changed, prev)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if next.RecordSchemas["note"] != prev.RecordSchemas["note"] {
		t.Error("the unchanged note's record schema was compiled again")
	}
	if next.RecordSchemas["deal"] == prev.RecordSchemas["deal"] {
		t.Fatal("the changed deal kept its old record schema")
	}
	won := map[string]any{"stage": "won"}
	if errs := metadata.RecordErrors(prev.RecordSchemas["deal"], won); errs["stage"] == "" {
		t.Errorf("the old deal schema accepts won: %v", errs)
	}
	if errs := metadata.RecordErrors(next.RecordSchemas["deal"], won); len(errs) > 0 {
		t.Errorf("the new deal schema refuses won: %v", errs)
	}
	bad := changed.Clone()
	bad.Objects[1].Fields = append(bad.Objects[1].Fields, &metadata.Field{Name: "gadget", Type: "gadget"})
	if _, ps := SchemaAfter(bad, next); len(ps) == 0 {
		t.Error("a bad change after a good one was accepted")
	}
}
