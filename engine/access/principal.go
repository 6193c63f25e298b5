package access

import "context"

// Principal is the authenticated user a request acts for. Authenticate
// builds it fresh on every request from the user's row, so role, manager
// and department changes take effect on the next request.
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
