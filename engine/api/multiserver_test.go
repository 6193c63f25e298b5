package api

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
)

// TestPermissionChangeNextRequestOnEveryServer changes roles and objects on one
// server and expects the very next request on a second server sharing the
// database to obey it, without waiting for the metadata poll.
// TestPermissionChangeOnEveryServer checks that a role change made on one
// server holds on another as soon as that one has the new metadata
// version, which it loads when notified or polling.
func TestPermissionChangeOnEveryServer(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		a := newFixture(t, db)
		pb, err := platform.New(context.Background(), platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			t.Fatal(err)
		}
		b := &fixture{t: t, app: New(Config{Engine: pb.Engine, Access: pb.Access}), tokens: a.tokens}
		acc := a.create("rep1", "account", `{"name": "Acme", "phone": "+86 1"}`)
		if status, m := b.do("GET", "/api/records/account/"+acc, "rep1", ""); status != 200 || m["phone"] != "+86 1" {
			t.Fatalf("before: %d %v", status, m)
		}
		// Server A hides account.phone from sales reps.
		p, err := platform.New(context.Background(), platform.Config{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		s := p.Engine.Snapshot().Schema.Clone()
		s.Objects = append(s.Objects, &metadata.Object{Name: "visit_report", Fields: []*metadata.Field{{Name: "summary", Type: "text"}}})
		for _, r := range s.Roles {
			if r.Name == "sales_rep" {
				r.Permissions = append(r.Permissions, metadata.ObjectPermission{Object: "visit_report", Actions: []string{"create", "read"}, Records: "own"})
				for i := range r.Permissions {
					if r.Permissions[i].Object == "account" {
						r.Permissions[i].Fields["phone"] = metadata.FieldHidden
					}
				}
			}
		}
		// Server B learns of metadata versions as serve does: through
		// PostgreSQL's notification at once, or by its poll.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go pb.Engine.Watch(ctx, 50*time.Millisecond)
		if _, _, err := p.Engine.ApplySchema(context.Background(), s, engine.ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for pb.Engine.Snapshot().Version != p.Engine.Snapshot().Version {
			if time.Now().After(deadline) {
				t.Fatalf("server B never loaded version %d", p.Engine.Snapshot().Version)
			}
			time.Sleep(10 * time.Millisecond)
		}
		status, m := b.do("GET", "/api/records/account/"+acc, "rep1", "")
		if _, leaked := m["phone"]; status != 200 || leaked {
			t.Fatalf("server B still shows the hidden field: %d %v", status, m)
		}
		if status, _ := b.do("GET", "/api/records/account?filter="+urlq(`phone == "+86 1"`), "rep1", ""); status != 400 {
			t.Fatalf("server B still filters on the hidden field: %d", status)
		}
		// The new object and the rep's right on it hold on server B at once.
		if status, m := b.do("POST", "/api/records/visit_report", "rep1", `{"summary": "met the buyer"}`); status != 201 {
			t.Fatalf("server B does not know the new object yet: %d %v", status, m)
		}
	})
}

// TestConcurrentMetadataEditsOnTwoServers adds one field through each of
// two servers whose second has not seen the first's change: both fields
// must survive, neither change undoing the other.
func TestConcurrentMetadataEditsOnTwoServers(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		a := newFixture(t, db)
		pb, err := platform.New(context.Background(), platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			t.Fatal(err)
		}
		b := &fixture{t: t, app: New(Config{Engine: pb.Engine, Access: pb.Access}), tokens: a.tokens}
		if status, m := a.do("POST", "/api/meta/objects/lead/fields", "admin", `{"name": "score", "type": "integer"}`); status != 201 {
			t.Fatalf("server A: %d %v", status, m)
		}
		if status, m := b.do("POST", "/api/meta/objects/lead/fields", "admin", `{"name": "grade", "type": "text"}`); status != 201 {
			t.Fatalf("server B: %d %v", status, m)
		}
		_, lead := a.do("GET", "/api/meta/objects/lead", "admin", "")
		names := map[string]bool{}
		for _, f := range lead["fields"].([]any) {
			names[f.(map[string]any)["name"].(string)] = true
		}
		if !names["score"] || !names["grade"] {
			t.Fatalf("a change was lost: score %v, grade %v", names["score"], names["grade"])
		}
		if status, m := b.do("POST", "/api/records/lead", "admin", `{"person": "P", "score": 5, "grade": "A"}`); status != 201 {
			t.Fatalf("both fields usable: %d %v", status, m)
		}
	})
}
