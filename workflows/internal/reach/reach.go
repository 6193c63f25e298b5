// Package reach answers whether a principal reaches one record, through
// the engine's one permission decision: the right on the object and the
// record predicate of the principal's Scope, checked inside a unit of
// work. Workflows (transitions, reminders' recipients) use it; it decides
// nothing of its own.
package reach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
)

// Record reports whether the principal of s may do action on record id:
// the right (Scope.Can) and the record predicate (Scope.Predicate), run in
// w's transaction on db.
func Record(ctx context.Context, db *store.DB, w *engine.Writer, s *engine.Scope, action, id string) (bool, error) {
	if s.Can(action) != nil {
		return false, nil
	}
	pred, err := s.Predicate(ctx, action)
	if err != nil {
		return false, err
	}
	q := "SELECT 1 FROM " + store.Ident(s.Object().Name) + " WHERE \"id\" = ?"
	if pred.SQL != "" {
		q += " AND (" + pred.SQL + ")"
	}
	args := append([]any{id}, pred.Args...)
	var one int
	err = w.SQL().QueryRowContext(ctx, store.Rebind(db.Dialect, q), store.Args(db.Dialect, args)...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reach: may %s %s %s: %w", action, s.Object().Name, id, err)
	}
	return true, nil
}
