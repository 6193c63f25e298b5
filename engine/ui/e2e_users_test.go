package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserUsersAndAccount: an administrator creates a sales rep in the
// users' pages of a real browser; the rep opens their account from the
// header and creates an API token, whose secret the page shows once; the
// pages pass the accessibility checks, at 390 px too.
func TestBrowserUsersAndAccount(t *testing.T) {
	s, base := liveServer(t)

	a := newTab(t, base, "admin")
	a.login("admin")
	a.open("/ui/admin/")
	a.submit(`a[href="/ui/admin/users"]`)
	if body := a.text("main"); !strings.Contains(body, "rep1") || !strings.Contains(body, "Sales rep") {
		t.Fatalf("the users' list: %s", body)
	}
	a.checkA11y("users")
	a.checkNarrow("users", "admin-users")
	a.submit(`a[href="/ui/admin/users/new"]`)
	a.do(chromedp.SendKeys(chromedp.ID("b_username"), "lin"), chromedp.SendKeys(chromedp.ID("b_password"), "lin-password"),
		chromedp.SendKeys(chromedp.ID("b_display_name"), "Lin Fang"), chromedp.Click(chromedp.ID("role_sales_rep")))
	a.setSelect("#b_manager", s.UserID("manager"))
	a.checkA11y("new user")
	a.submit(`form[action="/ui/admin/users"] button[type=submit]`)
	if body := a.text("main"); !strings.Contains(body, "The user is created.") || !strings.Contains(body, "Set a new password") {
		t.Fatalf("the new user's page: %s", body)
	}
	a.checkA11y("user")
	a.shot("admin-user")
	a.checkNarrow("user", "admin-user")
	a.noErrors("users")

	r := newTab(t, base, "lin")
	r.login("lin")
	r.submit(`a.who[href="/ui/account"]`)
	if body := r.text("main"); !strings.Contains(body, "Change your password") || !strings.Contains(body, "No API tokens yet.") {
		t.Fatalf("the account page: %s", body)
	}
	r.checkA11y("account")
	r.do(chromedp.SendKeys(chromedp.ID("b_name"), "nightly export"))
	r.submit(`form[action="/ui/account/tokens"] button[type=submit]`)
	secret := eval[string](r, `document.getElementById("token_secret").value`)
	if secret == "" || !strings.Contains(r.text("main"), "nightly export") {
		t.Fatalf("the new token's secret: %q %s", secret, r.text("main"))
	}
	if st, raw := s.Raw("GET", "/api/auth/me", "", "", nil, map[string]string{"Authorization": "Bearer " + secret}); st != 200 || !strings.Contains(string(raw), `"lin"`) {
		t.Fatalf("the token on the API: %d %s", st, raw)
	}
	r.checkA11y("account with a new token")
	r.shot("my-account")
	r.checkNarrow("account", "my-account")
	r.noErrors("account")
}
