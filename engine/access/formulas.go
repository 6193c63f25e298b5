package access

import (
	"context"
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
	exprs := make([]string, 0, len(fields)+1)
	for _, f := range append([]string{"id"}, fields...) {
		c, ok := userFormulaColumns[f]
		if !ok {
			return nil, fmt.Errorf("access: users have no field %q", f)
		}
		exprs = append(exprs, store.Ident(c)+" AS "+store.Ident(f))
	}
	out := make(map[string]map[string]any, len(ids))
	read := func(chunk []string) error {
		rows, err := q.QueryContext(ctx, store.Rebind(dialect, "SELECT "+strings.Join(exprs, ", ")+" FROM "+TableUsers+" WHERE "+store.In("id", len(chunk))), idArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("access: read users for formulas: %w", err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return fmt.Errorf("access: read users for formulas: %w", err)
			}
			row := make(map[string]any, len(cols))
			for i, c := range cols {
				if b, ok := vals[i].([]byte); ok {
					vals[i] = string(b)
				}
				row[c] = vals[i]
			}
			id, _ := row["id"].(string)
			out[id] = row
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
