package access

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine/store"
)

// userFormulaColumns maps the fields formulas read of a user (owner.name,
// owner.manager.email …; see formulas.UserFields) to columns of crm_users.
var userFormulaColumns = map[string]string{"id": "id", "name": "display_name", "username": "username", "email": "email", "manager": "manager_id"}

// UserValues returns the given formula fields of the users with the given
// ids, keyed by id, reading crm_users in q (the caller's transaction, so a
// write sees its own changes); manager is the manager's id or nil. Ids
// that do not exist are left out; an unknown field is an error.
func UserValues(ctx context.Context, q store.Querier, dialect string, ids, fields []string) (map[string]map[string]any, error) {
	names := append([]string{"id"}, fields...)
	cols := make([]string, len(names))
	for i, f := range names {
		c, ok := userFormulaColumns[f]
		if !ok {
			return nil, fmt.Errorf("access: users have no field %q", f)
		}
		cols[i] = store.Ident(c)
	}
	out := make(map[string]map[string]any, len(ids))
	read := func(chunk []string) error {
		rows, err := q.QueryContext(ctx, store.Rebind(dialect, "SELECT "+strings.Join(cols, ", ")+" FROM "+TableUsers+" WHERE "+store.In("id", len(chunk))), idArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("access: read users for formulas: %w", err)
		}
		defer rows.Close()
		// Every column a formula reads of a user is text (or NULL).
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return fmt.Errorf("access: read users for formulas: %w", err)
			}
			row := make(map[string]any, len(names))
			for i, n := range names {
				row[n] = nil
				if vals[i].Valid {
					row[n] = vals[i].String
				}
			}
			out[vals[0].String] = row
		}
		return rows.Err()
	}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		if err := read(chunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Reports returns the ids of the users whose manager is one of
// managerIDs, reading crm_users in q.
func Reports(ctx context.Context, q store.Querier, dialect string, managerIDs []string) ([]string, error) {
	var out []string
	read := func(chunk []string) error {
		rows, err := q.QueryContext(ctx, store.Rebind(dialect, "SELECT id FROM "+TableUsers+" WHERE "+store.In("manager_id", len(chunk))), idArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("access: reports of managers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("access: reports of managers: %w", err)
			}
			out = append(out, id)
		}
		return rows.Err()
	}
	for chunk := range slices.Chunk(managerIDs, store.MaxInList) {
		if err := read(chunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// idArgs turns ids into query arguments.
func idArgs(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
