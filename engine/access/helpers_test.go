package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"golang.org/x/crypto/bcrypt"
)

// standard loads the standard template's schema.
func standard(t testing.TB) *metadata.Schema {
	t.Helper()
	_, s, err := defaults.Load("standard")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// setup migrates the access tables on db and syncs the roles of sc.
func setup(t testing.TB, db *store.DB, sc *metadata.Schema, opts ...access.Option) *access.Service {
	t.Helper()
	opts = append([]access.Option{access.WithBcryptCost(bcrypt.MinCost)}, opts...)
	svc := access.New(db, opts...)
	ctx := context.Background()
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := svc.SyncRoles(ctx, nil, sc); err != nil {
		t.Fatal(err)
	}
	return svc
}

// mustUser creates a user or fails.
func mustUser(t testing.TB, svc *access.Service, nu access.NewUser) *access.User {
	t.Helper()
	if nu.Password == "" {
		nu.Password = "password-" + nu.Username
	}
	u, err := svc.CreateUser(context.Background(), nu)
	if err != nil {
		t.Fatalf("create user %s: %v", nu.Username, err)
	}
	return u
}
