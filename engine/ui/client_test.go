package ui_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// client is a browser-like HTTP client of the UI over the fiber app: it
// keeps cookies and the last page's CSRF token.
type client struct {
	t    testing.TB
	s    *apitest.Server
	jar  *cookiejar.Jar
	csrf string
	// Header is sent with every request.
	Header map[string]string
}

// base is the URL the jar keys cookies by.
var base, _ = url.Parse("http://example.test/")

// newClient returns a client without a session.
func newClient(t testing.TB, s *apitest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, s: s, jar: jar, Header: map[string]string{}}
}

// csrfPattern finds a form's CSRF token.
var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// do sends a request and returns the status, the body and the answer.
func (c *client) do(method, path string, form url.Values) (int, string, *http.Response) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://example.test"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	for _, ck := range c.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	resp, err := c.s.App.Test(req, -1)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	c.jar.SetCookies(base, resp.Cookies())
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if m := csrfPattern.FindSubmatch(raw); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(raw), resp
}

// get fetches a page.
func (c *client) get(path string) (int, string) {
	c.t.Helper()
	st, body, _ := c.do("GET", path, nil)
	return st, body
}

// post submits a form with the CSRF token of the last page.
func (c *client) post(path string, form url.Values) (int, string, *http.Response) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	return c.do("POST", path, form)
}

// login signs user in through the sign-in page.
func (c *client) login(user string) {
	c.t.Helper()
	if st, _ := c.get("/ui/login"); st != 200 {
		c.t.Fatalf("login page: %d", st)
	}
	st, body, resp := c.post("/ui/login", url.Values{"username": {user}, "password": {user + "-password"}, "next": {"/ui/"}})
	if st != 303 || resp.Header.Get("Location") != "/ui/" {
		c.t.Fatalf("login %s: %d %s", user, st, body)
	}
	if st, _ := c.get("/ui/"); st != 200 {
		c.t.Fatalf("home after login: %d", st)
	}
}

// signedIn returns a client signed in as user.
func signedIn(t testing.TB, s *apitest.Server, user string) *client {
	c := newClient(t, s)
	c.login(user)
	return c
}

// idPattern finds the id of a record page a redirect names.
var idPattern = regexp.MustCompile(`/ui/o/[a-z_]+/([0-9a-f-]{36})`)

// createdID returns the id of the record a create redirected to.
func createdID(t testing.TB, resp *http.Response) string {
	t.Helper()
	m := idPattern.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("no record in the redirect %q", resp.Header.Get("Location"))
	}
	return m[1]
}
