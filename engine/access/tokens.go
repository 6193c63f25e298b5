package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"
)

// Token kinds.
const (
	TokenSession = "session"
	TokenAPI     = "api"
)

// MaxTokenTTL is the longest lifetime an API token may be given: ten
// years. A token that should never expire is created with ttl 0.
const MaxTokenTTL = 10 * 365 * 24 * time.Hour

// lastUsedEvery is how stale last_used_at may get before Authenticate
// writes it again: one write per token per minute, not per request.
const lastUsedEvery = time.Minute

// Token describes an issued token; the secret itself is only returned once,
// when it is created.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Login checks username and password and issues a session token that
// expires after the session TTL. A wrong password, an unknown user and an
// inactive user all give ErrInvalidCredentials and take the same time (an
// unknown user is compared against a dummy hash). A password longer than
// MaxPasswordBytes is refused with ErrInvalid before any comparison.
func (s *Service) Login(ctx context.Context, username, password string) (string, *Principal, error) {
	if err := checkPasswordBytes(password); err != nil {
		return "", nil, err
	}
	row := new(userRow)
	err := s.db.NewSelect().Model(row).Where("username = ?", normalizeUsername(username)).Limit(1).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("access: login: %w", err)
	}
	if err != nil {
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		return "", nil, ErrInvalidCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(row.PasswordHash), []byte(password)) != nil || !row.Active {
		return "", nil, ErrInvalidCredentials
	}
	tok, id, err := s.issue(ctx, s.db.DB, row.ID, TokenSession, "login", s.sessionTTL)
	if err != nil {
		return "", nil, err
	}
	p := rowToUser(row).Principal()
	p.TokenID = id
	return tok, p, nil
}

// VerifyPassword checks the password of the active user ref (id or
// username) without issuing a token, as a password change by the user
// needs; it fails with ErrInvalidCredentials like Login, in the same time.
func (s *Service) VerifyPassword(ctx context.Context, ref, password string) error {
	if err := checkPasswordBytes(password); err != nil {
		return err
	}
	row, err := findUser(ctx, s.db.DB, ref)
	if err != nil {
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		return ErrInvalidCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(row.PasswordHash), []byte(password)) != nil || !row.Active {
		return ErrInvalidCredentials
	}
	return nil
}

// CreateAPIToken issues a named API token for the user; ttl 0 means it
// never expires (it can still be revoked); a ttl below 0 or above
// MaxTokenTTL is ErrInvalid. The token is returned once and only its hash
// is stored.
func (s *Service) CreateAPIToken(ctx context.Context, userRef, name string, ttl time.Duration) (string, *Token, error) {
	if ttl < 0 || ttl > MaxTokenTTL {
		return "", nil, fmt.Errorf("%w: a token lives between 0 (no expiry) and %d seconds", ErrInvalid, int64(MaxTokenTTL/time.Second))
	}
	row, err := findUser(ctx, s.db.DB, userRef)
	if err != nil {
		return "", nil, err
	}
	if !row.Active {
		return "", nil, fmt.Errorf("%w: user %q is inactive", ErrInvalid, row.Username)
	}
	tok, id, err := s.issue(ctx, s.db.DB, row.ID, TokenAPI, strings.TrimSpace(name), ttl)
	if err != nil {
		return "", nil, err
	}
	t, err := s.getToken(ctx, id)
	return tok, t, err
}

// RevokeToken revokes the token with the given id. Revoking a revoked
// token is not an error.
func (s *Service) RevokeToken(ctx context.Context, tokenID string) error {
	defer s.tokensChanged()
	res, err := s.db.NewUpdate().Model((*tokenRow)(nil)).Set("revoked_at = ?", s.now().UTC()).
		Where("id = ?", tokenID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("access: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %q", ErrTokenNotFound, tokenID)
	}
	return nil
}

// ListTokens returns the tokens of a user, newest first.
func (s *Service) ListTokens(ctx context.Context, userRef string) ([]*Token, error) {
	u, err := findUser(ctx, s.db.DB, userRef)
	if err != nil {
		return nil, err
	}
	var rows []tokenRow
	if err := s.db.NewSelect().Model(&rows).Where("user_id = ?", u.ID).Order("created_at DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("access: list tokens: %w", err)
	}
	out := make([]*Token, len(rows))
	for i := range rows {
		out[i] = rowToToken(&rows[i])
	}
	return out, nil
}

