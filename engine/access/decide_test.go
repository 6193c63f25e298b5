package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// wantCRUD is what each standard role may do on each object, written out
// from the role files (with the role hierarchy: a parent role has every
// right of the roles below it): c, r, u, d letters, "" for nothing.
var wantCRUD = map[string]map[string]string{
	"admin": {"account": "crud", "contact": "crud", "opportunity": "crud", "activity": "crud", "lead": "crud", "campaign": "crud", "competitor": "crud",
		"account_relation": "crud", "campaign_member": "crud", "contract": "crud", "knowledge_article": "crud", "order_line": "crud", "payment_plan": "crud",
		"price_list": "crud", "price_list_item": "crud", "product": "crud", "quote": "crud", "quote_line": "crud", "receipt": "crud", "sales_order": "crud",
		"sales_target": "crud", "service_request": "crud", "service_visit": "crud"},
	"sales_manager": {"account": "crud", "contact": "crud", "opportunity": "crud", "activity": "crud", "lead": "crud",
		"campaign": "r", "competitor": "cru",
		"account_relation": "crud", "campaign_member": "r", "contract": "crud", "knowledge_article": "cru", "order_line": "crud", "payment_plan": "crud",
		"price_list": "r", "price_list_item": "r", "product": "r", "quote": "crud", "quote_line": "crud", "receipt": "crud", "sales_order": "crud",
		"sales_target": "crud", "service_request": "r", "service_visit": "r"},
	"sales_rep": {"account": "cru", "contact": "cru", "opportunity": "cru", "activity": "crud", "lead": "cru",
		"campaign": "r", "competitor": "r",
		"account_relation": "crud", "campaign_member": "r", "contract": "cru", "knowledge_article": "r", "order_line": "crud", "payment_plan": "crud",
		"price_list": "r", "price_list_item": "r", "product": "r", "quote": "crud", "quote_line": "crud", "receipt": "cr", "sales_order": "cru",
		"sales_target": "r", "service_request": "r", "service_visit": ""},
	"marketing": {"account": "r", "contact": "r", "opportunity": "", "activity": "cru", "lead": "crud",
		"campaign": "crud", "competitor": "r",
		"account_relation": "", "campaign_member": "crud", "contract": "", "knowledge_article": "cru", "order_line": "", "payment_plan": "",
		"price_list": "r", "price_list_item": "", "product": "r", "quote": "", "quote_line": "", "receipt": "", "sales_order": "",
		"sales_target": "", "service_request": "", "service_visit": ""},
	"service_agent": {"account": "r", "contact": "ru", "opportunity": "", "activity": "cru", "lead": "",
		"campaign": "", "competitor": "",
		"account_relation": "", "campaign_member": "", "contract": "", "knowledge_article": "cru", "order_line": "", "payment_plan": "",
		"price_list": "", "price_list_item": "", "product": "r", "quote": "", "quote_line": "", "receipt": "", "sales_order": "",
		"sales_target": "", "service_request": "cru", "service_visit": "crud"},
}

