package api

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
)

// TestAPIDatabaseOutage stops a real PostgreSQL server under a running API:
// while it is down every request that needs it answers 503 unavailable
// (a valid token is not called unknown, a login is not a server error,
// health and readiness say so; a token read within the token cache's
// time to live is still trusted), and once it is back the same token works
// again without a restart.
func TestAPIDatabaseOutage(t *testing.T) {
	t.Parallel()
	cluster := storetest.NewCluster(t)
	db, err := store.Open(context.Background(), cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := fillFixture(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	// Tokens are trusted for an hour here, so that how long stopping the
	// server takes does not decide what the token cache still holds.
	f := newFixtureWith(t, db, platform.Config{Access: []access.Option{access.WithTokenCache(time.Hour)}}, Config{})
	acc := f.create("rep1", "account", `{"name": "Acme"}`)
	up := []scenario{
		{name: "health", method: "GET", path: "/api/health", status: 200, contains: []string{`"status":"ok"`, `"database":"ok"`}},
		{name: "ready", method: "GET", path: "/api/ready", status: 200, contains: []string{`"status":"ready"`}},
		{name: "me", method: "GET", path: "/api/auth/me", user: "rep1", status: 200, contains: []string{`"username":"rep1"`}},
		{name: "read", method: "GET", path: "/api/records/account/" + acc, user: "rep1", status: 200, contains: []string{"Acme"}},
	}
	t.Run("up", func(t *testing.T) { f.run(t, up) })
	cluster.Stop(t)
	t.Run("down", func(t *testing.T) {
		var guesses []scenario
		for i := 0; i <= ThrottleFree; i++ {
			guesses = append(guesses, scenario{name: "a wrong password is not judged nor counted", method: "POST", path: "/api/auth/login", body: `{"username": "rep2", "password": "wrong"}`, status: 503, code: "unavailable"})
		}
		f.run(t, guesses)
		f.run(t, []scenario{
			{name: "health", method: "GET", path: "/api/health", status: 503, code: "unavailable"},
			{name: "ready", method: "GET", path: "/api/ready", status: 503, code: "unavailable"},
			// rep2's token was never used: reading it needs the database.
			{name: "a valid token is not unknown", method: "GET", path: "/api/auth/me", user: "rep2", status: 503, code: "unavailable", notContain: []string{"unknown"}},
			// rep1's was read while the database was up, within the token
			// cache's time to live: who rep1 is needs no database, the
			// record does.
			{name: "a token just read is still trusted", method: "GET", path: "/api/auth/me", user: "rep1", status: 200, contains: []string{`"username":"rep1"`}},
			{name: "a read", method: "GET", path: "/api/records/account/" + acc, user: "rep1", status: 503, code: "unavailable"},
			{name: "a login", method: "POST", path: "/api/auth/login", body: `{"username": "rep1", "password": "rep1-password"}`, status: 503, code: "unavailable"},
			{name: "a bad token is not judged either", method: "GET", path: "/api/auth/me", user: "not-a-token", status: 503, code: "unavailable"},
		})
	})
	cluster.Start(t)
	t.Run("back", func(t *testing.T) {
		f.run(t, append(up, scenario{name: "failures during the outage were not counted", method: "POST", path: "/api/auth/login", body: `{"username": "rep2", "password": "rep2-password"}`, status: 200}))
	})
}
