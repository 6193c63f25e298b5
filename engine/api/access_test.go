package api

import (
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

func TestAPIUsersAndTokens(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.run(t, []scenario{
			{name: "users need an administrator", method: "GET", path: "/api/users", user: "rep1", status: 403, code: "forbidden"},
			{name: "admin lists users", method: "GET", path: "/api/users", user: "admin", status: 200, contains: []string{`"username":"rep1"`, `"manager":"manager"`}, notContain: []string{"password", "$2a$"}},
			{name: "create user", method: "POST", path: "/api/users", user: "admin", body: `{"username": "agent", "password": "agent-password", "roles": ["service_agent"], "department": "support"}`, status: 201, contains: []string{`"username":"agent"`, `"department":"support"`}},
			{name: "duplicate user", method: "POST", path: "/api/users", user: "admin", body: `{"username": "agent", "password": "agent-password", "roles": ["service_agent"]}`, status: 409, code: "conflict"},
			{name: "unknown role", method: "POST", path: "/api/users", user: "admin", body: `{"username": "x1", "password": "long-password", "roles": ["wizard"]}`, status: 422, code: "invalid", contains: []string{"wizard"}},
			{name: "unknown manager", method: "POST", path: "/api/users", user: "admin", body: `{"username": "x2", "password": "long-password", "roles": ["sales_rep"], "manager": "ghost"}`, status: 404, code: "not_found", contains: []string{"ghost"}},
			{name: "short password", method: "POST", path: "/api/users", user: "admin", body: `{"username": "x3", "password": "short", "roles": ["sales_rep"]}`, status: 422, code: "invalid"},
			{name: "unknown key", method: "POST", path: "/api/users", user: "admin", body: `{"username": "x4", "password": "long-password", "is_admin": true}`, status: 400, code: "malformed_body"},
			{name: "rep creates no user", method: "POST", path: "/api/users", user: "rep1", body: `{"username": "x5", "password": "long-password", "roles": ["admin"]}`, status: 403, code: "forbidden"},
			{name: "own account", method: "GET", path: "/api/users/rep1", user: "rep1", status: 200, contains: []string{`"username":"rep1"`}},
			{name: "other account", method: "GET", path: "/api/users/rep2", user: "rep1", status: 403, code: "forbidden"},
			{name: "rep cannot promote self", method: "PATCH", path: "/api/users/rep1", user: "rep1", body: `{"roles": ["admin"]}`, status: 403, code: "forbidden"},
			{name: "manager cycle refused", method: "PATCH", path: "/api/users/manager", user: "admin", body: `{"manager": "rep1"}`, status: 422, code: "invalid", contains: []string{"cycle"}},
			{name: "move rep2", method: "PATCH", path: "/api/users/rep2", user: "admin", body: `{"department": "south", "display_name": "Rep Two"}`, status: 200, contains: []string{`"department":"south"`, `"Rep Two"`}},
			{name: "wrong current password", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-rep1-password", "current_password": "nope"}`, status: 403, code: "forbidden"},
			{name: "change own password", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-rep1-password", "current_password": "rep1-password"}`, status: 204},
			{name: "session ended by password change", method: "GET", path: "/api/auth/me", user: "rep1", status: 401, code: "unauthenticated"},
			{name: "login with new password", method: "POST", path: "/api/auth/login", body: `{"username": "rep1", "password": "new-rep1-password"}`, status: 200, contains: []string{`"token"`}},
			{name: "admin resets a password", method: "PUT", path: "/api/users/rep2/password", user: "admin", body: `{"password": "reset-password"}`, status: 204},
			{name: "cannot deactivate self", method: "DELETE", path: "/api/users/admin", user: "admin", status: 409, code: "conflict"},
		})
		// API tokens: created by their owner, usable, revocable.
		f.tokens["manager"] = loginToken(t, f, "manager", "manager-password")
		f.tokens["agent"] = loginToken(t, f, "agent", "agent-password")
		status, m := f.do("POST", "/api/users/manager/tokens", "manager", `{"name": "ci", "ttl_seconds": 3600}`)
		if status != 201 {
			t.Fatalf("create token: %d %v", status, m)
		}
		f.tokens["ci"] = m["token"].(string)
		id := m["info"].(map[string]any)["id"].(string)
		f.run(t, []scenario{
			{name: "api token works", method: "GET", path: "/api/auth/me", user: "ci", status: 200, contains: []string{`"username":"manager"`}},
			{name: "token list hides secrets", method: "GET", path: "/api/users/manager/tokens", user: "manager", status: 200, contains: []string{`"kind":"api"`}, notContain: []string{f.tokens["ci"]}},
			{name: "others cannot revoke it", method: "DELETE", path: "/api/tokens/" + id, user: "agent", status: 404, code: "not_found"},
			{name: "others cannot list them", method: "GET", path: "/api/users/manager/tokens", user: "agent", status: 403},
			{name: "unknown token", method: "DELETE", path: "/api/tokens/nope", user: "admin", status: 404},
			{name: "owner revokes it", method: "DELETE", path: "/api/tokens/" + id, user: "manager", status: 204},
			{name: "revoked token refused", method: "GET", path: "/api/auth/me", user: "ci", status: 401, code: "unauthenticated"},
			{name: "deactivate manager", method: "DELETE", path: "/api/users/manager", user: "admin", status: 204},
			{name: "deactivated session refused", method: "GET", path: "/api/auth/me", user: "manager", status: 401, code: "unauthenticated"},
		})
	})
}

// addUser creates a user holding role, with the password "<name>-password",
// and signs them in (f.tokens[name]).
func (f *fixture) addUser(t *testing.T, name, role string) {
	t.Helper()
	if status, m := f.do("POST", "/api/users", "admin", `{"username": "`+name+`", "password": "`+name+`-password", "roles": ["`+role+`"]}`); status != 201 {
		t.Fatalf("create %s: %d %v", name, status, m)
	}
	f.tokens[name] = loginToken(t, f, name, name+"-password")
}

// loginToken signs user in and returns the session token.
func loginToken(t *testing.T, f *fixture, user, password string) string {
	t.Helper()
	status, m := f.do("POST", "/api/auth/login", "", `{"username": "`+user+`", "password": "`+password+`"}`)
	if status != 200 {
		t.Fatalf("login %s: %d %v", user, status, m)
	}
	return m["token"].(string)
}

func TestAPIRolesAndPermissions(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addUser(t, "agent", "service_agent")
		f.run(t, []scenario{
			{name: "roles need an administrator", method: "GET", path: "/api/roles", user: "manager", status: 403, code: "forbidden"},
			{name: "list roles", method: "GET", path: "/api/roles", user: "admin", status: 200, contains: []string{`"name":"sales_rep"`, `"name":"service_agent"`}},
			{name: "get role", method: "GET", path: "/api/roles/sales_rep", user: "admin", status: 200, contains: []string{`"parent":"sales_manager"`}},
			{name: "unknown role", method: "GET", path: "/api/roles/wizard", user: "admin", status: 404, code: "not_found"},
			{name: "permissions with policies", method: "GET", path: "/api/roles/sales_rep/permissions", user: "admin", status: 200,
				contains: []string{`"permissions"`, `"account.credit_limit","read_only"`, `"effective_roles":["sales_rep"]`}},
			{name: "agent cannot read leads", method: "GET", path: "/api/records/lead", user: "agent", status: 403, code: "forbidden"},
			{name: "grant leads to agents", method: "PUT", path: "/api/roles/service_agent/permissions", user: "admin", status: 200,
				body: `{"permissions": [{"object": "account", "actions": ["read"], "records": "all"}, {"object": "lead", "actions": ["read"], "records": "all", "fields": {"email": "hidden"}}]}`},
			{name: "agent reads leads on the next request", method: "GET", path: "/api/records/lead", user: "agent", status: 200},
			{name: "agent lost contacts", method: "GET", path: "/api/records/contact", user: "agent", status: 403, code: "forbidden"},
			{name: "hidden field cannot be filtered", method: "GET", path: "/api/records/lead?filter=email%20%3D%3D%20%22a%40b.c%22", user: "agent", status: 400, code: "bad_query", contains: []string{"email"}},
			{name: "policy for unknown object", method: "PUT", path: "/api/roles/service_agent/permissions", user: "admin", status: 422,
				body: `{"permissions": [{"object": "spaceship", "actions": ["read"]}]}`, contains: []string{"spaceship"}},
			{name: "policy for unknown field", method: "PUT", path: "/api/roles/service_agent/permissions", user: "admin", status: 422,
				body: `{"permissions": [{"object": "lead", "actions": ["read"], "fields": {"colour": "hidden"}}]}`, contains: []string{"colour"}},
			{name: "bad sharing rule condition", method: "PUT", path: "/api/roles/service_agent/permissions", user: "admin", status: 422,
				body: `{"permissions": [], "sharing_rules": [{"name": "r", "object": "account", "condition": "colour == 1", "access": "read"}]}`, contains: []string{"colour"}},
			{name: "unknown key", method: "PUT", path: "/api/roles/service_agent/permissions", user: "admin", status: 400, body: `{"permissions": [], "admin": true}`, code: "malformed_body"},
			{name: "create role", method: "POST", path: "/api/roles", user: "admin", status: 201,
				body: `{"name": "auditor", "label": {"en": "Auditor"}, "permissions": [{"object": "*", "actions": ["read"], "records": "all"}]}`},
			{name: "duplicate role", method: "POST", path: "/api/roles", user: "admin", status: 409, body: `{"name": "auditor"}`},
			{name: "role in use", method: "DELETE", path: "/api/roles/sales_rep", user: "admin", status: 409, code: "conflict", contains: []string{"rep1"}},
			{name: "parent role in use", method: "DELETE", path: "/api/roles/sales_manager", user: "admin", status: 409, code: "conflict"},
			{name: "delete unused role", method: "DELETE", path: "/api/roles/auditor", user: "admin", status: 200},
			{name: "non-admin cannot change permissions", method: "PUT", path: "/api/roles/sales_rep/permissions", user: "manager", status: 403, body: `{"permissions": []}`},
		})
	})
}