func TestCanObjectMatrix(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		sc := standard(t)
		svc := setup(t, db, sc)
		d, err := svc.Decide(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(wantCRUD) != len(sc.Roles) {
			t.Fatalf("the matrix covers %d roles, the template has %d", len(wantCRUD), len(sc.Roles))
		}
		letters := map[string]string{"create": "c", "read": "r", "update": "u", "delete": "d"}
		for _, role := range sc.Roles {
			for _, obj := range sc.Objects {
				want, ok := wantCRUD[role.Name][obj.Name]
				if !ok {
					t.Errorf("matrix misses %s × %s", role.Name, obj.Name)
					continue
				}
				p := &access.Principal{UserID: "u-" + role.Name, Username: role.Name, Roles: []string{role.Name}}
				for _, action := range []string{"create", "read", "update", "delete"} {
					t.Run(role.Name+"/"+obj.Name+"/"+action, func(t *testing.T) {
						err := d.CanObject(p, obj.Name, action)
						allowed := strings.Contains(want, letters[action])
						switch {
						case allowed && err != nil:
							t.Fatalf("denied, want allowed: %v", err)
						case !allowed && !errors.Is(err, access.ErrDenied):
							t.Fatalf("got %v, want ErrDenied", err)
						case !allowed && (!strings.Contains(err.Error(), obj.Name) || !strings.Contains(err.Error(), action)):
							t.Fatalf("error %q should name object and action", err)
						}
					})
				}
			}
		}
		// No principal, no roles, unknown role, object or action: denied.
		for _, c := range []struct {
			p           *access.Principal
			obj, action string
		}{
			{nil, "account", "read"},
			{&access.Principal{UserID: "x"}, "account", "read"},
			{&access.Principal{UserID: "x", Roles: []string{"ghost"}}, "account", "read"},
			{&access.Principal{UserID: "x", Roles: []string{"admin"}}, "nothing", "read"},
			{&access.Principal{UserID: "x", Roles: []string{"admin"}}, "account", "fly"},
			{&access.Principal{UserID: "x", Roles: []string{"sales_rep"}}, "account", "approve"},
			{&access.Principal{UserID: "x", Roles: []string{"service_agent"}}, "account", "transfer"},
		} {
			if err := d.CanObject(c.p, c.obj, c.action); !errors.Is(err, access.ErrDenied) {
				t.Errorf("%+v %s %s: got %v", c.p, c.obj, c.action, err)
			}
		}
		// Several roles: the union.
		p := &access.Principal{UserID: "x", Roles: []string{"service_agent", "marketing"}}
		if err := d.CanObject(p, "contact", "update"); err != nil {
			t.Errorf("union: %v", err)
		}
		if err := d.CanObject(p, "lead", "delete"); err != nil {
			t.Errorf("union: %v", err)
		}
		// Named actions: an administrator may run every one; whoever may
		// update may transfer; the system may do everything.
		for _, c := range []struct {
			p           *access.Principal
			obj, action string
		}{
			{&access.Principal{UserID: "x", Roles: []string{"admin"}}, "account", "approve"},
			{&access.Principal{UserID: "x", Roles: []string{"sales_rep"}}, "account", "transfer"},
			{access.System(&access.Principal{UserID: "x", Roles: []string{"service_agent"}}), "opportunity", "delete"},
			{access.System(nil), "account", "convert"},
		} {
			if err := d.CanObject(c.p, c.obj, c.action); err != nil {
				t.Errorf("%+v %s %s: %v", c.p, c.obj, c.action, err)
			}
		}
	})
}

// wantFields are field levels by role, object.field; fields not listed
// for a role follow wantDefault.
var wantFields = map[string]map[string]metadata.FieldLevel{
	"admin": {"account.credit_limit": "editable", "campaign.budget": "editable", "opportunity.amount": "editable", "account.id": "read_only", "account.owner_id": "editable"},
	"sales_manager": {"account.credit_limit": "editable", "account.name": "editable", "campaign.budget": "read_only", "campaign.name": "read_only",
		"competitor.name": "editable", "account.owner_id": "editable"},
	"sales_rep": {"account.credit_limit": "read_only", "account.annual_revenue": "read_only", "account.name": "editable",
		"campaign.budget": "hidden", "campaign.actual_cost": "hidden", "campaign.name": "read_only", "opportunity.amount": "editable",
		"competitor.name": "read_only", "account.version": "read_only", "account.no_such_field": "hidden", "campaign.owner_id": "read_only"},
	"marketing": {"account.credit_limit": "hidden", "account.annual_revenue": "hidden", "account.name": "read_only",
		"contact.mobile": "hidden", "contact.birthday": "hidden", "contact.email": "read_only", "lead.email": "editable",
		"opportunity.amount": "hidden", "opportunity.id": "hidden", "campaign.budget": "editable"},
	"service_agent": {"account.credit_limit": "hidden", "account.name": "read_only", "contact.name": "read_only",
		"contact.account": "read_only", "contact.email": "editable", "opportunity.name": "hidden", "lead.email": "hidden",
		"activity.subject": "editable"},
}

