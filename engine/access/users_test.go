package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

func TestCreateUserErrors(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := setup(t, db, standard(t))
		mustUser(t, svc, access.NewUser{Username: "boss", Roles: []string{"sales_manager"}})
		cases := []struct {
			name string
			nu   access.NewUser
			want error
		}{
			{"short password", access.NewUser{Username: "a1", Password: "short", Roles: []string{"sales_rep"}}, access.ErrWeakPassword},
			{"unknown role", access.NewUser{Username: "a2", Password: "longenough", Roles: []string{"wizard"}}, access.ErrUnknownRole},
			{"unknown manager", access.NewUser{Username: "a3", Password: "longenough", Roles: []string{"sales_rep"}, Manager: "nobody"}, access.ErrUserNotFound},
			{"duplicate", access.NewUser{Username: "Boss", Password: "longenough", Roles: []string{"sales_rep"}}, access.ErrUserExists},
			{"bad username", access.NewUser{Username: "a b", Password: "longenough"}, access.ErrInvalid},
			{"empty username", access.NewUser{Username: "", Password: "longenough"}, access.ErrInvalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := svc.CreateUser(ctx, c.nu)
				if !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
			})
		}
		u, err := svc.CreateUser(ctx, access.NewUser{Username: "Rep1", Password: "longenough", Roles: []string{"sales_rep", "sales_rep"}, Manager: "boss", Department: "east"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "rep1" || u.Manager != "boss" || len(u.Roles) != 1 || !u.Active || u.Department != "east" || u.DisplayName != "rep1" {
			t.Fatalf("unexpected user %+v", u)
		}
		users, err := svc.ListUsers(ctx)
		if err != nil || len(users) != 2 || users[1].Manager != "boss" {
			t.Fatalf("list users: %v %+v", err, users)
		}
		// A manager cycle is refused.
		_, err = svc.UpdateUser(ctx, "boss", access.UserUpdate{Manager: ptr("rep1")})
		if !errors.Is(err, access.ErrInvalid) {
			t.Fatalf("cycle: got %v", err)
		}
		_, err = svc.UpdateUser(ctx, "boss", access.UserUpdate{Manager: ptr("boss")})
		if !errors.Is(err, access.ErrInvalid) {
			t.Fatalf("self manager: got %v", err)
		}
		u, err = svc.UpdateUser(ctx, "rep1", access.UserUpdate{Roles: &[]string{"marketing"}, Manager: ptr(""), Department: ptr("west"), DisplayName: ptr("Rep One")})
		if err != nil {
			t.Fatal(err)
		}
		if u.Manager != "" || u.Roles[0] != "marketing" || u.Department != "west" || u.DisplayName != "Rep One" {
			t.Fatalf("update: %+v", u)
		}
		if _, err := svc.UpdateUser(ctx, "rep1", access.UserUpdate{Roles: &[]string{"nope"}}); !errors.Is(err, access.ErrUnknownRole) {
			t.Fatalf("update unknown role: %v", err)
		}
		if _, err := svc.GetUser(ctx, "ghost"); !errors.Is(err, access.ErrUserNotFound) {
			t.Fatalf("get ghost: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestLoginAndTokens(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
		svc := setup(t, db, standard(t), access.WithClock(clk.now), access.WithSessionTTL(time.Hour))
		rep := mustUser(t, svc, access.NewUser{Username: "rep", Password: "correct horse", Roles: []string{"sales_rep"}, Department: "east"})

		for _, c := range []struct{ name, user, pw string }{
			{"wrong password", "rep", "wrong horse"},
			{"unknown user", "nobody", "correct horse"},
			{"empty", "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, _, err := svc.Login(ctx, c.user, c.pw); !errors.Is(err, access.ErrInvalidCredentials) {
					t.Fatalf("got %v", err)
				}
			})
		}
		tok, p, err := svc.Login(ctx, "REP", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != rep.ID || p.Department != "east" || !p.HasRole("sales_rep") || p.TokenID == "" {
			t.Fatalf("principal %+v", p)
		}
		got, err := svc.Authenticate(ctx, "Bearer "+tok)
		if err != nil || got.UserID != rep.ID || got.TokenID != p.TokenID {
			t.Fatalf("authenticate: %v %+v", err, got)
		}
		// The raw token is not stored anywhere.
		var n int
		if err := db.NewSelect().Table(access.TableTokens).ColumnExpr("COUNT(*)").Where("hash = ?", tok).Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("raw token stored: %v %d", err, n)
		}
		for _, bad := range []string{"", "Bearer ", "Bearer nonsense", tok + "x"} {
			if _, err := svc.Authenticate(ctx, bad); !errors.Is(err, access.ErrUnauthenticated) {
				t.Fatalf("authenticate %q: %v", bad, err)
			}
		}
		// Expiry.
		clk.t = clk.t.Add(time.Hour)
		if _, err := svc.Authenticate(ctx, tok); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("expired session accepted: %v", err)
		}
		// API tokens: no expiry, revocable.
		api, info, err := svc.CreateAPIToken(ctx, "rep", "ci", 0)
		if err != nil || info.Kind != access.TokenAPI || info.ExpiresAt != nil {
			t.Fatalf("api token: %v %+v", err, info)
		}
		clk.t = clk.t.Add(1000 * time.Hour)
		if _, err := svc.Authenticate(ctx, api); err != nil {
			t.Fatalf("api token: %v", err)
		}
		short, _, err := svc.CreateAPIToken(ctx, rep.ID, "short", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(2 * time.Minute)
		if _, err := svc.Authenticate(ctx, short); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("expired api token accepted: %v", err)
		}
		if err := svc.RevokeToken(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, api); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("revoked token accepted: %v", err)
		}
		if err := svc.RevokeToken(ctx, "no-such-token"); !errors.Is(err, access.ErrTokenNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		toks, err := svc.ListTokens(ctx, "rep")
		if err != nil || len(toks) != 3 {
			t.Fatalf("list tokens: %v %d", err, len(toks))
		}
		// A password change ends sessions; deactivation ends everything.
		tok2, _, err := svc.Login(ctx, "rep", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		api2, _, err := svc.CreateAPIToken(ctx, "rep", "ci2", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPassword(ctx, "rep", "x"); !errors.Is(err, access.ErrWeakPassword) {
			t.Fatalf("weak: %v", err)
		}
		if err := svc.SetPassword(ctx, "rep", "battery staple"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, tok2); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("session survived password change: %v", err)
		}
		if _, err := svc.Authenticate(ctx, api2); err != nil {
			t.Fatalf("api token lost on password change: %v", err)
		}
		if _, _, err := svc.Login(ctx, "rep", "correct horse"); !errors.Is(err, access.ErrInvalidCredentials) {
			t.Fatalf("old password: %v", err)
		}
		if err := svc.VerifyPassword(ctx, "rep", "battery staple"); err != nil {
			t.Fatalf("verify: %v", err)
		}
		for _, c := range [][2]string{{"rep", "correct horse"}, {"ghost", "battery staple"}} {
			if err := svc.VerifyPassword(ctx, c[0], c[1]); !errors.Is(err, access.ErrInvalidCredentials) {
				t.Fatalf("verify %v: %v", c, err)
			}
		}
		if err := svc.DeactivateUser(ctx, "rep"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, api2); !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("inactive user's token accepted: %v", err)
		}
		if _, _, err := svc.Login(ctx, "rep", "battery staple"); !errors.Is(err, access.ErrInvalidCredentials) {
			t.Fatalf("inactive login: %v", err)
		}
	})
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := setup(t, db, standard(t))
		pw, created, err := svc.EnsureAdmin(ctx, "")
		if err != nil || !created || len(pw) < 16 {
			t.Fatalf("ensure admin: %v %v %q", err, created, pw)
		}
		if _, p, err := svc.Login(ctx, "admin", pw); err != nil || !p.HasRole("admin") {
			t.Fatalf("admin login: %v", err)
		}
		pw2, created, err := svc.EnsureAdmin(ctx, "other-password")
		if err != nil || created || pw2 != "" {
			t.Fatalf("second ensure admin: %v %v %q", err, created, pw2)
		}
	})
}

