package access_test

import (
	"context"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

func TestAdapter(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		setup(t, db, &metadata.Schema{})
		m, err := model.NewModelFromString(access.ModelText())
		if err != nil {
			t.Fatal(err)
		}
		newEnforcer := func() *casbin.Enforcer {
			t.Helper()
			e, err := casbin.NewEnforcer(m.Copy(), access.NewAdapter(ctx, db.DB, nil))
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		e := newEnforcer()
		steps := []struct {
			name string
			do   func(e *casbin.Enforcer) (bool, error)
		}{
			{"add p", func(e *casbin.Enforcer) (bool, error) { return e.AddPolicy("rep", "lead", "read", "own") }},
			{"add p2", func(e *casbin.Enforcer) (bool, error) { return e.AddPolicy("rep", "lead", "update", "own") }},
			{"add p3", func(e *casbin.Enforcer) (bool, error) { return e.AddPolicy("rep", "lead.email", "editable", "") }},
			{"add g", func(e *casbin.Enforcer) (bool, error) { return e.AddGroupingPolicy("manager", "rep") }},
			{"add batch", func(e *casbin.Enforcer) (bool, error) {
				return e.AddPolicies([][]string{{"x", "account", "read", "all"}, {"x", "account", "delete", "all"}})
			}},
		}
		for _, s := range steps {
			if ok, err := s.do(e); err != nil || !ok {
				t.Fatalf("%s: %v %v", s.name, ok, err)
			}
		}
		check := func(e *casbin.Enforcer, sub, obj, act string, want bool) {
			t.Helper()
			if ok, err := e.Enforce(sub, obj, act); err != nil || ok != want {
				t.Fatalf("%s %s %s = %v %v, want %v", sub, obj, act, ok, err, want)
			}
		}
		e2 := newEnforcer() // a fresh load sees what auto-save stored
		check(e2, "manager", "lead", "read", true)
		check(e2, "manager", "lead.email", "editable", true)
		check(e2, "rep", "lead", "delete", false)
		check(e2, "x", "account", "delete", true)
		if ok, err := e.RemovePolicy("rep", "lead", "update", "own"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if ok, err := e.RemoveFilteredPolicy(0, "x"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		e3 := newEnforcer()
		check(e3, "rep", "lead", "update", false)
		check(e3, "rep", "lead", "read", true)
		check(e3, "x", "account", "read", false)
		// SavePolicy replaces everything.
		e3.ClearPolicy()
		if _, err := e3.AddPolicy("only", "lead", "read", "all"); err != nil {
			t.Fatal(err)
		}
		if err := e3.SavePolicy(); err != nil {
			t.Fatal(err)
		}
		e4 := newEnforcer()
		check(e4, "only", "lead", "read", true)
		check(e4, "manager", "lead", "read", false)
	})
}