func TestFieldLevelMatrix(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		sc := standard(t)
		svc := setup(t, db, sc)
		d, err := svc.Decide(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		for role, fields := range wantFields {
			p := &access.Principal{UserID: "u", Username: role, Roles: []string{role}}
			for of, want := range fields {
				obj, field, _ := strings.Cut(of, ".")
				t.Run(role+"/"+of, func(t *testing.T) {
					if got := d.FieldLevel(p, obj, field); got != want {
						t.Fatalf("got %s, want %s", got, want)
					}
				})
			}
		}
		// Every field class of every role × object: hidden when the object
		// is unreadable, never editable without create or update, system
		// fields read-only when readable (owner_id: editable with a write
		// right unless a role makes it read-only).
		for _, role := range sc.Roles {
			p := &access.Principal{UserID: "u", Roles: []string{role.Name}}
			for _, obj := range sc.Objects {
				crud := wantCRUD[role.Name][obj.Name]
				levels := d.FieldLevels(p, obj.Name)
				for name, lvl := range levels {
					switch {
					case !strings.Contains(crud, "r") && lvl != metadata.FieldHidden:
						t.Errorf("%s %s.%s = %s without read", role.Name, obj.Name, name, lvl)
					case strings.Contains(crud, "r") && metadata.IsSystemField(name) && name != metadata.OwnerField && lvl != metadata.FieldReadOnly:
						t.Errorf("%s system %s.%s = %s", role.Name, obj.Name, name, lvl)
					case name == metadata.OwnerField && strings.ContainsAny(crud, "cu") && lvl != metadata.FieldEditable:
						t.Errorf("%s system %s.%s = %s", role.Name, obj.Name, name, lvl)
					case !strings.ContainsAny(crud, "cu") && lvl == metadata.FieldEditable:
						t.Errorf("%s %s.%s editable without write", role.Name, obj.Name, name)
					}
				}
			}
		}
		// Write and read checks name the field.
		rep := &access.Principal{UserID: "u", Roles: []string{"sales_rep"}}
		err = d.CheckWrite(rep, "account", []string{"name", "credit_limit"})
		var fe *access.FieldError
		if !errors.As(err, &fe) || fe.Field != "credit_limit" || fe.Level != "read_only" || !errors.Is(err, access.ErrDenied) {
			t.Fatalf("check write: %v", err)
		}
		if err := d.CheckWrite(rep, "account", []string{"name", "created_by"}); !errors.As(err, &fe) || fe.Field != "created_by" {
			t.Fatalf("system field write: %v", err)
		}
		if err := d.CheckWrite(rep, "account", []string{"name", "industry"}); err != nil {
			t.Fatalf("check write: %v", err)
		}
		if err := d.CheckRead(rep, "campaign", "filter", []string{"name", "budget"}); !errors.As(err, &fe) || fe.Field != "budget" || fe.Op != "filter" {
			t.Fatalf("check read: %v", err)
		}
		rec := d.Mask(rep, "campaign", map[string]any{"id": "1", "name": "x", "budget": 5, "actual_cost": 3})
		if _, ok := rec["budget"]; ok || rec["name"] != "x" || len(rec) != 2 {
			t.Fatalf("mask: %v", rec)
		}
		cols := d.ReadableFields(rep, "campaign")
		if strings.Contains(strings.Join(cols, ","), "budget") || cols[0] != "id" {
			t.Fatalf("readable: %v", cols)
		}
	})
}

