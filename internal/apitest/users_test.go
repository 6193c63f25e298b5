package apitest_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestUserChangeRecomputesInItsTransaction renames a user and changes a
// manager through the access service, as crm user and the UI do (not
// through the API route): the stored formulas reading the user follow in
// the same transaction; a recomputation that fails rolls the update back.
func TestUserChangeRecomputesInItsTransaction(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Run(t, []apitest.Scenario{
			{Name: "a formula reading the owner's manager", Method: "POST", Path: "/api/meta/objects/opportunity/fields", User: "admin",
				Body: `{"name": "boss", "type": "text", "formula": "owner.manager.name", "visibility": "all"}`, Status: 201},
		})
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Lathes", "account": "`+acc+`", "stage": "proposal", "amount": 1000}`)
		ctx := context.Background()
		name := "Chief"
		if _, err := s.Platform.Access.UpdateUser(ctx, "manager", access.UserUpdate{DisplayName: &name}); err != nil {
			t.Fatal(err)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "renamed manager", Method: "GET", Path: "/api/records/opportunity/" + opp, User: "rep1", Status: 200,
				Contains: []string{`"boss":"Chief"`}},
		})
		// A hook that fails rolls the user's update back.
		s.Platform.Access.OnUserChange(func(context.Context, *sql.Tx, string, []string) error { return errors.New("recompute failed") })
		other := "Boss"
		if _, err := s.Platform.Access.UpdateUser(ctx, "manager", access.UserUpdate{DisplayName: &other}); err == nil {
			t.Fatal("an update whose recomputation failed was accepted")
		}
		if u, err := s.Platform.Access.GetUser(ctx, "manager"); err != nil || u.DisplayName != "Chief" {
			t.Fatalf("the user after a failed update: %+v, %v", u, err)
		}
	})
}
