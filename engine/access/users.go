package access

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"
)

// AdminUsername and AdminRole name the first account EnsureAdmin creates.
const (
	AdminUsername = "admin"
	AdminRole     = "admin"
)

// usernamePattern is the shape of a username (stored lowercase).
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// User is a user account as the API shows it; the password hash never
// leaves the package.
type User struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Active      bool   `json:"active"`
	// ManagerID is the id of the user's manager; Manager its username.
	ManagerID  string `json:"manager_id,omitempty"`
	Manager    string `json:"manager,omitempty"`
	Department string `json:"department,omitempty"`
	// Language is the language of what the platform sends the user
	// (reminders, notifications): "en" or "zh"; empty for English.
	Language string `json:"language,omitempty"`
	// Phone is the mobile number SMS reminders go to.
	Phone     string    `json:"phone,omitempty"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Principal returns the principal acting as u.
func (u *User) Principal() *Principal {
	return &Principal{
		UserID:      u.ID,
		Username:    u.Username,
		DisplayName: u.DisplayName,
		Roles:       append([]string(nil), u.Roles...),
		Department:  u.Department,
		ManagerID:   u.ManagerID,
	}
}

// NewUser is what CreateUser needs. Manager is the username (or id) of the
// new user's manager, empty for none.
type NewUser struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	DisplayName string   `json:"display_name,omitempty"`
	Email       string   `json:"email,omitempty"`
	Roles       []string `json:"roles"`
	Manager     string   `json:"manager,omitempty"`
	Department  string   `json:"department,omitempty"`
	Language    string   `json:"language,omitempty"`
	Phone       string   `json:"phone,omitempty"`
}

// UserUpdate lists the changes UpdateUser makes; nil members stay as they
// are. Manager is a username or id; an empty string removes the manager.
type UserUpdate struct {
	DisplayName *string   `json:"display_name,omitempty"`
	Email       *string   `json:"email,omitempty"`
	Roles       *[]string `json:"roles,omitempty"`
	Manager     *string   `json:"manager,omitempty"`
	Department  *string   `json:"department,omitempty"`
	Language    *string   `json:"language,omitempty"`
	Phone       *string   `json:"phone,omitempty"`
	Active      *bool     `json:"active,omitempty"`
}

// formulaFields names the fields of a user that formulas read (owner.name,
// owner.manager.name, owner.email) and that the update sets.
func (u UserUpdate) formulaFields() []string {
	var out []string
	if u.DisplayName != nil {
		out = append(out, "name")
	}
	if u.Manager != nil {
		out = append(out, "manager")
	}
	if u.Email != nil {
		out = append(out, "email")
	}
	return out
}

// checkEmail accepts an empty address or a plain e-mail address.
func checkEmail(addr string) error {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil
	}
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
		return fmt.Errorf("%w: %q is not an e-mail address", ErrInvalid, addr)
	}
	return nil
}

// MinPasswordLength is the shortest accepted password, in characters.
const MinPasswordLength = 8

// MaxPasswordBytes is the longest accepted password, in bytes: bcrypt
// compares only the first 72 bytes, so a longer password is refused when
// it is set and when it is presented (otherwise every password sharing
// its first 72 bytes would match).
const MaxPasswordBytes = 72

// phonePattern is the shape of a phone number: digits with an optional
// leading + and separators.
var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{2,30}$`)

// checkContact checks a user's language (en, zh or empty) and phone
// number (empty or a number).
func checkContact(language, phone string) error {
	switch language {
	case "", "en", "zh":
	default:
		return fmt.Errorf("%w: language %q: use en or zh", ErrInvalid, language)
	}
	if p := strings.TrimSpace(phone); p != "" && !phonePattern.MatchString(p) {
		return fmt.Errorf("%w: phone %q is not a phone number", ErrInvalid, phone)
	}
	return nil
}