func TestSyncRolesRefusesBadPolicies(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		good := standard(t)
		svc := setup(t, db, good)
		v0, _ := svc.PolicyVersion(ctx)
		cases := []struct {
			name, want string
			edit       func(s *metadata.Schema)
		}{
			{"unknown object", `unknown object "ghost"`, func(s *metadata.Schema) {
				s.Roles[0].Permissions = append(s.Roles[0].Permissions, metadata.ObjectPermission{Object: "ghost", Actions: []string{"read"}})
			}},
			{"unknown field", `no field "ghost"`, func(s *metadata.Schema) {
				s.Roles[0].Permissions = append(s.Roles[0].Permissions, metadata.ObjectPermission{Object: "account", Actions: []string{"read"}, Fields: map[string]metadata.FieldLevel{"ghost": "hidden"}})
			}},
			{"unknown action", `unknown action "fly"`, func(s *metadata.Schema) {
				s.Roles[0].Permissions = append(s.Roles[0].Permissions, metadata.ObjectPermission{Object: "account", Actions: []string{"fly"}})
			}},
			{"unknown scope", `unknown record scope "galaxy"`, func(s *metadata.Schema) {
				s.Roles[0].Permissions = append(s.Roles[0].Permissions, metadata.ObjectPermission{Object: "account", Actions: []string{"read"}, Records: "galaxy"})
			}},
			{"unknown level", `unknown level "secret"`, func(s *metadata.Schema) {
				s.Roles[0].Permissions = append(s.Roles[0].Permissions, metadata.ObjectPermission{Object: "account", Actions: []string{"read"}, Fields: map[string]metadata.FieldLevel{"name": "secret"}})
			}},
			{"unknown parent", `unknown parent role "ghost"`, func(s *metadata.Schema) { s.Roles[1].Parent = "ghost" }},
			{"dollar name", `invalid role name`, func(s *metadata.Schema) { s.Roles = append(s.Roles, &metadata.Role{Name: "a$$b"}) }},
			{"sharing rule access", `must be read or edit`, func(s *metadata.Schema) {
				s.Roles[0].SharingRules = append(s.Roles[0].SharingRules, metadata.SharingRule{Name: "x", Object: "account", Condition: "", Access: "own"})
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := good.Clone()
				c.edit(s)
				err := svc.SyncRoles(ctx, nil, s)
				if !errors.Is(err, access.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want %q", err, c.want)
				}
			})
		}
		if v, _ := svc.PolicyVersion(ctx); v != v0 {
			t.Fatalf("a refused sync changed the version %d → %d", v0, v)
		}
	})
}

func TestPolicyChangeSeenByOtherService(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sc := standard(t)
		a := setup(t, db, sc)
		b := access.New(db) // another server on the same database
		p := &access.Principal{UserID: "u", Roles: []string{"service_agent"}}
		d, err := b.Decide(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.CanObject(p, "lead", "read"); !errors.Is(err, access.ErrDenied) {
			t.Fatalf("before: %v", err)
		}
		if d2, _ := b.Decide(ctx, sc); d2 != d {
			t.Fatal("decider rebuilt without a change")
		}
		s2 := sc.Clone()
		for _, r := range s2.Roles {
			if r.Name == "service_agent" {
				r.Permissions = append(r.Permissions, metadata.ObjectPermission{Object: "lead", Actions: []string{"read"}, Records: "all"})
			}
		}
		// Inside a transaction that rolls back: nothing changes.
		tx, err := db.DB.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ApplySchema(ctx, tx, s2); err != nil {
			t.Fatal(err)
		}
		_ = tx.Rollback()
		d, _ = b.Decide(ctx, sc)
		if err := d.CanObject(p, "lead", "read"); !errors.Is(err, access.ErrDenied) {
			t.Fatalf("after rollback: %v", err)
		}
		tx, _ = db.DB.DB.BeginTx(ctx, nil)
		if err := a.ApplySchema(ctx, tx, s2); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		d, err = b.Decide(ctx, s2)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.CanObject(p, "lead", "read"); err != nil {
			t.Fatalf("after commit: %v", err)
		}
		rules, err := b.StoredRules(ctx, "service_agent")
		if err != nil || len(rules) == 0 {
			t.Fatalf("stored rules: %v %d", err, len(rules))
		}
		roles, err := b.Roles(ctx)
		if err != nil || len(roles) != 5 || roles[0].Name != "admin" || roles[0].Label["zh"] == "" {
			t.Fatalf("roles: %v %+v", err, roles)
		}
	})
}

func TestDeciderConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	sc := recordSchema(t)
	svc := setup(t, db, sc)
	d, err := svc.Decide(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func(i int) {
			role := sc.Roles[i%len(sc.Roles)].Name
			p := &access.Principal{UserID: "u", Roles: []string{role, "sales_rep"}}
			for _, obj := range sc.Objects {
				_ = d.CanObject(p, obj.Name, "read")
				_ = d.FieldLevels(p, obj.Name)
				if _, _, err := d.RecordFilter(ctx, p, obj.Name, "read"); err != nil && !errors.Is(err, access.ErrDenied) {
					done <- err
					return
				}
				_ = d.EffectiveRoles(p)
				_ = d.CanAdminister(p)
			}
			_, err := svc.Decide(ctx, sc)
			done <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
