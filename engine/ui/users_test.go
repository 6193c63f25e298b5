package ui_test

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// tryLogin signs user in with password through the sign-in page and
// returns the client and the answer's status (303 when signed in).
func tryLogin(t *testing.T, s *apitest.Server, user, password string) (*client, int) {
	t.Helper()
	c := newClient(t, s)
	if st, _ := c.get("/ui/login"); st != 200 {
		t.Fatalf("login page: %d", st)
	}
	st, _, _ := c.post("/ui/login", url.Values{"username": {user}, "password": {password}, "next": {"/ui/"}})
	return c, st
}

// apiUser reads a user through the API as the administrator.
func apiUser(t *testing.T, s *apitest.Server, ref string) (int, map[string]any) {
	t.Helper()
	return s.Do("GET", "/api/users/"+ref, "admin", "")
}

// rolesOf returns the roles of a user as the API shows them, sorted.
func rolesOf(m map[string]any) []string {
	var out []string
	for _, r := range m["roles"].([]any) {
		out = append(out, r.(string))
	}
	slices.Sort(out)
	return out
}

// userIDPattern finds the id of the user a redirect names.
var userIDPattern = regexp.MustCompile(`^/ui/admin/users/([0-9a-f-]{36})\?flash=user_created$`)

// TestUserAdministration: an administrator lists the users, creates one
// (problems next to their inputs first), changes their roles and
// manager, sets their password (they sign in with it) and deactivates
// them (they can no longer sign in, their session ends); the last
// administrator cannot lose the role nor deactivate themselves; a sales
// rep is refused every page and every change of it, and nothing changes.
func TestUserAdministration(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin, rep := signedIn(t, s, "admin"), signedIn(t, s, "rep1")
		rep2, manager, adminID := s.UserID("rep2"), s.UserID("manager"), s.UserID("admin")

		// A sales rep: 403 on every route, and nothing changed.
		run(t, rep, []pageCase{
			{name: "rep: the list", path: "/ui/admin/users", status: 403},
			{name: "rep: the create form", path: "/ui/admin/users/new", status: 403},
			{name: "rep: a user's page", path: "/ui/admin/users/" + rep2, status: 403, notContain: []string{"rep2"}},
			{name: "rep: create", method: "POST", path: "/ui/admin/users", form: url.Values{"username": {"intruder"}, "password": {"intruder-password"}, "roles": {"admin"}}, status: 403},
			{name: "rep: edit", method: "POST", path: "/ui/admin/users/" + rep2, form: url.Values{"roles": {"admin"}, "display_name": {"Taken over"}, "active": {"true"}}, status: 403},
			{name: "rep: set a password", method: "POST", path: "/ui/admin/users/" + rep2 + "/password", form: url.Values{"new_password": {"hijacked-password"}}, status: 403},
			{name: "rep: deactivate", method: "POST", path: "/ui/admin/users/" + rep2 + "/deactivate", status: 403},
			{name: "rep: no link to the users", path: "/ui/", status: 200, notContain: []string{"/ui/admin/users"}},
		})
		if st, _ := apiUser(t, s, "intruder"); st != 404 {
			t.Errorf("the rep created a user: %d", st)
		}
		if st, m := apiUser(t, s, "rep2"); st != 200 || m["display_name"] == "Taken over" || m["active"] != true || !slices.Equal(rolesOf(m), []string{"sales_rep"}) {
			t.Errorf("the rep changed rep2: %d %v", st, m)
		}
		if _, st := tryLogin(t, s, "rep2", "rep2-password"); st != 303 {
			t.Errorf("rep2's password changed: %d", st)
		}

		// The administrator's list and a new user.
		run(t, admin, []pageCase{
			{name: "the builder links to the users and the explanation of access", path: "/ui/admin/", status: 200, contains: []string{`href="/ui/admin/users"`, `href="/ui/admin/access"`}},
			{name: "the list", path: "/ui/admin/users", status: 200, contains: []string{`href="/ui/admin/users/` + rep2 + `">rep2</a>`, "Sales rep", "<td>manager</td>", `href="/ui/admin/users/new"`}},
			{name: "the create form", path: "/ui/admin/users/new", status: 200,
				contains: []string{`<label for="b_username">`, `type="password" id="b_password"`, `id="role_sales_rep" name="roles" value="sales_rep"`, `<option value="` + manager + `">manager</option>`}},
		})
		newUser := url.Values{"username": {"newbie"}, "password": {"short"}, "display_name": {"New Bie"}, "email": {"newbie@example.com"},
			"roles": {"sales_rep"}, "manager": {manager}, "department": {"East"}, "language": {"zh"}}
		run(t, admin, []pageCase{
			{name: "a short password next to its input", method: "POST", path: "/ui/admin/users", form: newUser, status: 422,
				contains: []string{`id="b_password_error"`, "Too short: at least 8 characters.", `value="New Bie"`, `value="sales_rep" checked`}},
			{name: "a taken username next to its input", method: "POST", path: "/ui/admin/users", form: with(newUser, "username", "rep1", "password", "newbie-password"), status: 409,
				contains: []string{`id="b_username_error"`, "This username is taken."}},
			{name: "an unknown role", method: "POST", path: "/ui/admin/users", form: with(newUser, "roles", "emperor", "password", "newbie-password"), status: 422,
				contains: []string{`id="roles_error"`, "emperor"}},
		})
		if st, _ := apiUser(t, s, "newbie"); st != 404 {
			t.Fatalf("a refused create created the user: %d", st)
		}
		st, body, resp := admin.post("/ui/admin/users", with(newUser, "password", "newbie-password"))
		m := userIDPattern.FindStringSubmatch(resp.Header.Get("Location"))
		if st != 303 || m == nil {
			t.Fatalf("create: %d %s %s", st, resp.Header.Get("Location"), body)
		}
		id := m[1]
		if st, u := apiUser(t, s, "newbie"); st != 200 || u["id"] != id || u["manager"] != "manager" || u["department"] != "East" || u["language"] != "zh" || !slices.Equal(rolesOf(u), []string{"sales_rep"}) {
			t.Fatalf("the created user: %d %v", st, u)
		}
		newbie, st := tryLogin(t, s, "newbie", "newbie-password")
		if st != 303 {
			t.Fatalf("the new user signs in: %d", st)
		}

		// Roles, manager and the rest edited.
		page := "/ui/admin/users/" + id
		run(t, admin, []pageCase{
			{name: "the user's page", path: page + "?flash=user_created", status: 200,
				contains: []string{"The user is created.", `value="sales_rep" checked`, `<option value="` + manager + `" selected>manager</option>`, `id="b_active" name="active" value="true" checked`,
					`action="` + page + `/password"`, `action="` + page + `/deactivate"`, `data-confirm="Deactivate this user?`}},
			{name: "roles and manager changed", method: "POST", path: page, status: 303,
				form: url.Values{"display_name": {"Newbie Bie"}, "email": {"newbie@example.com"}, "roles": {"sales_rep", "marketing"}, "manager": {""}, "department": {"East"}, "language": {"zh"}, "active": {"true"}}},
			{name: "an unknown role is refused", method: "POST", path: page, status: 422, form: url.Values{"roles": {"emperor"}, "active": {"true"}}, contains: []string{`id="roles_error"`}},
			{name: "a bad e-mail is refused", method: "POST", path: page, status: 422, form: url.Values{"roles": {"sales_rep"}, "email": {"not an address"}, "active": {"true"}}, contains: []string{"is not an e-mail address", `value="not an address"`}},
		})
		if st, u := apiUser(t, s, "newbie"); st != 200 || u["display_name"] != "Newbie Bie" || u["manager"] != nil || !slices.Equal(rolesOf(u), []string{"marketing", "sales_rep"}) || u["email"] != "newbie@example.com" {
			t.Fatalf("the edited user: %d %v", st, u)
		}
		run(t, admin, []pageCase{
			{name: "the list shows the new roles", path: "/ui/admin/users", status: 200, contains: []string{"Newbie Bie", "Marketing, Sales rep"}},
			{name: "the last administrator keeps the role", method: "POST", path: "/ui/admin/users/" + adminID, status: 409,
				form: url.Values{"roles": {"sales_rep"}, "active": {"true"}}, contains: []string{"no active administrator"}},
		})
		// With another administrator, one still cannot deactivate oneself.
		if st, m := s.Do("PATCH", "/api/users/manager", "admin", `{"roles": ["sales_manager", "admin"]}`); st != 200 {
			t.Fatalf("a second administrator: %d %v", st, m)
		}
		run(t, admin, []pageCase{
			{name: "nor deactivates themselves", method: "POST", path: "/ui/admin/users/" + adminID + "/deactivate", status: 409, contains: []string{"you cannot deactivate your own account"}},
			{name: "their own page offers no deactivation", path: "/ui/admin/users/" + adminID, status: 200, notContain: []string{"/deactivate"}},
		})
		if st, u := apiUser(t, s, "admin"); st != 200 || !slices.Equal(rolesOf(u), []string{"admin"}) || u["active"] != true {
			t.Fatalf("the administrator lost the role or the account: %d %v", st, u)
		}

		// A new password: the user's session ends, the new password signs in.
		run(t, admin, []pageCase{
			{name: "a short password is refused", method: "POST", path: page + "/password", form: url.Values{"new_password": {"short"}}, status: 422,
				contains: []string{`id="b_new_password_error"`, "Too short"}},
			{name: "the password set", method: "POST", path: page + "/password", form: url.Values{"new_password": {"fresh-password-1"}}, status: 303},
		})
		if st, _ := newbie.get("/ui/"); st != 303 {
			t.Errorf("the user's session outlived the new password: %d", st)
		}
		if _, st := tryLogin(t, s, "newbie", "newbie-password"); st != 401 {
			t.Errorf("the old password still signs in: %d", st)
		}
		newbie, st = tryLogin(t, s, "newbie", "fresh-password-1")
		if st != 303 {
			t.Fatalf("the new password does not sign in: %d", st)
		}

		// Deactivated: signed out and refused.
		st, _, resp = admin.post(page+"/deactivate", nil)
		if st != 303 || resp.Header.Get("Location") != page+"?flash=user_deactivated" {
			t.Fatalf("deactivate: %d %v", st, resp.Header)
		}
		if st, _ := newbie.get("/ui/"); st != 303 {
			t.Errorf("the deactivated user's session still works: %d", st)
		}
		if _, st := tryLogin(t, s, "newbie", "fresh-password-1"); st != 401 {
			t.Errorf("the deactivated user signs in: %d", st)
		}
		run(t, admin, []pageCase{
			{name: "inactive on the page", path: page + "?flash=user_deactivated", status: 200, contains: []string{"The user is deactivated.", `id="b_active" name="active" value="true">`}, notContain: []string{"/deactivate"}},
			{name: "inactive in the list", path: "/ui/admin/users", status: 200, contains: []string{"Inactive"}},
		})
		if st, u := apiUser(t, s, "newbie"); st != 200 || u["active"] != false {
			t.Fatalf("the deactivated user: %d %v", st, u)
		}
		// Ticking Active lets them in again, the rest unchanged.
		run(t, admin, []pageCase{
			{name: "reactivated", method: "POST", path: page, status: 303,
				form: url.Values{"display_name": {"Newbie Bie"}, "email": {"newbie@example.com"}, "roles": {"marketing", "sales_rep"}, "department": {"East"}, "language": {"zh"}, "active": {"true"}}},
		})
		if _, st := tryLogin(t, s, "newbie", "fresh-password-1"); st != 303 {
			t.Errorf("the reactivated user cannot sign in: %d", st)
		}
		if st, u := apiUser(t, s, "newbie"); st != 200 || u["active"] != true || u["display_name"] != "Newbie Bie" || !slices.Equal(rolesOf(u), []string{"marketing", "sales_rep"}) {
			t.Fatalf("the reactivated user: %d %v", st, u)
		}
	})
}

