package apitest_test

import (
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestRunJobsRecomputesAfterAFormulaIsAdded adds a computed field through
// the API to an object with records: the recomputation it queued fills the
// stored values once the jobs run, and a record's read shows them.
func TestRunJobsRecomputesAfterAFormulaIsAdded(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Lathes", "account": "`+acc+`", "stage": "proposal", "amount": 1000}`)
		s.Run(t, []apitest.Scenario{
			{Name: "add a computed field", Method: "POST", Path: "/api/meta/objects/opportunity/fields", User: "admin",
				Body: `{"name": "weighted", "type": "currency", "formula": "amount * option(stage).probability / 100", "visibility": "all"}`, Status: 201},
			{Name: "not computed for existing records yet", Method: "GET", Path: "/api/records/opportunity/" + opp, User: "rep1", Status: 200,
				Contains: []string{`"weighted":null`}},
		})
		s.RunJobs()
		s.Run(t, []apitest.Scenario{
			{Name: "stored once the jobs ran", Method: "GET", Path: "/api/records/opportunity/" + opp, User: "rep1", Status: 200,
				Contains: []string{`"weighted":500.00`}},
		})
	})
}
