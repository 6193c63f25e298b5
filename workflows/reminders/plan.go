package reminders

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/uptrace/bun"
)

// planBatch is how many records one step of a plan job plans.
const planBatch = 200

// planHook keeps the schedule of a written record's reminders in step:
// after create and update, in the write's unit of work.
func (rm *Reminders) planHook(ctx context.Context, ev *engine.Event) error {
	// A record just created, and not updated since by an earlier hook of
	// the same write (whose own plan would then be there), has neither a
	// planned reminder nor a delivery to look for.
	fresh := ev.Op == engine.OpCreate && ev.Writer != nil && !ev.Writer.ChangedInPlace(ev.Object.Name, ev.ID)
	for _, r := range definition.CompiledReminders(ev.Snapshot).Of(ev.Object.Name) {
		if err := rm.plan(ctx, ev.Writer, r, ev.Object.Name, ev.ID, ev.Old, ev.New, fresh); err != nil {
			return err
		}
	}
	return nil
}

// cancelHook drops the planned reminders of a deleted record.
func (rm *Reminders) cancelHook(ctx context.Context, ev *engine.Event) error {
	if len(definition.CompiledReminders(ev.Snapshot).Of(ev.Object.Name)) == 0 {
		return nil
	}
	if _, err := ev.Tx.ExecContext(ctx, rm.t.SQL(`DELETE FROM `+tableSchedule+` WHERE object = ? AND record_id = ?`), ev.Object.Name, ev.ID); err != nil {
		return fmt.Errorf("reminders: cancel reminders of %s %s: %w", ev.Object.Name, ev.ID, err)
	}
	return nil
}

// plan sets, replaces or drops the planned reminder r of a record (rec in
// storage form; old before the write, nil for a create or a plan job). A
// planned reminder already due is left to the scan. A reminder delivered
// for a due time is not planned again for it. fresh says the record is new
// in the unit of work and untouched since: nothing is planned or delivered
// for it, and neither is looked for.
func (rm *Reminders) plan(ctx context.Context, w *engine.Writer, r *definition.CompiledReminder, object, id string, old, rec map[string]any, fresh bool) error {
	now := rm.t.Now()
	var dueRaw, fireRaw any
	found := false
	if !fresh {
		err := w.SQL().QueryRowContext(ctx, rm.t.SQL(`SELECT due_at, fire_at FROM `+tableSchedule+` WHERE reminder = ? AND object = ? AND record_id = ?`), r.Name, object, id).Scan(&dueRaw, &fireRaw)
		found = err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reminders: plan %s of %s %s: %w", r.Name, object, id, err)
		}
	}
	if found && !store.ScanTime(fireRaw).After(now) {
		return nil
	}
	if at := store.ScanTime(dueRaw); found && at.Before(now) {
		// Due and waiting to be judged again (recheck): kept while the
		// record is still due then.
		if again, _, ok := r.Due(rec, at, rm.zone()); ok && again.Equal(at) {
			return nil
		}
	}
	due, fire, ok := r.Due(rec, now, rm.zone())
	if r.FormulaExpr != nil {
		after := rm.holds(ctx, w, r, r.FormulaExpr, rec)
		before := old != nil && rm.holds(ctx, w, r, r.FormulaExpr, old)
		if after && found {
			return nil
		}
		due, fire, ok = now, now, after && !before
	}
	if ok && r.CondExpr != nil && !r.CondWhenDue {
		ok = rm.holds(ctx, w, r, r.CondExpr, rec)
	}
	if ok && !fresh {
		var n int
		if err := w.SQL().QueryRowContext(ctx, rm.t.SQL(`SELECT COUNT(*) FROM `+tableDeliveries+` WHERE reminder = ? AND object = ? AND record_id = ? AND due_at = ?`),
			rm.t.Args(r.Name, object, id, due)...).Scan(&n); err != nil {
			return fmt.Errorf("reminders: deliveries of %s: %w", r.Name, err)
		}
		ok = n == 0
	}
	if found && ok && store.ScanTime(dueRaw).Equal(due) && store.ScanTime(fireRaw).Equal(fire) {
		return nil
	}
	if found {
		if _, err := w.SQL().ExecContext(ctx, rm.t.SQL(`DELETE FROM `+tableSchedule+` WHERE reminder = ? AND object = ? AND record_id = ?`), r.Name, object, id); err != nil {
			return fmt.Errorf("reminders: re-plan %s of %s %s: %w", r.Name, object, id, err)
		}
	}
	if !ok {
		return nil
	}
	if _, err := w.SQL().ExecContext(ctx, rm.t.SQL(`INSERT INTO `+tableSchedule+` (reminder, object, record_id, due_at, fire_at) VALUES (?, ?, ?, ?, ?)`),
		rm.t.Args(r.Name, object, id, due, fire)...); err != nil {
		return fmt.Errorf("reminders: plan %s of %s %s: %w", r.Name, object, id, err)
	}
	return nil
}

