package sales

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/sales/rules"
)

// ownerKey carries the owner of records no assignment rule assigns (a
// web form's configured owner).
type ownerKey struct{}

// withFallbackOwner returns a context whose creates give records no
// assignment rule assigns to user id.
func withFallbackOwner(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ownerKey{}, id)
}

// assign gives a new record that arrives without an owner to the user
// the first matching entry of its object's assignment rule names, or to
// the fallback owner of the context.
func (s *Sales) assign(ctx context.Context, ev *engine.Event) error {
	if _, sent := ev.Input[metadata.OwnerField]; sent {
		return nil
	}
	if ca := rules.Assignment(ev.Snapshot.Compiled(rules.KindAssignmentRules), ev.Object.Name); ca != nil {
		for i, e := range ca.Entries {
			if x := ca.When[i]; x != nil {
				ok, err := ev.Writer.Eval(ctx, x, ev.New)
				if err != nil {
					return fmt.Errorf("sales: assignment rule %s, entry %d: %w", ca.Name, i, err)
				}
				if b, _ := ok.(bool); !b {
					continue
				}
			}
			id, err := s.pick(ctx, ev.Tx, ca, i, e.Assign)
			if err != nil {
				return err
			}
			if id != "" {
				ev.New[metadata.OwnerField] = id
				return nil
			}
		}
	}
	if id, ok := ctx.Value(ownerKey{}).(string); ok && id != "" {
		ev.New[metadata.OwnerField] = id
	}
	return nil
}

// pick returns the user an entry assigns to, or "" when it names no
// active user. Round robins take the next position of their counter in
// the database, in the unit of work, so servers sharing the database
// deal in one turn.
func (s *Sales) pick(ctx context.Context, tx store.Querier, ca *rules.CompiledAssignment, entry int, a rules.Assign) (string, error) {
	users, err := access.ActiveUsers(ctx, tx)
	if err != nil {
		return "", err
	}
	var pool []access.UserRef
	for _, u := range users {
		switch {
		case a.User != "":
			if u.Username == a.User {
				return u.ID, nil
			}
		case a.Queue != "":
			if u.Department == a.Queue {
				pool = append(pool, u)
			}
		case a.RoundRobin != nil && a.RoundRobin.Role != "":
			if slices.Contains(u.Roles, a.RoundRobin.Role) {
				pool = append(pool, u)
			}
		case a.RoundRobin != nil:
			if slices.Contains(a.RoundRobin.Users, u.Username) {
				pool = append(pool, u)
			}
		}
	}
	if len(pool) == 0 {
		return "", nil
	}
	n, err := s.nextPosition(ctx, tx, fmt.Sprintf("%s/%s/%d", ca.Object, ca.Name, entry))
	if err != nil {
		return "", err
	}
	return pool[int(n%int64(len(pool)))].ID, nil
}

// nextPosition advances a round-robin counter and returns its position
// before the step (0, 1, 2 …). The row stays locked until the unit of
// work ends, so concurrent creates take turns.
func (s *Sales) nextPosition(ctx context.Context, tx store.Querier, counter string) (int64, error) {
	if _, err := tx.ExecContext(ctx, store.Rebind(s.db.Dialect, `INSERT INTO crm_sales_round_robin ("counter", "position") VALUES (?, 0) ON CONFLICT ("counter") DO NOTHING`), counter); err != nil {
		return 0, fmt.Errorf("sales: round robin %s: %w", counter, err)
	}
	var n int64
	err := tx.QueryRowContext(ctx, store.Rebind(s.db.Dialect, `UPDATE crm_sales_round_robin SET "position" = "position" + 1 WHERE "counter" = ? RETURNING "position"`), counter).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sales: round robin %s: %w", counter, err)
	}
	return n - 1, nil
}
