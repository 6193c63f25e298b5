package defaults_test

import (
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/metadata"
)

// TestTemplatesValid loads every shipped template through the same checks
// as crm validate: the JSON Schema and semantic checks of every document
// and every stage of check.Schema (formulas, policies, record schemas,
// document kinds' compilers).
func TestTemplatesValid(t *testing.T) {
	t.Parallel()
	names := defaults.Names()
	if len(names) == 0 {
		t.Fatal("no built-in templates")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, s, err := defaults.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Objects) == 0 {
				t.Fatalf("template %s has no objects", name)
			}
			if _, ps := check.Schema(s); len(ps) > 0 {
				t.Fatal(ps)
			}
		})
	}
}

func TestStandardHasCoreObjects(t *testing.T) {
	t.Parallel()
	_, s, err := defaults.Load("standard")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lead", "account", "contact", "opportunity", "activity"} {
		if _, ok := s.Object(name); !ok {
			t.Errorf("standard template lacks %s", name)
		}
	}
	for _, name := range []string{"admin", "sales_manager", "sales_rep", "marketing", "service_agent"} {
		found := false
		for _, r := range s.Roles {
			found = found || r.Name == name
		}
		if !found {
			t.Errorf("standard template lacks role %s", name)
		}
	}
	opp, _ := s.Object("opportunity")
	stage, _ := opp.Field("stage")
	won, ok := stage.Option("won")
	if !ok || won.Attrs["probability"] != int64(100) {
		t.Errorf("opportunity stage won should carry probability 100, got %v", won)
	}
}

// TestExtendsBuiltIn overlays a small template on the built-in standard
// one, as a folder on disk would through defaults.WithBases.
func TestExtendsBuiltIn(t *testing.T) {
	t.Parallel()
	child := defaults.WithBases(fstest.MapFS{
		"template.yaml":           {Data: []byte("name: machines\nextends: standard")},
		"objects/competitor.yaml": {Data: []byte("name: competitor\nlabel: {en: Rival, zh: 对手}\nfields:\n  - {name: last_name, type: text, required: true}\n  - {name: machine_count, type: integer}")},
		"objects/machine.yaml":    {Data: []byte("name: machine\nfields:\n  - {name: name, type: text}\n  - {name: account, type: lookup, target: account}")},
	})
	tpl, s, ps := metadata.LoadFS(child)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if tpl.Name != "machines" {
		t.Fatalf("manifest %+v", tpl)
	}
	rival, _ := s.Object("competitor")
	if rival.Title("en") != "Rival" || len(rival.Fields) != 2 {
		t.Fatalf("competitor not replaced: %+v", rival)
	}
	if _, ok := s.Object("machine"); !ok {
		t.Fatal("machine not added")
	}
	if _, ok := s.Object("opportunity"); !ok {
		t.Fatal("standard's opportunity missing")
	}
	if _, ps := check.Schema(s); len(ps) > 0 {
		t.Fatal(ps)
	}
}
