package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/gofiber/fiber/v2"
)

// Cookie names and the form field and header that carry the CSRF token.
const (
	sessionCookie = "crm_session"
	preCookie     = "crm_pre"
	langCookie    = "crm_lang"
	tzCookie      = "crm_tz"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// sessionTTL is how long the session cookie is kept; the access service's
// session token it holds expires on its own (12 hours by default).
const sessionTTL = 12 * time.Hour

// Local keys of a request.
const (
	localToken = "ui.token"
	localLang  = "ui.lang"
	localLoc   = "ui.loc"
)

// contentSecurityPolicy allows scripts, styles, images, fonts and requests
// from the server's own origin only: no inline script or style, no eval,
// no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers of every UI answer and picks the
// request's language and time zone.
func (u *UI) secure(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	lang := langOf(c)
	c.Locals(localLang, lang)
	ctx := engine.WithLanguage(c.UserContext(), lang)
	if tz := c.Cookies(tzCookie); tz != "" && tz != "Local" {
		if loc, err := time.LoadLocation(tz); err == nil {
			c.Locals(localLoc, loc)
			ctx = engine.WithLocation(ctx, loc)
		}
	}
	c.SetUserContext(ctx)
	return c.Next()
}

// langOf picks the language of a request: the one the user chose (a
// cookie), else the browser's (Accept-Language), else English.
func langOf(c *fiber.Ctx) string {
	if l := c.Cookies(langCookie); supported(l) {
		return l
	}
	if l := engine.ParseAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage)); supported(l) {
		return l
	}
	return "en"
}

// secureCookie reports whether cookies must be Secure: the request came
// over TLS.
func secureCookie(c *fiber.Ctx) bool { return c.Secure() }

// setCookie sets an HttpOnly, SameSite cookie for the whole site.
func setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration, sameSite string) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: secureCookie(c), SameSite: sameSite}
	if maxAge < 0 {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
	}
	c.Cookie(ck)
}

// auth is the middleware of every page that needs a signed-in user: the
// session cookie holds an access-service token, turned into the request's
// principal as the API's Authenticate does. Without a valid session a
// page request is sent to the sign-in page (an htmx request is told to
// go there).
func (u *UI) auth(c *fiber.Ctx) error {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return u.toLogin(c)
	}
	p, err := u.acc.Authenticate(c.UserContext(), tok)
	if errors.Is(err, access.ErrUnauthenticated) {
		setCookie(c, sessionCookie, "", -1, fiber.CookieSameSiteLaxMode)
		return u.toLogin(c)
	}
	if err != nil {
		return u.fail(c, err)
	}
	c.Locals(localToken, tok)
	c.SetUserContext(engine.WithRequest(access.WithPrincipal(c.UserContext(), p)))
	return c.Next()
}

// toLogin answers a request without a session: a redirect to the sign-in
// page that comes back to the page asked for.
func (u *UI) toLogin(c *fiber.Ctx) error {
	next := "/ui/"
	if c.Method() == fiber.MethodGet && c.Get("HX-Request") == "" {
		next = requestURI(c)
	}
	target := "/ui/login?next=" + url.QueryEscape(next)
	if c.Get("HX-Request") != "" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// csrfToken is the CSRF token of a session: an HMAC of the session token,
// which only the holder of the HttpOnly cookie can compute (so it needs no
// storage and holds on every server).
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("crm-ui-csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrf guards every state-changing request: the form field _csrf (or the
// X-CSRF-Token header htmx sends) must carry the session's token, and a
// request naming its Origin must come from this server. Signed-out forms
// (sign in, language) use a random pre-session cookie the same way
// (double submit).
func (u *UI) csrf(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Next()
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		if ou, err := url.Parse(o); err != nil || ou.Host != string(c.Request().Host()) {
			return u.refuse(c, fiber.StatusForbidden, "csrf_origin")
		}
	}
	want := u.expectedCSRF(c)
	got := c.FormValue(csrfField)
	if got == "" {
		got = c.Get(csrfHeader)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return u.refuse(c, fiber.StatusForbidden, "csrf_failed")
	}
	return c.Next()
}

// expectedCSRF is the CSRF token the request must carry: the session's,
// or for a signed-out form the pre-session cookie's.
func (u *UI) expectedCSRF(c *fiber.Ctx) string {
	if tok, _ := c.Locals(localToken).(string); tok != "" {
		return csrfToken(tok)
	}
	if tok := c.Cookies(sessionCookie); tok != "" {
		return csrfToken(tok)
	}
	if pre := c.Cookies(preCookie); len(pre) >= 32 {
		return csrfToken(pre)
	}
	return ""
}

// formCSRF returns the CSRF token a page's forms carry, setting the
// pre-session cookie on a signed-out page that has none.
func (u *UI) formCSRF(c *fiber.Ctx) string {
	if want := u.expectedCSRF(c); want != "" {
		return want
	}
	pre := rand.Text() + rand.Text()
	setCookie(c, preCookie, pre, 0, fiber.CookieSameSiteStrictMode)
	return csrfToken(pre)
}

// safeNext keeps a post-login destination on this site's UI.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

// requestURI is the path and query of the request (without scheme and
// host, even when the request line had them).
func requestURI(c *fiber.Ctx) string { return string(c.Request().URI().RequestURI()) }
