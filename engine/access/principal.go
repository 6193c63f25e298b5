package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine/store"
)

// Principal is the authenticated user a request acts for. Authenticate
// builds it from the user's row, read with the token, and trusts it until
// users or tokens change (or for the token cache's time to live, when the
// change was made by another server or process), so role, manager and
// department changes take effect on the next request.
type Principal struct {
	UserID      string   `json:"user_id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Roles       []string `json:"roles"`
	// Department is the user's team, used by the "team" record scope.
	Department string `json:"department,omitempty"`
	// ManagerID is the id of the user's manager, if any.
	ManagerID string `json:"manager_id,omitempty"`
	// TokenID is the id of the token the request authenticated with, so a
	// logout can revoke it.
	TokenID string `json:"-"`
	// System marks the platform acting on its own (a workflow setting a
	// status users may only read, a reminder marking itself sent) on behalf
	// of the user named by the other fields: every right on every record
	// and field is granted, and history records the write as the system's
	// on behalf of that user.
	System bool `json:"system,omitempty"`
}

// System returns the principal of the platform acting on behalf of p (nil
// for an anonymous cause such as a web form): it keeps p's identity, so
// records it creates belong to p and history names p, and it may do
// everything.
func System(onBehalfOf *Principal) *Principal {
	s := &Principal{Username: "system"}
	if onBehalfOf != nil {
		c := *onBehalfOf
		c.Roles = append([]string(nil), onBehalfOf.Roles...)
		s = &c
	}
	s.System = true
	s.TokenID = ""
	return s
}

// HasRole reports whether the principal was given role directly.
func (p *Principal) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of ctx, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// ActivePrincipal returns the principal of the active user named
// username, reading crm_users through q: the transaction of a unit of
// work, so a part acting for a named user inside it (a webhook's run-as
// user) needs no second connection. An unknown or inactive user is
// ErrUserNotFound.
func ActivePrincipal(ctx context.Context, q store.Querier, dialect, username string) (*Principal, error) {
	var p Principal
	var manager sql.NullString
	var roles string
	err := q.QueryRowContext(ctx, store.Rebind(dialect, "SELECT id, username, display_name, manager_id, department, roles FROM "+TableUsers+" WHERE username = ? AND active"),
		normalizeUsername(username)).Scan(&p.UserID, &p.Username, &p.DisplayName, &manager, &p.Department, &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no active user %q", ErrUserNotFound, username)
	}
	if err != nil {
		return nil, fmt.Errorf("access: read user %s: %w", username, err)
	}
	p.ManagerID, p.Roles = manager.String, decodeRoles(roles)
	return &p, nil
}
