package engine_test

import (
	"context"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestFieldLevelsPerRoles checks that the field levels the engine keeps
// between requests (per decision, snapshot and roles) never pass from one
// set of roles to another: marketing does not see an account's credit
// limit, a sales rep does, a user with both roles does, and a user whose
// roles change gets the levels of the new ones, whoever asked first.
func TestFieldLevelsPerRoles(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		u := salesRep(t, p, "someone")
		as := func(roles ...string) *access.Principal {
			pr := u.Principal()
			pr.Roles = roles
			return pr
		}
		cases := []struct {
			who      *access.Principal
			readable bool
		}{
			{as("marketing"), false},
			{as("sales_rep"), true},
			{as("marketing"), false},
			{as("marketing", "sales_rep"), true},
			{as("sales_rep", "marketing"), true},
			{as("marketing"), false},
			{access.System(as("marketing")), true},
			{as("marketing"), false},
		}
		for i, c := range cases {
			r, err := p.Engine.Rights(ctx, c.who)
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.Scope("account")
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Readable("credit_limit"); got != c.readable {
				t.Errorf("case %d, roles %v (system %v): credit_limit readable %v, want %v", i, c.who.Roles, c.who.System, got, c.readable)
			}
		}
	})
}