func TestAPISharesAndExplain(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.create("rep1", "account", `{"name": "Acme"}`)
		rec := "/api/records/account/" + acc
		f.run(t, []scenario{
			{name: "rep2 cannot see it", method: "GET", path: rec, user: "rep2", status: 404},
			{name: "rep2 cannot list its shares", method: "GET", path: rec + "/shares", user: "rep2", status: 404},
			{name: "rep2 cannot share it", method: "POST", path: rec + "/shares", user: "rep2", body: `{"user": "rep2", "access": "edit"}`, status: 404},
			{name: "explain: denied", method: "GET", path: "/api/access/explain?user=rep2&object=account&record=" + acc, user: "admin", status: 200,
				contains: []string{`"read":{"allowed":false`, "deny by default"}},
			{name: "share for read", method: "POST", path: rec + "/shares", user: "rep1", body: `{"user": "rep2", "access": "read"}`, status: 201, contains: []string{`"access":"read"`, `"username":"rep2"`}},
			{name: "rep2 sees it", method: "GET", path: rec, user: "rep2", status: 200, contains: []string{"Acme"}},
			{name: "rep2 lists it", method: "GET", path: "/api/records/account", user: "rep2", status: 200, contains: []string{"Acme"}},
			{name: "rep2 cannot edit it", method: "PATCH", path: rec, user: "rep2", body: `{"version": 1, "city": "Hangzhou"}`, status: 403, code: "forbidden"},
			{name: "rep2 cannot reshare it", method: "POST", path: rec + "/shares", user: "rep2", body: `{"user": "rep2", "access": "edit"}`, status: 403, code: "forbidden"},
			{name: "a reader through a share does not list the shares", method: "GET", path: rec + "/shares", user: "rep2", status: 403, code: "forbidden"},
			{name: "explain: shared", method: "GET", path: "/api/access/explain?user=rep2&object=account&record=" + acc + "&field=credit_limit", user: "admin", status: 200,
				contains: []string{`"read":{"allowed":true`, "record shared with the user", `"field_level":"read_only"`, `"edit":{"allowed":false`}},
			{name: "explain needs admin", method: "GET", path: "/api/access/explain?user=rep2&object=account", user: "manager", status: 403},
			{name: "explain needs user and object", method: "GET", path: "/api/access/explain?user=rep2", user: "admin", status: 400},
			{name: "explain unknown user", method: "GET", path: "/api/access/explain?user=ghost&object=account", user: "admin", status: 404},
			{name: "share with ghost", method: "POST", path: rec + "/shares", user: "rep1", body: `{"user": "ghost"}`, status: 404},
			{name: "bad access level", method: "POST", path: rec + "/shares", user: "rep1", body: `{"user": "rep2", "access": "own"}`, status: 422},
			{name: "unshare", method: "DELETE", path: rec + "/shares/rep2", user: "rep1", status: 204},
			{name: "gone again", method: "GET", path: rec, user: "rep2", status: 404},
			{name: "unknown object", method: "GET", path: "/api/records/spaceship/x/shares", user: "admin", status: 404},
		})
	})
}