// CreateUser creates an active user. It refuses a bad or taken username, a
// short password, an unknown role and an unknown manager, each with an
// error wrapping the matching sentinel.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	username := normalizeUsername(nu.Username)
	if !usernamePattern.MatchString(username) {
		return nil, fmt.Errorf("%w: username %q: use 1 to 64 lowercase letters, digits and . _ @ -, starting with a letter or digit", ErrInvalid, nu.Username)
	}
	if err := s.checkPassword(nu.Password); err != nil {
		return nil, err
	}
	if err := checkEmail(nu.Email); err != nil {
		return nil, err
	}
	if err := checkContact(nu.Language, nu.Phone); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), s.bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("access: hash password: %w", err)
	}
	now := s.now().UTC()
	row := &userRow{
		ID:           uuid.NewString(),
		Username:     username,
		DisplayName:  strings.TrimSpace(nu.DisplayName),
		Email:        strings.TrimSpace(nu.Email),
		PasswordHash: string(hash),
		Active:       true,
		Department:   strings.TrimSpace(nu.Department),
		Language:     nu.Language,
		Phone:        strings.TrimSpace(nu.Phone),
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if row.DisplayName == "" {
		row.DisplayName = username
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		roles, err := checkRoles(ctx, tx, nu.Roles)
		if err != nil {
			return err
		}
		row.Roles = encodeRoles(roles)
		if nu.Manager != "" {
			m, err := findUser(ctx, tx, nu.Manager)
			if err != nil {
				return fmt.Errorf("manager %q: %w", nu.Manager, err)
			}
			row.ManagerID = m.ID
		}
		n, err := tx.NewSelect().Model((*userRow)(nil)).Where("username = ?", username).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %q", ErrUserExists, username)
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: %q", ErrUserExists, username)
			}
			return err
		}
		return bumpVersion(ctx, s.db.DB, tx)
	})
	if err != nil {
		return nil, wrapOp("create user", err)
	}
	return s.GetUser(ctx, row.ID)
}

// UpdateUser applies u to the user with id or username ref. Changing
// roles checks them; changing the manager refuses a cycle in the manager
// hierarchy; deactivating revokes every token of the user.
func (s *Service) UpdateUser(ctx context.Context, ref string, u UserUpdate) (*User, error) {
	defer s.tokensChanged()
	var id string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := findUser(ctx, tx, ref)
		if err != nil {
			return err
		}
		id = row.ID
		q := tx.NewUpdate().Model((*userRow)(nil)).Where("id = ?", row.ID).Set("updated_at = ?", s.now().UTC())
		if u.DisplayName != nil {
			name := strings.TrimSpace(*u.DisplayName)
			if name == "" {
				name = row.Username
			}
			q = q.Set("display_name = ?", name)
		}
		if u.Roles != nil {
			roles, err := checkRoles(ctx, tx, *u.Roles)
			if err != nil {
				return err
			}
			q = q.Set("roles = ?", encodeRoles(roles))
		}
		if u.Department != nil {
			q = q.Set("department = ?", strings.TrimSpace(*u.Department))
		}
		if u.Email != nil {
			if err := checkEmail(*u.Email); err != nil {
				return err
			}
			q = q.Set("email = ?", strings.TrimSpace(*u.Email))
		}
		if u.Language != nil {
			if err := checkContact(*u.Language, ""); err != nil {
				return err
			}
			q = q.Set("language = ?", *u.Language)
		}
		if u.Phone != nil {
			if err := checkContact("", *u.Phone); err != nil {
				return err
			}
			q = q.Set("phone = ?", strings.TrimSpace(*u.Phone))
		}
		if u.Manager != nil {
			if *u.Manager == "" {
				q = q.Set("manager_id = NULL")
			} else {
				m, err := findUser(ctx, tx, *u.Manager)
				if err != nil {
					return fmt.Errorf("manager %q: %w", *u.Manager, err)
				}
				if err := checkNoCycle(ctx, tx, row.ID, m); err != nil {
					return err
				}
				q = q.Set("manager_id = ?", m.ID)
			}
		}
		if u.Active != nil {
			q = q.Set("active = ?", *u.Active)
			if !*u.Active {
				if err := revokeAll(ctx, tx, row.ID, "", s.now().UTC()); err != nil {
					return err
				}
			}
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
		if fields := u.formulaFields(); len(fields) > 0 && s.userChanged != nil {
			if err := s.userChanged(ctx, tx.Tx, row.ID, fields); err != nil {
				return err
			}
		}
		// The version row is locked from here to the commit, so concurrent
		// user changes queue and the check below sees the ones before.
		if err := bumpVersion(ctx, s.db.DB, tx); err != nil {
			return err
		}
		if u.Roles == nil && u.Active == nil {
			return nil
		}
		return s.keepAdministrator(ctx, tx, row)
	})
	if err != nil {
		return nil, wrapOp("update user", err)
	}
	return s.GetUser(ctx, id)
}

