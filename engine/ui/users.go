package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/gofiber/fiber/v2"
)

// userRoutes mounts the administration of users (administrators only, as
// the API's /api/users routes) and every user's own account page. Each
// page calls the access service as the API's handlers do, with their
// checks.
func (u *UI) userRoutes(g fiber.Router) {
	a := g.Group("/admin/users", u.adminOnly)
	a.Get("/", u.usersPage)
	a.Get("/new", u.newUserPage)
	a.Post("/", u.createUser)
	a.Get("/:id", u.userPage)
	a.Post("/:id", u.updateUser)
	a.Post("/:id/password", u.resetPassword)
	a.Post("/:id/deactivate", u.deactivateUser)
	a.Post("/:id/tokens/:token/revoke", u.revokeUserToken)
	m := g.Group("/account")
	m.Get("/", u.accountPage)
	m.Post("/password", u.changePassword)
	m.Post("/tokens", u.createToken)
	m.Post("/tokens/:id/revoke", u.revokeToken)
}

// usersData is the content of the users' list.
type usersData struct {
	Users []userView
}

// userView is a user as the list shows them: roles by their labels and
// the manager by name.
type userView struct {
	*access.User
	RoleLabels string
	Manager    string
}

// usersPage answers GET /ui/admin/users: every user (as GET /api/users).
func (u *UI) usersPage(c *fiber.Ctx) error {
	us, err := u.acc.ListUsers(c.UserContext())
	if err != nil {
		return u.fail(c, fmt.Errorf("list users: %w", err))
	}
	l := lang(c)
	labels, names := u.roleLabels(l), map[string]string{}
	for _, usr := range us {
		names[usr.ID] = personName(usr)
	}
	d := usersData{}
	for _, usr := range us {
		d.Users = append(d.Users, userView{User: usr, RoleLabels: roleLabelList(labels, usr.Roles), Manager: names[usr.ManagerID]})
	}
	p := u.newPage(c, tr(l, "users"))
	p.Section, p.Data = "admin", d
	return u.render(c, fiber.StatusOK, "admin_users", p)
}

// roleLabels names the roles of the metadata in lang.
func (u *UI) roleLabels(l string) map[string]string {
	out := map[string]string{}
	for _, r := range u.eng.Snapshot().Schema.Roles {
		out[r.Name] = r.Label.Get(l)
		if out[r.Name] == "" {
			out[r.Name] = r.Name
		}
	}
	return out
}

// roleLabelList names roles by their labels (roleLabels; a role the
// metadata no longer has by its name), separated by commas.
func roleLabelList(labels map[string]string, roles []string) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		if out[i] = labels[r]; out[i] == "" {
			out[i] = r
		}
	}
	return strings.Join(out, ", ")
}

// personName names a user: their display name, with the username when it
// differs.
func personName(usr *access.User) string {
	if usr.DisplayName == "" || usr.DisplayName == usr.Username {
		return usr.Username
	}
	return usr.DisplayName + " (" + usr.Username + ")"
}

// userFormData is the content of a user's page (User set) or of the
// create form: the inputs as shown, and the problems of a refused post.
type userFormData struct {
	// User is the user edited; nil on the create form.
	User *access.User
	// Self reports whether the user edited is the administrator.
	Self   bool
	Form   map[string]string
	Active bool
	Roles  []roleChoice
	// Manager and Language are the selects of the form.
	Manager, Language binput
	MinPassword       int
	// Tokens are the user's API tokens, which the administrator may
	// revoke.
	Tokens  []tokenView
	Errors  map[string]string
	General []string
}

// roleChoice is a role offered as a checkbox.
type roleChoice struct {
	Name, Label string
	On          bool
}

// userInputs are the text inputs of the user forms (besides the
// username), shown again as sent when a post is refused.
var userInputs = []string{"display_name", "email", "department", "phone"}

// newUserPage answers GET /ui/admin/users/new: the create form.
func (u *UI) newUserPage(c *fiber.Ctx) error {
	return u.showUser(c, nil, false, nil)
}

// userPage answers GET /ui/admin/users/{id}: the user's settings, a new
// password, their API tokens, and deactivation.
func (u *UI) userPage(c *fiber.Ctx) error {
	usr, err := u.acc.GetUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return u.fail(c, fmt.Errorf("user %s: %w", c.Params("id"), err))
	}
	return u.showUser(c, usr, false, nil)
}

