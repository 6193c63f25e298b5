package sales

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/sales/rules"
)

// maxMatches bounds the duplicates a refusal lists.
const maxMatches = 10

// fillBatch is how many rows one statement of a key back-fill reads.
const fillBatch = 1000

// checkDuplicates refuses a new record that matches existing ones under a
// duplicate rule of its object, unless the rule only warns and the
// caller allows duplicates. It keeps each rule's key for storeKeys.
func (s *Sales) checkDuplicates(ctx context.Context, ev *engine.Event) error {
	for _, r := range rules.Duplicates(ev.Snapshot.Compiled(rules.KindDuplicateRules), ev.Object.Name) {
		key, ok := r.Key(ev.New)
		if !ok {
			continue
		}
		ids, err := s.matches(ctx, ev.Tx, ev.Object.Name, r, key)
		if err != nil {
			return err
		}
		if len(ids) == 0 || (!r.Blocks() && AllowDuplicates(ctx)) {
			continue
		}
		found, err := describeMatches(ctx, ev.Writer, ev.Object, ids)
		if err != nil {
			return err
		}
		return &engine.DuplicateError{Object: ev.Object.Name, Rule: r.Name, Allowed: !r.Blocks(), Matches: found}
	}
	return nil
}

// matches returns the ids of the records of object whose key under r is
// key, through the rule's index.
func (s *Sales) matches(ctx context.Context, q store.Querier, object string, r *rules.CompiledDuplicateRule, key string) ([]string, error) {
	query := fmt.Sprintf(`SELECT "id" FROM %s WHERE %s = ? ORDER BY "id" LIMIT %d`, store.Ident(object), store.Ident(r.Column()), maxMatches)
	rows, err := q.QueryContext(ctx, store.Rebind(s.db.Dialect, query), key)
	if err != nil {
		return nil, fmt.Errorf("sales: duplicates of %s under %s: %w", object, r.Name, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// describeMatches reads each match as w's principal may: its id and title
// field when it may read the record, "a record you cannot see" when not.
func describeMatches(ctx context.Context, w *engine.Writer, obj *metadata.Object, ids []string) ([]engine.DuplicateMatch, error) {
	out := make([]engine.DuplicateMatch, 0, len(ids))
	for _, id := range ids {
		rec, err := w.Get(ctx, obj.Name, id)
		if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrForbidden) {
			out = append(out, engine.DuplicateMatch{Message: "a record you cannot see"})
			continue
		}
		if err != nil {
			return nil, err
		}
		m := engine.DuplicateMatch{ID: id, Message: fmt.Sprintf("%s %s", obj.Name, id)}
		if v := rec[obj.TitleField]; v != nil && obj.TitleField != "" {
			m.Title = map[string]any{obj.TitleField: v}
			m.Message = fmt.Sprintf("%s %v", obj.Name, v)
		}
		out = append(out, m)
	}
	return out, nil
}

// storeKeys writes the keys of a record just created or updated into
// the hidden key columns of its object's duplicate rules.
func (s *Sales) storeKeys(ctx context.Context, ev *engine.Event) error {
	for _, r := range rules.Duplicates(ev.Snapshot.Compiled(rules.KindDuplicateRules), ev.Object.Name) {
		key, ok := r.Key(ev.New)
		if ev.Op == engine.OpUpdate {
			if old, had := r.Key(ev.Old); old == key && had == ok {
				continue
			}
		}
		var v any
		if ok {
			v = key
		}
		q := fmt.Sprintf(`UPDATE %s SET %s = ? WHERE "id" = ?`, store.Ident(ev.Object.Name), store.Ident(r.Column()))
		if _, err := ev.Tx.ExecContext(ctx, store.Rebind(s.db.Dialect, q), v, ev.ID); err != nil {
			return fmt.Errorf("sales: key of %s %s under %s: %w", ev.Object.Name, ev.ID, r.Name, err)
		}
	}
	return nil
}

// syncKeysNow brings the key columns in line with the current metadata
// (a template installed before Wire, a change applied by a program that
// did not wire the sales rules).
func (s *Sales) syncKeysNow(ctx context.Context) error {
	snap := s.eng.Snapshot()
	if snap.Schema == nil || len(snap.Schema.Objects) == 0 {
		return nil
	}
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sales: sync duplicate keys: %w", err)
	}
	defer tx.Rollback()
	if err := s.db.LockMetadata(ctx, tx); err != nil {
		return err
	}
	if err := s.syncKeys(ctx, tx, snap.Schema); err != nil {
		return err
	}
	return tx.Commit()
}

// syncKeys runs in the transaction of a metadata change: every duplicate
// rule of sc gets its hidden, indexed key column, filled for the existing
// records when the rule is new or its fields changed; the columns of
// rules that are gone are dropped.
func (s *Sales) syncKeys(ctx context.Context, tx *sql.Tx, sc *metadata.Schema) error {
	compiled, _ := rules.DuplicateRules.Kind().Compile(sc)
	stored, err := s.storedSignatures(ctx, tx)
	if err != nil {
		return err
	}
	for _, o := range sc.Objects {
		for _, r := range rules.Duplicates(compiled, o.Name) {
			k := o.Name + "/" + r.Name
			sig, known := stored[k]
			delete(stored, k)
			cols, err := s.db.Columns(ctx, tx, o.Name)
			if err != nil {
				return err
			}
			has := slices.Contains(cols, r.Column())
			if has && known && sig == r.Signature() {
				continue
			}
			if !has {
				for _, q := range []string{
					fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s TEXT", store.Ident(o.Name), store.Ident(r.Column())),
					fmt.Sprintf("CREATE INDEX %s ON %s (%s)", store.Ident(keyIndex(o.Name, r.Name)), store.Ident(o.Name), store.Ident(r.Column())),
				} {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						return fmt.Errorf("sales: key column of %s: %w", r.Name, err)
					}
				}
			}
			if err := s.fillKeys(ctx, tx, o, r); err != nil {
				return err
			}
			if err := s.saveSignature(ctx, tx, o.Name, r.Name, r.Signature(), known); err != nil {
				return err
			}
		}
	}
	for k := range stored {
		if err := s.dropKey(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

// storedSignatures reads the key columns kept, by "object/rule".
func (s *Sales) storedSignatures(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT "object", "rule", "signature" FROM crm_sales_dup_keys`)
	if err != nil {
		return nil, fmt.Errorf("sales: read duplicate keys: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var o, r, sig string
		if err := rows.Scan(&o, &r, &sig); err != nil {
			return nil, err
		}
		out[o+"/"+r] = sig
	}
	return out, rows.Err()
}

// saveSignature records what a rule's keys are made of.
func (s *Sales) saveSignature(ctx context.Context, tx *sql.Tx, object, rule, sig string, known bool) error {
	q := `INSERT INTO crm_sales_dup_keys ("signature", "object", "rule") VALUES (?, ?, ?)`
	if known {
		q = `UPDATE crm_sales_dup_keys SET "signature" = ? WHERE "object" = ? AND "rule" = ?`
	}
	if _, err := tx.ExecContext(ctx, store.Rebind(s.db.Dialect, q), sig, object, rule); err != nil {
		return fmt.Errorf("sales: save duplicate key %s: %w", rule, err)
	}
	return nil
}

// dropKey drops the key column of a rule that is gone ("object/rule").
func (s *Sales) dropKey(ctx context.Context, tx *sql.Tx, k string) error {
	object, rule, _ := strings.Cut(k, "/")
	cols, err := s.db.Columns(ctx, tx, object)
	if err != nil {
		return err
	}
	col := rules.KeyColumnPrefix + rule
	if slices.Contains(cols, col) {
		for _, q := range []string{
			"DROP INDEX IF EXISTS " + store.Ident(keyIndex(object, rule)),
			fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", store.Ident(object), store.Ident(col)),
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("sales: drop key column of %s: %w", rule, err)
			}
		}
	}
	_, err = tx.ExecContext(ctx, store.Rebind(s.db.Dialect, `DELETE FROM crm_sales_dup_keys WHERE "object" = ? AND "rule" = ?`), object, rule)
	return err
}

// keyIndex names the index of a rule's key column within PostgreSQL's
// 63-byte limit.
func keyIndex(object, rule string) string {
	n := "dupx_" + object + "_" + rule
	if len(n) <= 63 {
		return n
	}
	h := sha1.Sum([]byte(n))
	return n[:50] + "_" + hex.EncodeToString(h[:6])
}

// fillKeys computes the key of every record of o under r, a batch of
// rows at a time in id order.
func (s *Sales) fillKeys(ctx context.Context, tx *sql.Tx, o *metadata.Object, r *rules.CompiledDuplicateRule) error {
	fields := r.FieldNames()
	cols := `"id"`
	for _, f := range fields {
		cols += ", " + store.Ident(f)
	}
	sel := store.Rebind(s.db.Dialect, fmt.Sprintf(`SELECT %s FROM %s WHERE "id" > ? ORDER BY "id" LIMIT %d`, cols, store.Ident(o.Name), fillBatch))
	upd := store.Rebind(s.db.Dialect, fmt.Sprintf(`UPDATE %s SET %s = ? WHERE "id" = ?`, store.Ident(o.Name), store.Ident(r.Column())))
	type keyed struct {
		id  string
		key any
	}
	last := ""
	for {
		rows, err := tx.QueryContext(ctx, sel, last)
		if err != nil {
			return fmt.Errorf("sales: fill keys of %s: %w", r.Name, err)
		}
		var batch []keyed
		for rows.Next() {
			vals := make([]sql.NullString, len(fields))
			dest := []any{&last}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			rec := make(map[string]any, len(fields))
			for i, f := range fields {
				rec[f] = vals[i].String
			}
			k := keyed{id: last}
			if key, ok := r.Key(rec); ok {
				k.key = key
			}
			batch = append(batch, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range batch {
			if _, err := tx.ExecContext(ctx, upd, k.key, k.id); err != nil {
				return fmt.Errorf("sales: fill keys of %s: %w", r.Name, err)
			}
		}
		if len(batch) < fillBatch {
			return nil
		}
	}
}
