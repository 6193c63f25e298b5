package access

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// keepAdministrator refuses, with ErrLastAdmin, a change of user before
// (read before the change, inside tx) that took away the last active
// administrator: before was an active user holding a role that may
// administer (Decider.CanAdminister), and after the change no active user
// holds one. A database that had no administrator before is left alone.
func (s *Service) keepAdministrator(ctx context.Context, tx bun.Tx, before *userRow) error {
	if !before.Active {
		return nil
	}
	admin, err := s.adminRoles(ctx, tx)
	if err != nil {
		return err
	}
	if !holdsAny(decodeRoles(before.Roles), admin) {
		return nil
	}
	var roles []string
	if err := tx.NewSelect().Model((*userRow)(nil)).Column("roles").Where("active = ?", true).Scan(ctx, &roles); err != nil {
		return fmt.Errorf("access: count administrators: %w", err)
	}
	for _, r := range roles {
		if holdsAny(decodeRoles(r), admin) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is the last active administrator; make another user an administrator first", ErrLastAdmin, before.Username)
}

// adminRoles returns the roles whose stored policies make their holders
// administrators, as Decider.CanAdminister decides, read inside tx.
func (s *Service) adminRoles(ctx context.Context, tx bun.Tx) (map[string]bool, error) {
	enf, err := s.loadEnforcer(ctx, tx)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := tx.NewSelect().Model((*roleRow)(nil)).Column("name").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("access: list roles: %w", err)
	}
	d := &Decider{enf: enf}
	out := map[string]bool{}
	for _, n := range names {
		if d.isAdminRole(n) {
			out[n] = true
		}
	}
	return out, nil
}

// holdsAny reports whether one of roles is in set.
func holdsAny(roles []string, set map[string]bool) bool {
	for _, r := range roles {
		if set[r] {
			return true
		}
	}
	return false
}
