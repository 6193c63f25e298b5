package defaults

import "testing"

// TestTemplatesValid loads every shipped template through the same schema
// and semantic checks as user metadata.
func TestTemplatesValid(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no built-in templates")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Objects) == 0 {
				t.Fatalf("template %s has no objects", name)
			}
		})
	}
}

func TestStandardHasCoreObjects(t *testing.T) {
	_, s, err := Load("standard")
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