// Authenticate returns the principal of a bearer token (with or without
// the "Bearer " prefix). A missing, unknown, expired or revoked token, or
// one whose user is inactive, gives ErrUnauthenticated. A valid token is
// trusted for the token cache's time to live (WithTokenCache) without
// reading it again, unless users or tokens change first.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*Principal, error) {
	tok := strings.TrimSpace(bearer)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		return nil, ErrUnauthenticated
	}
	h := hashToken(tok)
	now := s.now().UTC()
	// The cache is loaded before the database is read: a change committed
	// meanwhile replaces it, and what is read here goes into the old one.
	c := s.tokens.Load()
	if p := c.lookup(h, now, s.tokenTTL); p != nil {
		return p, nil
	}
	// One query for the token and its user: this runs on every request
	// the cache does not answer, so it is a prepared statement
	// (store.DB.QueryRow) scanned by hand rather than bun's formatted
	// query, which SQLite would parse and plan every time.
	var t authRow
	var expires, revoked, lastUsed sql.NullTime
	var manager sql.NullString
	err := s.db.QueryRow(ctx, s.db.SQL(), store.Rebind(s.db.Dialect, authQuery), h).Scan(
		&t.TokenID, &expires, &revoked, &lastUsed, &t.ID, &t.Username, &t.DisplayName, &t.Active, &manager, &t.Department, &t.Roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("access: authenticate: %w", err)
	}
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.ManagerID = expires.Time, revoked.Time, lastUsed.Time, manager.String
	if !t.RevokedAt.IsZero() {
		return nil, fmt.Errorf("%w: token revoked", ErrUnauthenticated)
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, fmt.Errorf("%w: token expired", ErrUnauthenticated)
	}
	if !t.Active {
		return nil, fmt.Errorf("%w: user inactive", ErrUnauthenticated)
	}
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) > lastUsedEvery {
		_, _ = s.db.NewUpdate().Model((*tokenRow)(nil)).Set("last_used_at = ?", now).Where("id = ?", t.TokenID).Exec(ctx)
	}
	u := userRow{ID: t.ID, Username: t.Username, DisplayName: t.DisplayName, Active: t.Active, ManagerID: t.ManagerID, Department: t.Department, Roles: t.Roles}
	p := rowToUser(&u).Principal()
	p.TokenID = t.TokenID
	s.remember(c, h, p, t.ExpiresAt, now)
	return p, nil
}

// authQuery reads a token by its hash with its user (authRow).
const authQuery = `SELECT t.id AS token_id, t.expires_at, t.revoked_at, t.last_used_at,
	u.id, u.username, u.display_name, u.active, u.manager_id, u.department, u.roles
	FROM crm_tokens AS t JOIN crm_users AS u ON u.id = t.user_id WHERE t.hash = ? LIMIT 1`

// authRow is a token joined with its user, as Authenticate reads it
// (times and the manager zero when NULL).
type authRow struct {
	TokenID                          string
	ExpiresAt, RevokedAt, LastUsedAt time.Time
	ID, Username, DisplayName        string
	Active                           bool
	ManagerID, Department, Roles     string
}

// issue stores a new token for userID and returns it with its id.
func (s *Service) issue(ctx context.Context, db bun.IDB, userID, kind, name string, ttl time.Duration) (string, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("access: token: %w", err)
	}
	prefix := "crms_"
	if kind == TokenAPI {
		prefix = "crma_"
	}
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.now().UTC()
	row := &tokenRow{ID: uuid.NewString(), UserID: userID, Hash: hashToken(tok), Kind: kind, Name: name, CreatedAt: now}
	if ttl > 0 {
		row.ExpiresAt = now.Add(ttl)
	}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", "", fmt.Errorf("access: store token: %w", err)
	}
	return tok, row.ID, nil
}

// GetToken returns the token with the given id (never its secret).
func (s *Service) GetToken(ctx context.Context, id string) (*Token, error) {
	return s.getToken(ctx, id)
}

// getToken loads a token row by id.
func (s *Service) getToken(ctx context.Context, id string) (*Token, error) {
	var t tokenRow
	if err := s.db.NewSelect().Model(&t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: %q", ErrTokenNotFound, id)
		}
		return nil, fmt.Errorf("access: get token: %w", err)
	}
	return rowToToken(&t), nil
}

// revokeAll revokes every live token of userID of kind ("" for all kinds).
func revokeAll(ctx context.Context, db bun.IDB, userID, kind string, now time.Time) error {
	q := db.NewUpdate().Model((*tokenRow)(nil)).Set("revoked_at = ?", now).Where("user_id = ?", userID).Where("revoked_at IS NULL")
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("access: revoke tokens: %w", err)
	}
	return nil
}

// rowToToken converts a row.
func rowToToken(r *tokenRow) *Token {
	t := &Token{ID: r.ID, UserID: r.UserID, Kind: r.Kind, Name: r.Name, CreatedAt: r.CreatedAt}
	opt := func(v time.Time) *time.Time {
		if v.IsZero() {
			return nil
		}
		return &v
	}
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = opt(r.ExpiresAt), opt(r.RevokedAt), opt(r.LastUsedAt)
	return t
}

// hashToken returns the hex SHA-256 of a token, the form stored.
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// dummy returns a bcrypt hash at the service's cost to compare against
// when the user does not exist, so timing does not reveal usernames.
func (s *Service) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("crm-dummy-password"), s.bcryptCost)
	})
	return s.dummyHash
}
