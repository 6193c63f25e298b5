package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// tokenChanges are the changes of users and tokens a trusted token must
// not outlive: each is made through a service and returns whether the
// token must now be refused (otherwise its principal must show roles
// marketing).
var tokenChanges = []struct {
	name    string
	change  func(ctx context.Context, svc *access.Service, tokenID string) error
	refused bool
}{
	{"revoke the token", func(ctx context.Context, svc *access.Service, id string) error { return svc.RevokeToken(ctx, id) }, true},
	{"deactivate the user", func(ctx context.Context, svc *access.Service, _ string) error { return svc.DeactivateUser(ctx, "rep") }, true},
	{"change the password", func(ctx context.Context, svc *access.Service, _ string) error {
		return svc.SetPassword(ctx, "rep", "another password")
	}, true},
	{"change the roles", func(ctx context.Context, svc *access.Service, _ string) error {
		_, err := svc.UpdateUser(ctx, "rep", access.UserUpdate{Roles: &[]string{"marketing"}})
		return err
	}, false},
}

// trustsOld reports whether p, the answer of Authenticate after a change
// of tokenChanges, still shows the token and user as before the change.
func trustsOld(t *testing.T, p *access.Principal, err error, refused bool) bool {
	t.Helper()
	if refused {
		if err != nil && !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatal(err)
		}
		return err == nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return !slices.Equal(p.Roles, []string{"marketing"})
}

// TestTokenCacheFollowsChanges: a server trusts a token it read for the
// cache's time to live. A change of users or tokens holds at once on the
// server that made it; another server or process sharing the database
// (here a second service, as `crm user deactivate` is) trusts the old
// token until the time to live has passed, and, on PostgreSQL, only until
// the change's notification reaches it (Watch).
func TestTokenCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range tokenChanges {
			t.Run(c.name, func(t *testing.T) {
				clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
				a := setup(t, db, standard(t), access.WithClock(clk.now))
				b := access.New(db, access.WithClock(clk.now))
				if _, err := db.SQL().ExecContext(ctx, "DELETE FROM "+access.TableTokens); err != nil {
					t.Fatal(err)
				}
				if _, err := db.SQL().ExecContext(ctx, "DELETE FROM "+access.TableUsers); err != nil {
					t.Fatal(err)
				}
				mustUser(t, a, access.NewUser{Username: "rep", Password: "correct horse", Roles: []string{"sales_rep"}})
				tok, p, err := a.Login(ctx, "rep", "correct horse")
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []*access.Service{a, b} {
					if got, err := s.Authenticate(ctx, tok); err != nil || got.UserID != p.UserID || !got.HasRole("sales_rep") {
						t.Fatalf("before the change: %v %+v", err, got)
					}
				}
				if err := c.change(ctx, b, p.TokenID); err != nil {
					t.Fatal(err)
				}
				got, err := b.Authenticate(ctx, tok)
				if trustsOld(t, got, err, c.refused) {
					t.Fatalf("the server that made the change still trusts the old token: %v %+v", err, got)
				}
				// Server a was not told (SQLite has no notifications; no
				// Watch runs here): it trusts what it read until the time
				// to live has passed, and not one instant longer.
				clk.t = clk.t.Add(access.DefaultTokenCacheTTL - time.Millisecond)
				got, err = a.Authenticate(ctx, tok)
				if !trustsOld(t, got, err, c.refused) {
					t.Fatalf("no token cache: the other server read the change before its time to live passed: %v %+v", err, got)
				}
				clk.t = clk.t.Add(time.Millisecond)
				got, err = a.Authenticate(ctx, tok)
				if trustsOld(t, got, err, c.refused) {
					t.Fatalf("the other server trusts the old token past the time to live: %v %+v", err, got)
				}
			})
		}
	})
}

// TestTokenCacheNotifiedOnPostgres: on PostgreSQL a server that trusts
// tokens for an hour still refuses a token revoked on another server as
// soon as that server's notification arrives.
func TestTokenCacheNotifiedOnPostgres(t *testing.T) {
	t.Parallel()
	db := storetest.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range tokenChanges {
		t.Run(c.name, func(t *testing.T) {
			a := setup(t, db, standard(t), access.WithTokenCache(time.Hour))
			b := access.New(db)
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM "+access.TableTokens); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM "+access.TableUsers); err != nil {
				t.Fatal(err)
			}
			mustUser(t, a, access.NewUser{Username: "rep", Password: "correct horse", Roles: []string{"sales_rep"}})
			wctx, stop := context.WithCancel(ctx)
			defer stop()
			go a.Watch(wctx, time.Hour)
			waitListening(t, db, 1)
			tok, p, err := a.Login(ctx, "rep", "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Authenticate(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if err := c.change(ctx, b, p.TokenID); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := a.Authenticate(ctx, tok)
				if !trustsOld(t, got, err, c.refused) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the other server was never told: %v %+v", err, got)
				}
				time.Sleep(5 * time.Millisecond)
			}
			stop()
			waitListening(t, db, 0)
		})
	}
}

// waitListening waits until n connections of db's database listen on
// access.AccessChannel.
func waitListening(t *testing.T, db *store.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE query = 'LISTEN "` + access.AccessChannel + `"' AND state = 'idle' AND datname = current_database()`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections listen on %s, want %d", got, access.AccessChannel, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTokenCacheOff: with no time to live every request reads the token.
func TestTokenCacheOff(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	a := setup(t, db, standard(t), access.WithTokenCache(0))
	mustUser(t, a, access.NewUser{Username: "rep", Password: "correct horse"})
	tok, p, err := a.Login(ctx, "rep", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := access.New(db).RevokeToken(ctx, p.TokenID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("a revoked token was trusted with the cache off: %v", err)
	}
}
