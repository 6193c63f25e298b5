package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/ui/layout"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// savedView is a list view a user kept: a filter, a sort and columns of
// one object, seen by its owner and, when shared, by the users of one
// role; or one a template ships (templateViews), with a description. It
// holds no records: opening it lists through the engine as the viewer,
// so a shared view shows each viewer only what they may read.
type savedView struct {
	ID          string
	Object      string
	Name        string
	Description string
	OwnerID     string
	Role        string
	Filter      string
	Sort        string
	Columns     []string
}

// viewsTable is the UI's own table of saved views.
const viewsTable = "crm_ui_views"

// Limits of saved views.
const (
	maxViewName   = 80
	maxViewFilter = 4000
)

// migrateViews creates the table of saved views.
func migrateViews(ctx context.Context, db *store.DB) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + viewsTable + ` (id TEXT PRIMARY KEY, object TEXT NOT NULL, name TEXT NOT NULL,
			owner_id TEXT NOT NULL, role TEXT NOT NULL DEFAULT '', filter TEXT NOT NULL DEFAULT '', sort TEXT NOT NULL DEFAULT '',
			columns TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + viewsTable + `_object ON ` + viewsTable + ` (object, owner_id)`,
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(ctx, s); err != nil {
			return fmt.Errorf("ui: create %s: %w", viewsTable, err)
		}
	}
	return nil
}

// listViews returns the views of object that p sees: their own and those
// shared with one of their roles, by name.
func (u *UI) listViews(ctx context.Context, p *access.Principal, object string) ([]savedView, error) {
	db := u.eng.DB()
	rows, err := db.SQL().QueryContext(ctx, store.Rebind(db.Dialect,
		`SELECT id, object, name, owner_id, role, filter, sort, columns FROM `+viewsTable+` WHERE object = ? ORDER BY name, id`), object)
	if err != nil {
		return nil, fmt.Errorf("ui: list views of %s: %w", object, err)
	}
	defer rows.Close()
	var out []savedView
	for rows.Next() {
		var v savedView
		var cols string
		if err := rows.Scan(&v.ID, &v.Object, &v.Name, &v.OwnerID, &v.Role, &v.Filter, &v.Sort, &cols); err != nil {
			return nil, fmt.Errorf("ui: list views of %s: %w", object, err)
		}
		if cols != "" {
			v.Columns = strings.Split(cols, ",")
		}
		if v.OwnerID == p.UserID || (v.Role != "" && slices.Contains(p.Roles, v.Role)) {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}

// templateViews returns the list views of object a template ships for a
// user holding roles, labelled in lang and identified by their names
// (saved views have uuids), in the order of their names.
func templateViews(s *metadata.Schema, object string, roles []string, lang string) []savedView {
	var out []savedView
	for _, v := range layout.ListViews.All(s) {
		if v.Object == object && v.For(roles) {
			out = append(out, savedView{ID: v.Name, Object: object, Name: v.Label.Get(lang), Description: v.Description.Get(lang),
				Filter: v.Filter, Sort: v.Sort, Columns: v.Columns})
		}
	}
	return out
}

// insertView stores a new view owned by p.
func (u *UI) insertView(ctx context.Context, p *access.Principal, v savedView) (string, error) {
	db := u.eng.DB()
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	_, err = db.SQL().ExecContext(ctx, store.Rebind(db.Dialect,
		`INSERT INTO `+viewsTable+` (id, object, name, owner_id, role, filter, sort, columns, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		id.String(), v.Object, v.Name, p.UserID, v.Role, v.Filter, v.Sort, strings.Join(v.Columns, ","), time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return "", fmt.Errorf("ui: save view %s: %w", v.Name, err)
	}
	return id.String(), nil
}

// removeView deletes a view of p's own (a view shared with p is not
// theirs to delete).
func (u *UI) removeView(ctx context.Context, p *access.Principal, object, id string) error {
	db := u.eng.DB()
	res, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect,
		`DELETE FROM `+viewsTable+` WHERE id = ? AND object = ? AND owner_id = ?`), id, object, p.UserID)
	if err != nil {
		return fmt.Errorf("ui: delete view %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: no saved view %s of yours", engine.ErrNotFound, id)
	}
	return nil
}