// DeactivateUser marks the user inactive and revokes all its tokens. The
// user's records keep their owner.
func (s *Service) DeactivateUser(ctx context.Context, ref string) error {
	f := false
	_, err := s.UpdateUser(ctx, ref, UserUpdate{Active: &f})
	return err
}

// SetPassword replaces the user's password and revokes its sessions (API
// tokens stay valid).
func (s *Service) SetPassword(ctx context.Context, ref, password string) error {
	if err := s.checkPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.bcryptCost)
	if err != nil {
		return fmt.Errorf("access: hash password: %w", err)
	}
	defer s.tokensChanged()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := findUser(ctx, tx, ref)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).Where("id = ?", row.ID).
			Set("password_hash = ?", string(hash)).Set("updated_at = ?", now).Exec(ctx); err != nil {
			return err
		}
		return revokeAll(ctx, tx, row.ID, TokenSession, now)
	})
	return wrapOp("set password", err)
}

// GetUser returns the user with id or username ref.
func (s *Service) GetUser(ctx context.Context, ref string) (*User, error) {
	row, err := findUser(ctx, s.db.DB, ref)
	if err != nil {
		return nil, err
	}
	return s.toUser(ctx, row)
}

// ListUsers returns every user, ordered by username.
func (s *Service) ListUsers(ctx context.Context) ([]*User, error) {
	var rows []userRow
	if err := s.db.NewSelect().Model(&rows).Order("username").Scan(ctx); err != nil {
		return nil, fmt.Errorf("access: list users: %w", err)
	}
	names := make(map[string]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.Username
	}
	out := make([]*User, 0, len(rows))
	for i := range rows {
		u := rowToUser(&rows[i])
		u.Manager = names[u.ManagerID]
		out = append(out, u)
	}
	return out, nil
}

// EnsureAdmin creates the user "admin" with role admin when the database
// has no user at all. An empty password is replaced by a generated one,
// which is returned so the caller can print it once. When users exist it
// does nothing and returns created false. Roles must have been synced
// first (SyncRoles), so that the admin role exists.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (generated string, created bool, err error) {
	n, err := s.db.NewSelect().Model((*userRow)(nil)).Count(ctx)
	if err != nil {
		return "", false, fmt.Errorf("access: ensure admin: %w", err)
	}
	if n > 0 {
		return "", false, nil
	}
	if password == "" {
		password = randomPassword()
		generated = password
	}
	_, err = s.CreateUser(ctx, NewUser{Username: AdminUsername, Password: password, DisplayName: "Administrator", Roles: []string{AdminRole}})
	if err != nil {
		return "", false, fmt.Errorf("access: ensure admin: %w", err)
	}
	return generated, true, nil
}

// checkPassword refuses a password shorter than the minimum length.
func (s *Service) checkPassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordLength)
	}
	return checkPasswordBytes(pw)
}

// checkPasswordBytes refuses a password longer than MaxPasswordBytes.
func checkPasswordBytes(pw string) error {
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: the password has %d bytes; at most %d are accepted", ErrInvalid, len(pw), MaxPasswordBytes)
	}
	return nil
}

// toUser turns a row into a User with its manager's username.
func (s *Service) toUser(ctx context.Context, row *userRow) (*User, error) {
	u := rowToUser(row)
	if u.ManagerID != "" {
		var name string
		err := s.db.NewSelect().Model((*userRow)(nil)).Column("username").Where("id = ?", u.ManagerID).Scan(ctx, &name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("access: get manager: %w", err)
		}
		u.Manager = name
	}
	return u, nil
}