// TestActivePrincipal reads a user's principal through a transaction: the
// same principal authentication gives, and not found for an unknown or
// inactive user.
func TestActivePrincipal(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		svc := setup(t, db, standard(t))
		ctx := context.Background()
		mustUser(t, svc, access.NewUser{Username: "boss", Roles: []string{"sales_manager"}})
		rep := mustUser(t, svc, access.NewUser{Username: "rep", DisplayName: "Rep One", Roles: []string{"sales_rep", "marketing"}, Manager: "boss", Department: "east"})
		mustUser(t, svc, access.NewUser{Username: "gone", Roles: []string{"sales_rep"}})
		if err := svc.DeactivateUser(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		p, err := access.ActivePrincipal(ctx, tx, db.Dialect, " REP ")
		if err != nil {
			t.Fatal(err)
		}
		want := rep.Principal()
		if p.UserID != want.UserID || p.Username != "rep" || p.DisplayName != "Rep One" || p.ManagerID != want.ManagerID || p.ManagerID == "" ||
			p.Department != "east" || strings.Join(p.Roles, ",") != strings.Join(want.Roles, ",") {
			t.Fatalf("got %+v, want %+v", p, want)
		}
		for _, name := range []string{"gone", "nobody", ""} {
			if _, err := access.ActivePrincipal(ctx, tx, db.Dialect, name); !errors.Is(err, access.ErrUserNotFound) {
				t.Errorf("%q: %v, want ErrUserNotFound", name, err)
			}
		}
	})
}

// TestUserLanguageAndPhone covers the contact details reminders use, and
// their columns added to a users table created before them.
func TestUserLanguageAndPhone(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE crm_users (id VARCHAR(36) PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, display_name TEXT NOT NULL,
			email TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL, active BOOLEAN NOT NULL, manager_id VARCHAR(36), department TEXT NOT NULL,
			roles TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		svc := setup(t, db, standard(t))
		u, err := svc.CreateUser(ctx, access.NewUser{Username: "li", Password: "longenough", Roles: []string{"sales_rep"}, Language: "zh", Phone: "+86 138 0000 0000"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Language != "zh" || u.Phone != "+86 138 0000 0000" {
			t.Fatalf("created %+v", u)
		}
		if u, err = svc.UpdateUser(ctx, "li", access.UserUpdate{Language: ptr("en"), Phone: ptr("")}); err != nil || u.Language != "en" || u.Phone != "" {
			t.Fatalf("updated %+v, %v", u, err)
		}
		for _, bad := range []access.UserUpdate{{Language: ptr("fr")}, {Phone: ptr("call me")}} {
			if _, err := svc.UpdateUser(ctx, "li", bad); !errors.Is(err, access.ErrInvalid) {
				t.Errorf("%+v: got %v", bad, err)
			}
		}
	})
}