// showUser renders a user's page, or the create form when usr is nil,
// with the problem of a refused post (fail) next to its input or at the
// top, in the status the API gives it; with posted the inputs show what
// the user form sent.
func (u *UI) showUser(c *fiber.Ctx, usr *access.User, posted bool, fail error) error {
	ctx, l := c.UserContext(), lang(c)
	d := userFormData{User: usr, Form: map[string]string{}, Errors: map[string]string{}, MinPassword: access.MinPasswordLength, Active: true}
	held, manager, language := []string{}, "", ""
	if usr != nil {
		me, _ := access.FromContext(ctx)
		d.Self = me != nil && me.UserID == usr.ID
		d.Active, held, manager, language = usr.Active, usr.Roles, usr.ManagerID, usr.Language
		d.Form["display_name"], d.Form["email"], d.Form["department"], d.Form["phone"] = usr.DisplayName, usr.Email, usr.Department, usr.Phone
		ts, err := u.apiTokens(c, usr.ID, "/ui/admin/users/"+usr.ID+"/tokens/")
		if err != nil {
			return u.fail(c, fmt.Errorf("the tokens of %s: %w", usr.Username, err))
		}
		d.Tokens = ts
	}
	if posted {
		for _, name := range append([]string{"username"}, userInputs...) {
			d.Form[name] = c.FormValue(name)
		}
		d.Active, held, manager, language = c.FormValue("active") == "true", formRoles(c), c.FormValue("manager"), c.FormValue("language")
	}
	status := fiber.StatusOK
	if fail != nil {
		if status, d.Errors, d.General = u.accessProblems(l, fail); status >= 500 {
			return u.fail(c, fail)
		}
	}
	labels := u.roleLabels(l)
	for _, r := range u.eng.Snapshot().Schema.Roles {
		d.Roles = append(d.Roles, roleChoice{Name: r.Name, Label: labels[r.Name], On: slices.Contains(held, r.Name)})
	}
	us, err := u.acc.ListUsers(ctx)
	if err != nil {
		return u.fail(c, fmt.Errorf("list users: %w", err))
	}
	d.Manager = binput{Name: "manager", ID: "b_manager", Label: tr(l, "user_manager"), Error: d.Errors["manager"],
		Choices: []optionView{{Value: "", Label: tr(l, "none"), Selected: manager == ""}}}
	for _, m := range us {
		if (usr != nil && m.ID == usr.ID) || (!m.Active && m.ID != manager) {
			continue
		}
		d.Manager.Choices = append(d.Manager.Choices, optionView{Value: m.ID, Label: personName(m), Selected: m.ID == manager || m.Username == manager})
	}
	d.Language = binput{Name: "language", ID: "b_language", Label: tr(l, "user_language"), Error: d.Errors["language"], Choices: []optionView{
		{Value: "", Label: tr(l, "none"), Selected: language == ""},
		{Value: "en", Label: tr(l, "language_english"), Selected: language == "en"},
		{Value: "zh", Label: tr(l, "language_chinese"), Selected: language == "zh"},
	}}
	title := tr(l, "new_user")
	if usr != nil {
		title = tr(l, "user_n", usr.Username)
	}
	p := u.newPage(c, title)
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_user", p)
}

// formRoles reads the roles ticked in a user form.
func formRoles(c *fiber.Ctx) []string {
	out := []string{}
	for _, r := range c.Request().PostArgs().PeekMulti("roles") {
		out = append(out, string(r))
	}
	return out
}

// accessProblems sorts what the access service refused: the status the
// API answers it with (api.Classify, through failure), the problems its
// sentinels tie to an input (by name), and the others for the top of the
// form.
func (u *UI) accessProblems(l string, err error) (int, map[string]string, []string) {
	status, msg, details := failure(err)
	errs := map[string]string{}
	switch {
	case errors.Is(err, access.ErrWeakPassword):
		errs[passwordInput(err)] = tr(l, "password_too_short", access.MinPasswordLength)
	case errors.Is(err, access.ErrUserExists):
		errs["username"] = tr(l, "username_taken")
	case errors.Is(err, access.ErrUnknownRole):
		errs["roles"] = msg
	case errors.Is(err, access.ErrLastAdmin):
		return status, errs, []string{tr(l, "last_admin")}
	default:
		return status, errs, append([]string{msg}, details...)
	}
	return status, errs, details
}

// inputError ties an error to the input it concerns.
type inputError struct {
	input string
	err   error
}

// Error returns the message of the error tied to the input.
func (e *inputError) Error() string { return e.err.Error() }

// Unwrap returns the error tied to the input.
func (e *inputError) Unwrap() error { return e.err }

// passwordInput names the input a refused password came from: the one an
// inputError names, else "password" (the create form's).
func passwordInput(err error) string {
	if ie, ok := errorsAs[*inputError](err); ok {
		return ie.input
	}
	return "password"
}