// with returns a copy of v with the pairs key, value set.
func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// Patterns of the account page: a new token's secret and a revoke form.
var (
	secretPattern = regexp.MustCompile(`id="token_secret" value="([^"]+)"`)
	revokePattern = regexp.MustCompile(`action="(/ui/account/tokens/([^/"]+)/revoke)"`)
)

// TestOwnAccount: a user changes their own password (a wrong current
// password, two different new ones or a short one refused with the
// reason and nothing changed; then changed, the browser still signed in
// and the old password refused), creates an API token whose secret the
// page shows once and which authenticates API requests, and revokes it;
// another user cannot revoke it.
func TestOwnAccount(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		change := func(current, pw, again string) url.Values {
			return url.Values{"current_password": {current}, "new_password": {pw}, "repeat_password": {again}}
		}
		run(t, rep, []pageCase{
			{name: "the header links the account", path: "/ui/", status: 200, contains: []string{`<a class="who" href="/ui/account">`}},
			{name: "a token without the form's CSRF token", method: "POST", path: "/ui/account/tokens", form: url.Values{"_csrf": {"forged"}, "name": {"forged"}, "days": {"0"}}, status: 403},
			{name: "the account page", path: "/ui/account", status: 200,
				contains:   []string{"<h1>My account</h1>", `<a class="who" href="/ui/account" aria-current="page">`, `<label for="b_current_password">`, `autocomplete="current-password"`, `<label for="b_repeat_password">`, "No API tokens yet.", `<label for="b_days">`},
				notContain: []string{`href="/ui/o/account" aria-current`}},
			{name: "a wrong current password", method: "POST", path: "/ui/account/password", form: change("rep1-wrong", "brand-new-pass", "brand-new-pass"), status: 403,
				contains: []string{`id="b_current_password_error"`, "The current password is wrong; nothing was changed."}},
			{name: "two different new passwords", method: "POST", path: "/ui/account/password", form: change("rep1-password", "brand-new-pass", "brand-new-pazz"), status: 422,
				contains: []string{`id="b_repeat_password_error"`, "The two new passwords differ."}},
			{name: "a short new password", method: "POST", path: "/ui/account/password", form: change("rep1-password", "short", "short"), status: 422,
				contains: []string{`id="b_new_password_error"`, "Too short: at least 8 characters."}},
		})
		if st, _ := rep.get("/ui/"); st != 200 {
			t.Fatalf("the refused changes ended the session: %d", st)
		}
		// signsIn checks which of rep1's passwords sign in (303) or not (401).
		signsIn := func(when string, want map[string]int) {
			for pw, st := range want {
				if _, got := tryLogin(t, s, "rep1", pw); got != st {
					t.Fatalf("%s, the password %q signs in with %d, want %d", when, pw, got, st)
				}
			}
		}
		signsIn("after the refused changes", map[string]int{"rep1-password": 303, "brand-new-pass": 401})
		other, _ := tryLogin(t, s, "rep1", "rep1-password")
		st, body, resp := rep.post("/ui/account/password", change("rep1-password", "brand-new-pass", "brand-new-pass"))
		if st != 303 || resp.Header.Get("Location") != "/ui/account?flash=password_changed" {
			t.Fatalf("the password change: %d %s", st, body)
		}
		run(t, rep, []pageCase{
			{name: "still signed in here", path: "/ui/account?flash=password_changed", status: 200, contains: []string{"Your password is changed"}},
		})
		if st, _ := other.get("/ui/"); st != 303 {
			t.Errorf("another session outlived the password change: %d", st)
		}
		signsIn("after the change", map[string]int{"rep1-password": 401, "brand-new-pass": 303})

		// A token, shown once, that authenticates API requests.
		run(t, rep, []pageCase{
			{name: "a bad lifetime", method: "POST", path: "/ui/account/tokens", form: url.Values{"name": {"ci"}, "days": {"99999"}}, status: 400, contains: []string{`id="b_days_error"`}},
		})
		st, body, _ = rep.post("/ui/account/tokens", url.Values{"name": {"ci"}, "days": {"30"}})
		sm := secretPattern.FindStringSubmatch(body)
		if st != 201 || sm == nil || !strings.Contains(body, "Copy it now") {
			t.Fatalf("create a token: %d %s", st, body)
		}
		secret := html.UnescapeString(sm[1])
		me := func() (int, string) {
			st, raw := s.Raw("GET", "/api/auth/me", "", "", nil, map[string]string{"Authorization": "Bearer " + secret})
			return st, string(raw)
		}
		if st, raw := me(); st != 200 || !strings.Contains(raw, `"rep1"`) {
			t.Fatalf("the token on the API: %d %s", st, raw)
		}
		st, body = rep.get("/ui/account")
		rm := revokePattern.FindStringSubmatch(body)
		if st != 200 || rm == nil || !strings.Contains(body, "<td>ci</td>") || strings.Contains(body, secret) || strings.Contains(body, `id="token_secret"`) {
			t.Fatalf("the token listed (its secret not shown again): %d %s", st, body)
		}
		run(t, rep2, []pageCase{
			{name: "another user's token is unknown", method: "POST", path: rm[1], status: 404},
			{name: "nor listed to them", path: "/ui/account", status: 200, contains: []string{"No API tokens yet."}, notContain: []string{rm[2]}},
		})
		if st, _ := me(); st != 200 {
			t.Fatalf("another user revoked the token: %d", st)
		}
		st, _, resp = rep.post(rm[1], nil)
		if st != 303 || resp.Header.Get("Location") != "/ui/account?flash=token_revoked" {
			t.Fatalf("revoke: %d %v", st, resp.Header)
		}
		if st, raw := me(); st != 401 {
			t.Fatalf("the revoked token still authenticates: %d %s", st, raw)
		}
		run(t, rep, []pageCase{
			{name: "revoked on the page", path: "/ui/account?flash=token_revoked", status: 200, contains: []string{"The token is revoked.", "<td>Revoked</td>"}, notContain: []string{rm[1]}},
		})
	})
}