// rowToUser converts a row.
func rowToUser(r *userRow) *User {
	return &User{
		ID:          r.ID,
		Username:    r.Username,
		DisplayName: r.DisplayName,
		Email:       r.Email,
		Active:      r.Active,
		ManagerID:   r.ManagerID,
		Department:  r.Department,
		Language:    r.Language,
		Phone:       r.Phone,
		Roles:       decodeRoles(r.Roles),
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
}

// findUser loads the user whose id or username is ref.
func findUser(ctx context.Context, db bun.IDB, ref string) (*userRow, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("%w: empty user reference", ErrUserNotFound)
	}
	row := new(userRow)
	err := db.NewSelect().Model(row).Where("username = ?", normalizeUsername(ref)).WhereOr("id = ?", ref).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrUserNotFound, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("access: find user: %w", err)
	}
	return row, nil
}

// checkNoCycle refuses making manager the manager of userID when userID is
// manager itself or above it in the hierarchy.
func checkNoCycle(ctx context.Context, db bun.IDB, userID string, manager *userRow) error {
	seen := map[string]bool{}
	for m := manager; m != nil; {
		if m.ID == userID {
			return fmt.Errorf("%w: making %q the manager would create a cycle in the manager hierarchy", ErrInvalid, manager.Username)
		}
		if seen[m.ID] || m.ManagerID == "" {
			return nil
		}
		seen[m.ID] = true
		next, err := findUser(ctx, db, m.ManagerID)
		if err != nil {
			return nil
		}
		m = next
	}
	return nil
}

// checkRoles returns the roles sorted and deduplicated, refusing a role
// the last SyncRoles did not declare.
func checkRoles(ctx context.Context, db bun.IDB, roles []string) ([]string, error) {
	set := map[string]bool{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if r != "" {
			set[r] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return out, nil
	}
	var known []string
	if err := db.NewSelect().Model((*roleRow)(nil)).Column("name").Where("name IN (?)", bun.List(out)).Scan(ctx, &known); err != nil {
		return nil, fmt.Errorf("access: check roles: %w", err)
	}
	have := map[string]bool{}
	for _, k := range known {
		have[k] = true
	}
	for _, r := range out {
		if !have[r] {
			return nil, fmt.Errorf("%w %q", ErrUnknownRole, r)
		}
	}
	return out, nil
}

// encodeRoles and decodeRoles convert the roles column.
func encodeRoles(roles []string) string {
	if roles == nil {
		roles = []string{}
	}
	b, _ := json.Marshal(roles)
	return string(b)
}

func decodeRoles(s string) []string {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil || out == nil {
		return []string{}
	}
	return out
}

// normalizeUsername trims and lowercases a username.
func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// isUniqueViolation reports whether err is a unique-constraint failure.
func isUniqueViolation(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate key")
}

// wrapOp prefixes err with the operation unless it already carries a
// package sentinel.
func wrapOp(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{ErrInvalid, ErrUserExists, ErrUserNotFound, ErrUnknownRole, ErrWeakPassword, ErrDenied, ErrLastAdmin} {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("access: %s: %w", op, err)
}

// randomPassword returns a generated password of 26 base32 characters
// (130 bits from crypto/rand).
func randomPassword() string { return rand.Text() }

// UserRef is an active user as the rules that deal records to users
// (assignment rules) see it.
type UserRef struct {
	ID         string
	Username   string
	Department string
	Roles      []string
}

// ActiveUsers lists the active users through q (the database, or the
// transaction of a unit of work), ordered by username.
func ActiveUsers(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]UserRef, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, username, department, roles FROM "+TableUsers+" WHERE active ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("access: active users: %w", err)
	}
	defer rows.Close()
	var out []UserRef
	for rows.Next() {
		var u UserRef
		var roles string
		if err := rows.Scan(&u.ID, &u.Username, &u.Department, &roles); err != nil {
			return nil, fmt.Errorf("access: active users: %w", err)
		}
		u.Roles = decodeRoles(roles)
		out = append(out, u)
	}
	return out, rows.Err()
}
