package definition_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
)

// load overlays files on the standard template and returns the schema and
// every problem of loading and of the database-free check.
func load(t *testing.T, files map[string]string) (*metadata.Schema, metadata.Problems) {
	t.Helper()
	fsys := fstest.MapFS{"template.yaml": {Data: []byte("name: test\nextends: standard")}}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	_, s, ps := metadata.LoadFS(defaults.WithBases(fsys))
	if len(ps) > 0 {
		return s, ps
	}
	_, ps = check.Schema(s)
	return s, ps
}

// problemCase is a document and the problems it must have.
type problemCase struct {
	name string
	file string
	doc  string
	// want lists "path: message part" items every one of which must be
	// found; empty when the document is valid.
	want []string
}

// runProblemCases loads each case's document and compares its problems.
func runProblemCases(t *testing.T, cases []problemCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ps := load(t, map[string]string{c.file: c.doc})
			if len(c.want) == 0 {
				if len(ps) > 0 {
					t.Fatalf("unexpected problems: %v", ps)
				}
				return
			}
			for _, w := range c.want {
				path, msg, _ := strings.Cut(w, ": ")
				found := false
				for _, p := range ps {
					found = found || (p.File == c.file && p.Path == path && strings.Contains(p.Message, msg))
				}
				if !found {
					t.Errorf("no problem %q in %s; got %v", w, c.file, ps)
				}
			}
		})
	}
}

func TestStateWorkflowChecks(t *testing.T) {
	const file = "state_workflows/lead_status.yaml"
	runProblemCases(t, []problemCase{
		{"valid", file, `
name: lead_status
object: lead
field: status
transitions:
  - {from: new, to: contacted}
  - {from: [new, contacted], to: qualified, condition: "email != '' || phone != ''", roles: [sales_rep]}
  - {from: "*", to: disqualified}`, nil},
		{"unknown object", file, "name: lead_status\nobject: nothing\nfield: status\ntransitions: [{from: a, to: b}]",
			[]string{"/object: no object \"nothing\""}},
		{"not a picklist", file, "name: lead_status\nobject: lead\nfield: company\ntransitions: [{from: a, to: b}]",
			[]string{"/field: lead.company is not a picklist"}},
		{"bad values, role and condition", file, `
name: lead_status
object: lead
field: status
transitions:
  - {from: [new, old], to: gone, roles: [nobody], condition: "email * 2"}
  - {from: new, to: new}`, []string{
			"/transitions/0/from: \"old\" is not an option of status",
			"/transitions/0/to: \"gone\" is not an option of status",
			"/transitions/0/roles/0: no role \"nobody\"",
			"/transitions/0/condition: line 1",
			"/transitions/1/to: changes nothing",
		}},
		{"unknown key", file, "name: lead_status\nobject: lead\nfield: status\ntransitions: [{from: new, to: contacted, when: x}]",
			[]string{"/transitions/0: "}},
		{"a second workflow for the field", "state_workflows/second.yaml", "name: second_stage\nobject: opportunity\nfield: stage\ntransitions: [{from: qualify, to: needs}]",
			[]string{"/field: state workflow \"opportunity_stage\" already governs opportunity.stage"}},
	})
}

func TestStandardStateWorkflow(t *testing.T) {
	s, ps := load(t, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	sw, ok := definition.StateWorkflows.Get(s, "opportunity_stage")
	if !ok || sw.Object != "opportunity" || sw.Field != "stage" {
		t.Fatalf("standard opportunity_stage: %+v", sw)
	}
}