// createUser answers POST /ui/admin/users: access.Service.CreateUser, as
// POST /api/users.
func (u *UI) createUser(c *fiber.Ctx) error {
	nu := access.NewUser{Username: c.FormValue("username"), Password: c.FormValue("password"), DisplayName: c.FormValue("display_name"),
		Email: c.FormValue("email"), Roles: formRoles(c), Manager: c.FormValue("manager"), Department: c.FormValue("department"),
		Language: c.FormValue("language"), Phone: c.FormValue("phone")}
	usr, err := u.acc.CreateUser(c.UserContext(), nu)
	if err != nil {
		return u.showUser(c, nil, true, fmt.Errorf("create user %q: %w", nu.Username, err))
	}
	return c.Redirect("/ui/admin/users/"+usr.ID+"?flash=user_created", fiber.StatusSeeOther)
}

// updateUser answers POST /ui/admin/users/{id}: the changes of the form
// (only what differs from the user as stored) through
// access.Service.UpdateUser, as PATCH /api/users/{id}.
func (u *UI) updateUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	usr, err := u.acc.GetUser(ctx, c.Params("id"))
	if err != nil {
		return u.fail(c, fmt.Errorf("user %s: %w", c.Params("id"), err))
	}
	up := userUpdate(c, usr)
	if _, err := u.acc.UpdateUser(ctx, usr.ID, up); err != nil {
		return u.showUser(c, usr, true, fmt.Errorf("update user %s: %w", usr.Username, err))
	}
	return c.Redirect("/ui/admin/users/"+usr.ID+"?flash=user_saved", fiber.StatusSeeOther)
}

// userUpdate reads the user form into the changes it makes to cur: the
// members that differ, the others left nil (unchanged).
func userUpdate(c *fiber.Ctx, cur *access.User) access.UserUpdate {
	var up access.UserUpdate
	text := func(name, old string) *string {
		v := strings.TrimSpace(c.FormValue(name))
		if v == old {
			return nil
		}
		return &v
	}
	up.DisplayName = text("display_name", cur.DisplayName)
	up.Email = text("email", cur.Email)
	up.Department = text("department", cur.Department)
	up.Phone = text("phone", cur.Phone)
	up.Language = text("language", cur.Language)
	up.Manager = text("manager", cur.ManagerID)
	if roles := formRoles(c); !sameSet(roles, cur.Roles) {
		up.Roles = &roles
	}
	if active := c.FormValue("active") == "true"; active != cur.Active {
		up.Active = &active
	}
	return up
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// resetPassword answers POST /ui/admin/users/{id}/password: an
// administrator sets the user's password (access.Service.SetPassword, as
// PUT /api/users/{id}/password by an administrator), which signs the
// user's sessions out. The administrator's own password set here keeps
// this browser signed in.
func (u *UI) resetPassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	usr, err := u.acc.GetUser(ctx, c.Params("id"))
	if err != nil {
		return u.fail(c, fmt.Errorf("user %s: %w", c.Params("id"), err))
	}
	pw := c.FormValue("new_password")
	if err := u.acc.SetPassword(ctx, usr.ID, pw); err != nil {
		return u.showUser(c, usr, false, &inputError{input: "new_password", err: fmt.Errorf("set the password of %s: %w", usr.Username, err)})
	}
	if me, _ := access.FromContext(ctx); me != nil && me.UserID == usr.ID {
		if err := u.renewSession(c, usr.Username, pw); err != nil {
			return u.fail(c, err)
		}
	}
	return c.Redirect("/ui/admin/users/"+usr.ID+"?flash=password_set", fiber.StatusSeeOther)
}

// deactivateUser answers POST /ui/admin/users/{id}/deactivate:
// access.Service.DeactivateUser (sign-in refused, sessions and tokens
// revoked, records kept), as DELETE /api/users/{id}, which refuses the
// administrator's own account.
func (u *UI) deactivateUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	usr, err := u.acc.GetUser(ctx, c.Params("id"))
	if err != nil {
		return u.fail(c, fmt.Errorf("user %s: %w", c.Params("id"), err))
	}
	if me, _ := access.FromContext(ctx); me == nil || me.UserID == usr.ID {
		return u.fail(c, fmt.Errorf("%w: you cannot deactivate your own account", engine.ErrConflict))
	}
	if err := u.acc.DeactivateUser(ctx, usr.ID); err != nil {
		return u.showUser(c, usr, false, fmt.Errorf("deactivate %s: %w", usr.Username, err))
	}
	return c.Redirect("/ui/admin/users/"+usr.ID+"?flash=user_deactivated", fiber.StatusSeeOther)
}

// renewSession signs the user in again with their new password, after a
// change of it revoked their sessions (access.Service.SetPassword): this
// browser stays signed in with a new session cookie.
func (u *UI) renewSession(c *fiber.Ctx, username, password string) error {
	tok, _, err := u.acc.Login(c.UserContext(), username, password)
	if err != nil {
		return fmt.Errorf("sign in again after the password change: %w", err)
	}
	setCookie(c, sessionCookie, tok, sessionTTL, fiber.CookieSameSiteLaxMode)
	return nil
}
