package ui

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/gofiber/fiber/v2"
)

// tokenDays are the lifetimes, in days, the account page offers a new API
// token (0: no expiry).
var tokenDays = []int{0, 30, 90, 365}

// accountData is the content of the own account page: the user, their API
// tokens, the secret of a token just created (shown once), and the
// problems of a refused post.
type accountData struct {
	User *access.User
	// RoleLabels names the user's roles.
	RoleLabels string
	Tokens     []tokenView
	// Secret is the token just created, and Created its description.
	Secret      string
	Created     *access.Token
	Days        []int
	MinPassword int
	Errors      map[string]string
	General     []string
}

// tokenView is an API token as a page lists it.
type tokenView struct {
	*access.Token
	// State is token_is_active, token_is_revoked or token_is_expired.
	State string
	// Revoke is the path its revoke form posts to.
	Revoke string
}

// tokenTable is a user's API tokens with their page, for the tokens
// template (the account page and a user's page in the administration).
type tokenTable struct {
	P      *page
	Tokens []tokenView
}

// apiTokens lists the user's API tokens (not their sessions: signing out
// ends those), newest first as the access service lists them, each with
// its state and the path under revokeBase that revokes it.
func (u *UI) apiTokens(c *fiber.Ctx, userID, revokeBase string) ([]tokenView, error) {
	ts, err := u.acc.ListTokens(c.UserContext(), userID)
	if err != nil {
		return nil, err
	}
	now, out := u.eng.Now(), []tokenView{}
	for _, t := range ts {
		if t.Kind != access.TokenAPI {
			continue
		}
		v := tokenView{Token: t, State: "token_is_active", Revoke: revokeBase + t.ID + "/revoke"}
		switch {
		case t.RevokedAt != nil:
			v.State = "token_is_revoked"
		case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
			v.State = "token_is_expired"
		}
		out = append(out, v)
	}
	return out, nil
}

// accountPage answers GET /ui/account: the signed-in user's password
// change and API tokens.
func (u *UI) accountPage(c *fiber.Ctx) error {
	return u.showAccount(c, accountData{}, fiber.StatusOK)
}

// showAccount renders the account page with d's secret and problems.
func (u *UI) showAccount(c *fiber.Ctx, d accountData, status int) error {
	ctx, l := c.UserContext(), lang(c)
	me, ok := access.FromContext(ctx)
	if !ok {
		return u.fail(c, engine.ErrUnauthenticated)
	}
	usr, err := u.acc.GetUser(ctx, me.UserID)
	if err != nil {
		return u.fail(c, fmt.Errorf("your account: %w", err))
	}
	if d.Tokens, err = u.apiTokens(c, me.UserID, "/ui/account/tokens/"); err != nil {
		return u.fail(c, fmt.Errorf("your tokens: %w", err))
	}
	d.User, d.Days, d.MinPassword = usr, tokenDays, access.MinPasswordLength
	d.RoleLabels = roleLabelList(u.roleLabels(l), usr.Roles)
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	p := u.newPage(c, tr(l, "my_account"))
	p.Section, p.Data = "my_account", d
	return u.render(c, status, "account", p)
}

