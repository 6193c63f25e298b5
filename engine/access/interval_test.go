package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestPolicyCheckInterval checks the trade-off WithPolicyCheckInterval
// offers: a server checks the policy version at most once per interval, so
// another server's change shows after the interval, not before.
func TestPolicyCheckInterval(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	sc := standard(t)
	a := setup(t, db, sc)
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	b := access.New(db, access.WithPolicyCheckInterval(time.Minute), access.WithClock(clk.now))
	p := &access.Principal{UserID: "u", Roles: []string{"service_agent"}}
	can := func() error {
		d, err := b.Decide(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		return d.CanObject(p, "lead", "read")
	}
	if err := can(); !errors.Is(err, access.ErrDenied) {
		t.Fatalf("before: %v", err)
	}
	s2 := sc.Clone()
	for _, r := range s2.Roles {
		if r.Name == "service_agent" {
			r.Permissions = append(r.Permissions, metadata.ObjectPermission{Object: "lead", Actions: []string{"read"}, Records: "all"})
		}
	}
	if err := a.SyncRoles(ctx, nil, s2); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(30 * time.Second)
	if err := can(); !errors.Is(err, access.ErrDenied) {
		t.Fatalf("inside the interval the old policy holds, got %v", err)
	}
	clk.t = clk.t.Add(time.Minute)
	if err := can(); err != nil {
		t.Fatalf("after the interval the new policy holds, got %v", err)
	}
}
