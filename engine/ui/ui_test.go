package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// page is one expectation of a UI request.
type pageCase struct {
	name       string
	method     string
	path       string
	form       url.Values
	status     int
	contains   []string
	notContain []string
}

// run checks cases in order as c.
func run(t *testing.T, c *client, cases []pageCase) {
	t.Helper()
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			var st int
			var body string
			if pc.method == "POST" {
				st, body, _ = c.post(pc.path, pc.form)
			} else {
				st, body = c.get(pc.path)
			}
			if st != pc.status {
				t.Fatalf("status %d, want %d: %s", st, pc.status, body)
			}
			for _, s := range pc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			if t.Failed() {
				t.Logf("the page:\n%s", body)
			}
			for _, s := range pc.notContain {
				if strings.Contains(body, s) {
					t.Errorf("the page must not contain %q", s)
				}
			}
		})
	}
}

func TestSessionAndSecurity(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		anon := newClient(t, s)
		st, _, resp := anon.do("GET", "/ui/o/lead", nil)
		if st != 303 || resp.Header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/o/lead") {
			t.Fatalf("anonymous list: %d %s", st, resp.Header.Get("Location"))
		}
		st, body, resp := anon.do("GET", "/ui/login", nil)
		if st != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") || strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe") {
			t.Fatalf("login page: %d, CSP %q", st, resp.Header.Get("Content-Security-Policy"))
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(body, `<label for="username">`) {
			t.Fatalf("login page lacks its headers or labels: %s", body)
		}
		// A sign-in without the form's token is refused, whatever the password.
		st, _, _ = anon.post("/ui/login", url.Values{"_csrf": {"forged"}, "username": {"admin"}, "password": {"admin-password"}})
		if st != 403 {
			t.Fatalf("forged sign-in: %d", st)
		}
		st, body, _ = anon.post("/ui/login", url.Values{"username": {"admin"}, "password": {"wrong-password"}})
		if st != 401 || !strings.Contains(body, "Unknown username or wrong password") {
			t.Fatalf("wrong password: %d", st)
		}
		rep := signedIn(t, s, "rep1")
		var sess string
		for _, ck := range rep.jar.Cookies(base) {
			if ck.Name == "crm_session" {
				sess = ck.Value
			}
		}
		if sess == "" {
			t.Fatal("no session cookie")
		}
		// The session cookie is HttpOnly and SameSite.
		c2 := newClient(t, s)
		c2.get("/ui/login")
		_, _, r2 := c2.post("/ui/login", url.Values{"username": {"rep2"}, "password": {"rep2-password"}})
		setCookie := strings.Join(r2.Header.Values("Set-Cookie"), "\n")
		if !regexp.MustCompile(`crm_session=[^;]+;.*HttpOnly; SameSite=Lax`).MatchString(setCookie) || strings.Contains(setCookie, "Secure") {
			t.Fatalf("session cookie: %s", setCookie)
		}
		run(t, rep, []pageCase{
			{name: "home lists readable objects", path: "/ui/", status: 200, contains: []string{"Leads", "Accounts", "Sign out"}, notContain: []string{"/ui/admin"}},
			{name: "post without csrf", method: "POST", path: "/ui/o/lead", form: url.Values{"_csrf": {""}, "person": {"X"}}, status: 403},
			{name: "post with another session's csrf", method: "POST", path: "/ui/o/lead", form: url.Values{"_csrf": {c2.csrf}, "person": {"X"}}, status: 403},
		})
		// Another origin is refused even with the right token.
		rep.Header["Origin"] = "http://evil.test"
		st, _, _ = rep.post("/ui/o/lead", url.Values{"person": {"X"}})
		delete(rep.Header, "Origin")
		if st != 403 {
			t.Fatalf("cross-origin post: %d", st)
		}
		// Signing out revokes the token: the old cookie no longer works.
		st, _, _ = rep.post("/ui/logout", nil)
		if st != 303 {
			t.Fatalf("logout: %d", st)
		}
		stale := newClient(t, s)
		stale.jar.SetCookies(base, []*http.Cookie{{Name: "crm_session", Value: sess}})
		if st, _ := stale.get("/ui/"); st != 303 {
			t.Fatalf("revoked session: %d", st)
		}
		if st, _ := s.Raw("GET", "/api/auth/me", "", "", nil, map[string]string{"Authorization": "Bearer " + sess}); st != 401 {
			t.Fatalf("revoked token on the API: %d", st)
		}
		// Failed sign-ins are throttled as the API's are (shared counts; last,
		// as every request here comes from one client address).
		for i := 0; i <= 5; i++ {
			st, body, resp = anon.post("/ui/login", url.Values{"username": {"mkt"}, "password": {"wrong-password"}})
			if i == 5 && (st != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins")) {
				t.Fatalf("sixth failed sign-in: %d %s", st, body)
			}
		}
		if st, _ := s.Do("POST", "/api/auth/login", "", `{"username": "mkt", "password": "mkt-password"}`); st != 429 {
			t.Fatalf("the API's sign-in after the UI's failures: %d", st)
		}
	})
}