// changePassword answers POST /ui/account/password: the user's own
// password, as PUT /api/users/{id}/password for oneself: the current
// password checked under the sign-in throttle (asked of administrators
// too, unlike the API), then access.Service.SetPassword, which signs the
// user's other sessions out; this browser gets a new session.
func (u *UI) changePassword(c *fiber.Ctx) error {
	ctx, l := c.UserContext(), lang(c)
	me, ok := access.FromContext(ctx)
	if !ok {
		return u.fail(c, engine.ErrUnauthenticated)
	}
	current, pw := c.FormValue("current_password"), c.FormValue("new_password")
	if pw != c.FormValue("repeat_password") {
		return u.showAccount(c, accountData{Errors: map[string]string{"repeat_password": tr(l, "password_mismatch")}}, fiber.StatusUnprocessableEntity)
	}
	err := u.api.ThrottledSignIn(c, me.Username, func() error { return u.acc.VerifyPassword(ctx, me.UserID, current) })
	if err != nil {
		st, _, _ := api.Classify(err)
		switch {
		case errors.Is(err, access.ErrInvalidCredentials), errors.Is(err, access.ErrInvalid):
			return u.showAccount(c, accountData{Errors: map[string]string{"current_password": tr(l, "wrong_password")}}, fiber.StatusForbidden)
		case st == fiber.StatusTooManyRequests:
			return u.showAccount(c, accountData{General: []string{tr(l, "throttled", c.GetRespHeader(fiber.HeaderRetryAfter))}}, st)
		}
		return u.fail(c, fmt.Errorf("check your current password: %w", err))
	}
	if err := u.acc.SetPassword(ctx, me.UserID, pw); err != nil {
		err = &inputError{input: "new_password", err: fmt.Errorf("set your password: %w", err)}
		st, errs, general := u.accessProblems(l, err)
		if st >= 500 {
			return u.fail(c, err)
		}
		return u.showAccount(c, accountData{Errors: errs, General: general}, st)
	}
	if err := u.renewSession(c, me.Username, pw); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/account?flash=password_changed", fiber.StatusSeeOther)
}

// createToken answers POST /ui/account/tokens: a personal API token
// (access.Service.CreateAPIToken, as POST /api/users/{id}/tokens for
// oneself), whose secret the page shows this once.
func (u *UI) createToken(c *fiber.Ctx) error {
	ctx, l := c.UserContext(), lang(c)
	me, ok := access.FromContext(ctx)
	if !ok {
		return u.fail(c, engine.ErrUnauthenticated)
	}
	days, err := strconv.Atoi(c.FormValue("days"))
	ttl := time.Duration(days) * 24 * time.Hour
	if err != nil || days < 0 || ttl > access.MaxTokenTTL {
		return u.showAccount(c, accountData{Errors: map[string]string{"days": tr(l, "token_bad_days")}}, fiber.StatusBadRequest)
	}
	secret, info, err := u.acc.CreateAPIToken(ctx, me.UserID, c.FormValue("name"), ttl)
	if err != nil {
		err = fmt.Errorf("create a token: %w", err)
		st, errs, general := u.accessProblems(l, err)
		if st >= 500 {
			return u.fail(c, err)
		}
		return u.showAccount(c, accountData{Errors: errs, General: general}, st)
	}
	return u.showAccount(c, accountData{Secret: secret, Created: info}, fiber.StatusCreated)
}

// revokeToken answers POST /ui/account/tokens/{id}/revoke:
// access.Service.RevokeToken of one of the user's own tokens; another's
// token is unknown (404), as DELETE /api/tokens/{id} answers a user who
// is not an administrator (administrators revoke others' tokens from the
// user's page).
func (u *UI) revokeToken(c *fiber.Ctx) error {
	me, ok := access.FromContext(c.UserContext())
	if !ok {
		return u.fail(c, engine.ErrUnauthenticated)
	}
	return u.revoke(c, me.UserID, c.Params("id"), "/ui/account")
}

// revokeUserToken answers POST /ui/admin/users/{id}/tokens/{token}/revoke:
// an administrator revokes one of the user's API tokens (as DELETE
// /api/tokens/{id} by an administrator) from the user's page.
func (u *UI) revokeUserToken(c *fiber.Ctx) error {
	return u.revoke(c, c.Params("id"), c.Params("token"), "/ui/admin/users/"+c.Params("id"))
}

// revoke revokes the token tokenID when it is one of owner's (another's,
// or none, is unknown: 404), then goes back to the page at back.
func (u *UI) revoke(c *fiber.Ctx, owner, tokenID, back string) error {
	ctx := c.UserContext()
	t, err := u.acc.GetToken(ctx, tokenID)
	if err == nil && t.UserID != owner {
		err = engine.ErrNotFound
	}
	if err != nil {
		return u.fail(c, fmt.Errorf("token %s: %w", tokenID, err))
	}
	if err := u.acc.RevokeToken(ctx, t.ID); err != nil {
		return u.fail(c, fmt.Errorf("revoke token %s: %w", t.ID, err))
	}
	return c.Redirect(back+"?flash=token_revoked", fiber.StatusSeeOther)
}
