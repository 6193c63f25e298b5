package routes

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// savedDocs keeps the documents of one kind (dashboards, reports) that
// users save for themselves in table, one row per user and name with the
// document as JSON.
type savedDocs[T any] struct {
	db    *store.DB
	table string
	// what names a document in messages ("dashboard").
	what string
}

// migrate creates the table.
func (s *savedDocs[T]) migrate(ctx context.Context) error {
	ts := "TEXT"
	if s.db.Dialect == metadata.DialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	_, err := s.db.SQL().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+store.Ident(s.table)+
		` ("user_id" TEXT NOT NULL, "name" TEXT NOT NULL, "doc" TEXT NOT NULL, "updated_at" `+ts+` NOT NULL, PRIMARY KEY ("user_id", "name"))`)
	if err != nil {
		return fmt.Errorf("reports: create %s: %w", s.table, err)
	}
	return nil
}

// list returns a user's saved documents by name (as saved; those that no
// longer parse are left out).
func (s *savedDocs[T]) list(ctx context.Context, user string) ([]*T, error) {
	rows, err := s.db.SQL().QueryContext(ctx, store.Rebind(s.db.Dialect, `SELECT "doc" FROM `+store.Ident(s.table)+` WHERE "user_id" = ? ORDER BY "name"`), user)
	if err != nil {
		return nil, fmt.Errorf("reports: %s of %s: %w", s.table, user, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("reports: %s of %s: %w", s.table, user, err)
		}
		v := new(T)
		if json.Unmarshal([]byte(doc), v) == nil {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}

// put saves a user's document v as name, replacing theirs of that name;
// before, when not nil, runs first in the same transaction.
func (s *savedDocs[T]) put(ctx context.Context, user, name string, v *T, before func(tx *sql.Tx) error) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("reports: save %s: %w", name, err)
	}
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reports: save %s: %w", name, err)
	}
	defer tx.Rollback()
	if before != nil {
		if err := before(tx); err != nil {
			return err
		}
	}
	t := s.db.Dialect
	if _, err := tx.ExecContext(ctx, store.Rebind(t, `DELETE FROM `+store.Ident(s.table)+` WHERE "user_id" = ? AND "name" = ?`), user, name); err != nil {
		return fmt.Errorf("reports: save %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, store.Rebind(t, `INSERT INTO `+store.Ident(s.table)+` ("user_id", "name", "doc", "updated_at") VALUES (?, ?, ?, ?)`),
		user, name, string(doc), metadata.DBValue(t, time.Now().UTC())); err != nil {
		return fmt.Errorf("reports: save %s: %w", name, err)
	}
	return tx.Commit()
}

// rewrite saves again, in tx, each of a user's documents that change
// changes (it reports whether it did).
func (s *savedDocs[T]) rewrite(ctx context.Context, tx *sql.Tx, user string, change func(v *T) bool) error {
	rows, err := tx.QueryContext(ctx, store.Rebind(s.db.Dialect, `SELECT "name", "doc" FROM `+store.Ident(s.table)+` WHERE "user_id" = ?`), user)
	if err != nil {
		return fmt.Errorf("reports: %s of %s: %w", s.table, user, err)
	}
	type saved struct{ name, doc string }
	var changed []saved
	for rows.Next() {
		var sv saved
		if err := rows.Scan(&sv.name, &sv.doc); err != nil {
			rows.Close()
			return fmt.Errorf("reports: %s of %s: %w", s.table, user, err)
		}
		v := new(T)
		if json.Unmarshal([]byte(sv.doc), v) == nil && change(v) {
			b, err := json.Marshal(v)
			if err != nil {
				rows.Close()
				return fmt.Errorf("reports: %s %s: %w", s.table, sv.name, err)
			}
			changed = append(changed, saved{sv.name, string(b)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reports: %s of %s: %w", s.table, user, err)
	}
	for _, sv := range changed {
		if _, err := tx.ExecContext(ctx, store.Rebind(s.db.Dialect, `UPDATE `+store.Ident(s.table)+` SET "doc" = ? WHERE "user_id" = ? AND "name" = ?`), sv.doc, user, sv.name); err != nil {
			return fmt.Errorf("reports: %s %s: %w", s.table, sv.name, err)
		}
	}
	return nil
}

// remove deletes a user's document and reports whether there was one.
func (s *savedDocs[T]) remove(ctx context.Context, user, name string) (bool, error) {
	res, err := s.db.SQL().ExecContext(ctx, store.Rebind(s.db.Dialect, `DELETE FROM `+store.Ident(s.table)+` WHERE "user_id" = ? AND "name" = ?`), user, name)
	if err != nil {
		return false, fmt.Errorf("reports: delete %s %s: %w", s.table, name, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// delete deletes a user's document (engine.ErrNotFound when they have
// none of that name).
func (s *savedDocs[T]) delete(ctx context.Context, user, name string) error {
	ok, err := s.remove(ctx, user, name)
	if err == nil && !ok {
		err = fmt.Errorf("%w: you have no saved %s %s", engine.ErrNotFound, s.what, name)
	}
	return err
}

// putOwn answers PUT /api/{dashboards,reports}/{name}: the body parsed as
// a document of kind, named as the path, saved by save as the caller's.
func putOwn[T any](h *handlers, c *fiber.Ctx, kind *metadata.DocKind, nameOf func(*T) string, save func(context.Context, *engine.Rights, *T) error) error {
	ctx := c.UserContext()
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return err
	}
	parsed, err := parseBody(c, kind)
	if err != nil {
		return err
	}
	v := parsed.Value.(*T)
	if nameOf(v) != c.Params("name") {
		return &engine.RequestError{Message: fmt.Sprintf("the body names %s, the path %s", nameOf(v), c.Params("name")),
			Details: []engine.FieldError{{Field: "name", Code: "mismatch", Message: "must be the name in the path"}}}
	}
	if err := save(ctx, rights, v); err != nil {
		return err
	}
	return c.JSON(v)
}

// deleteOwn answers DELETE /api/{dashboards,reports}/{name}: one of the
// caller's own documents in saved.
func deleteOwn[T any](h *handlers, c *fiber.Ctx, saved *savedDocs[T]) error {
	ctx := c.UserContext()
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return err
	}
	if err := saved.delete(ctx, rights.Principal().UserID, c.Params("name")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
