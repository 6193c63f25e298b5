package workflows_test

import (
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestTransitions runs the standard template's opportunity_stage workflow:
// allowed and refused changes for a rep and a manager, a condition, the
// role of a transition, and the list of next states per user.
func TestTransitions(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`"}`)

		status, m := patch(t, s, "rep1", "opportunity", opp, `{"stage": "proposal"}`)
		wantError(t, status, m, 422, `"field":"stage"`, `"code":"transition"`, `from \"qualify\" to \"proposal\"`, "only needs, lost")

		mustPatch(t, s, "rep1", "opportunity", opp, `{"stage": "needs"}`)
		mustPatch(t, s, "rep1", "opportunity", opp, `{"stage": "proposal"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "next states of the rep", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "rep1", Status: 200,
				Contains:   []string{`"field":"stage"`, `"current":"proposal"`, `"to":"needs"`, `"to":"negotiation"`, `"to":"lost"`, `"label":"Negotiate"`},
				NotContain: []string{`"to":"won"`, `"to":"qualify"`}},
			{Name: "in Chinese", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "rep1", Header: map[string]string{"Accept-Language": "zh"}, Status: 200,
				Contains: []string{`"label":"进入商务谈判"`}},
			{Name: "another rep sees nothing", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "rep2", Status: 404,
				NotContain: []string{"proposal", "stage"}},
			{Name: "a role without deals sees nothing", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "agent", Status: 403,
				NotContain: []string{"proposal"}},
		})

		status, m = patch(t, s, "rep1", "opportunity", opp, `{"stage": "won"}`)
		wantError(t, status, m, 422, `"field":"stage"`, `from \"proposal\" to \"won\"`, `the condition amount \u003e 0 does not hold`)
		mustPatch(t, s, "rep1", "opportunity", opp, `{"amount": 1200}`)
		s.Run(t, []apitest.Scenario{{Name: "won is offered once the amount is set", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions",
			User: "rep1", Status: 200, Contains: []string{`"to":"won"`}}})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"stage": "won", "next_step": "invoice"}`)

		status, m = patch(t, s, "rep1", "opportunity", opp, `{"stage": "qualify"}`)
		wantError(t, status, m, 422, `from \"won\" to \"qualify\"`, "only sales_manager may make it")
		if got := version(t, s, "opportunity", opp); got != "5" {
			t.Fatalf("a refused change was written: version %s", got)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "the rep may not reopen", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "rep1", Status: 200,
				Contains: []string{`"current":"won"`, `"transitions":[]`}},
			{Name: "the manager may", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "manager", Status: 200,
				Contains: []string{`"to":"qualify"`, `"label":"Reopen"`}},
			{Name: "and so may the administrator above", Method: "GET", Path: "/api/records/opportunity/" + opp + "/transitions", User: "admin", Status: 200,
				Contains: []string{`"to":"qualify"`}},
		})
		mustPatch(t, s, "manager", "opportunity", opp, `{"stage": "qualify"}`)

		// Other fields change freely, and a new record starts anywhere.
		mustPatch(t, s, "rep1", "opportunity", opp, `{"next_step": "call back"}`)
		s.Create("rep1", "opportunity", `{"name": "Late entry", "account": "`+acc+`", "stage": "negotiation"}`)
	})
}