// holds evaluates a condition of a reminder; one that fails at run time is
// logged and counts as false, so a reminder never fails a user's write.
func (rm *Reminders) holds(ctx context.Context, w *engine.Writer, r *definition.CompiledReminder, x *formulas.Expr, rec map[string]any) bool {
	v, err := w.Eval(ctx, x, rec)
	if err != nil {
		rm.log.Warn("reminders: condition failed", "reminder", r.Name, "formula", x.Source(), "err", err)
		return false
	}
	return v == true
}

// replan runs in the transaction of every metadata change: the planned
// reminders of removed reminders are dropped, and a reminder added or
// changed (on a date or yearly) gets a plan job over its object's records.
func (rm *Reminders) replan(ctx context.Context, tx bun.Tx, s *metadata.Schema) error {
	kind := definition.Reminders.Kind().Name()
	old := rm.eng.Snapshot().Schema
	for _, d := range old.Documents(kind) {
		if _, kept := s.Document(kind, d.Name); !kept {
			if _, err := tx.Tx.ExecContext(ctx, rm.t.SQL(`DELETE FROM `+tableSchedule+` WHERE reminder = ?`), d.Name); err != nil {
				return fmt.Errorf("reminders: drop the plan of %s: %w", d.Name, err)
			}
		}
	}
	for _, d := range s.Documents(kind) {
		r, ok := d.Value.(*definition.Reminder)
		if !ok || r.When.Formula != "" {
			continue
		}
		if prev, ok := old.Document(kind, d.Name); ok && sameDoc(prev, d) {
			continue
		}
		if _, _, err := rm.eng.Jobs().Enqueue(ctx, tx.Tx, jobs.Spec{Kind: KindPlan, Key: d.Name, Payload: planPayload{Reminder: d.Name}}); err != nil {
			return fmt.Errorf("reminders: plan %s: %w", d.Name, err)
		}
	}
	return nil
}

// sameDoc reports whether two versions of a document are written alike.
func sameDoc(a, b *metadata.Document) bool {
	ja, err1 := json.Marshal(a.Raw)
	jb, err2 := json.Marshal(b.Raw)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// planPayload is the input of a plan job.
type planPayload struct {
	Reminder string `json:"reminder"`
}

// planStep plans a reminder for the next batch of its object's records
// (by id, from the checkpoint), as the system.
func (rm *Reminders) planStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var p planPayload
	if err := json.Unmarshal(l.Payload, &p); err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: plan job %s: %w", l.ID, err)
	}
	r, ok := definition.CompiledReminders(rm.eng.Snapshot()).Get(p.Reminder)
	if !ok {
		return jobs.Progress{Finished: true, Message: "reminder " + p.Reminder + " no longer exists"}, nil
	}
	db := rm.eng.DB()
	rows, err := db.SQL().QueryContext(ctx, rm.t.SQL(`SELECT "id" FROM `+store.Ident(r.Object)+` WHERE "id" > ? ORDER BY "id" LIMIT `+fmt.Sprint(planBatch)), l.Checkpoint)
	if err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: records of %s: %w", r.Object, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return jobs.Progress{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return jobs.Progress{}, err
	}
	err = rm.eng.Tx(ctx, access.System(nil), func(w *engine.Writer) error {
		r, ok := definition.CompiledReminders(w.Snapshot()).Get(p.Reminder)
		if !ok {
			return nil
		}
		for _, id := range ids {
			rec, err := w.Load(ctx, r.Object, id)
			if errors.Is(err, engine.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := rm.plan(ctx, w, r, r.Object, id, nil, rec, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return jobs.Progress{}, err
	}
	pr := jobs.Progress{Done: l.Done + int64(len(ids)), Total: -1, Finished: len(ids) < planBatch, Message: "planning reminder " + p.Reminder}
	if len(ids) > 0 {
		pr.Checkpoint = ids[len(ids)-1]
	}
	return pr, nil
}