// TestAccountInChinese: the account and users pages speak the user's
// language.
func TestAccountInChinese(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin := signedIn(t, s, "admin")
		admin.Header["Accept-Language"] = "zh-CN"
		for path, want := range map[string]string{"/ui/account": "修改密码", "/ui/admin/users": "显示名称", "/ui/admin/users/new": "新建用户"} {
			if st, body := admin.get(path); st != 200 || !strings.Contains(body, want) {
				t.Errorf("%s in Chinese: %d, without %q: %s", path, st, want, body)
			}
		}
	})
}

// TestAdminRevokesToken: an administrator sees a user's API tokens on the
// user's page and revokes one there; the token no longer authenticates,
// the path of another user does not reach it, and a user who is not an
// administrator cannot use the route.
func TestAdminRevokesToken(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep, rep2, admin := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "admin")
		st, body, _ := rep.post("/ui/account/tokens", url.Values{"name": {"laptop-sync"}, "days": {"0"}})
		sm := secretPattern.FindStringSubmatch(body)
		if st != 201 || sm == nil {
			t.Fatalf("create a token: %d %s", st, body)
		}
		bearer := map[string]string{"Authorization": "Bearer " + html.UnescapeString(sm[1])}
		me := func() int { st, _ := s.Raw("GET", "/api/auth/me", "", "", nil, bearer); return st }
		id, id2 := s.UserID("rep1"), s.UserID("rep2")
		st, body = admin.get("/ui/admin/users/" + id)
		rm := regexp.MustCompile(`action="(/ui/admin/users/` + id + `/tokens/([^/"]+)/revoke)"`).FindStringSubmatch(body)
		if st != 200 || rm == nil || !strings.Contains(body, "<td>laptop-sync</td>") || strings.Contains(body, sm[1]) || !strings.Contains(body, `href="/ui/admin/access?user=rep1"`) {
			t.Fatalf("the user's page lists the token (not its secret) and links the explanation of the user's access: %d %s", st, body)
		}
		run(t, admin, []pageCase{
			{name: "another user's page lists none", path: "/ui/admin/users/" + id2, status: 200, contains: []string{"No API tokens yet."}, notContain: []string{rm[2]}},
			{name: "nor reaches it", method: "POST", path: "/ui/admin/users/" + id2 + "/tokens/" + rm[2] + "/revoke", status: 404},
		})
		run(t, rep2, []pageCase{
			{name: "only administrators", method: "POST", path: rm[1], status: 403},
		})
		if st := me(); st != 200 {
			t.Fatalf("the token was revoked by a refused request: %d", st)
		}
		st, _, resp := admin.post(rm[1], nil)
		if st != 303 || resp.Header.Get("Location") != "/ui/admin/users/"+id+"?flash=token_revoked" {
			t.Fatalf("revoke: %d %v", st, resp.Header)
		}
		if st := me(); st != 401 {
			t.Fatalf("the revoked token still authenticates: %d", st)
		}
		run(t, admin, []pageCase{
			{name: "revoked on the user's page", path: "/ui/admin/users/" + id + "?flash=token_revoked", status: 200, contains: []string{"The token is revoked.", "<td>Revoked</td>"}, notContain: []string{rm[1]}},
		})
	})
}
