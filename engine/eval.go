package engine

import (
	"context"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Load reads the whole row of a record in storage form (every field,
// whatever the principal may read) once it checked that the principal
// reaches the record for read (not found otherwise), and locks the row for
// the rest of the unit of work (FOR UPDATE on PostgreSQL). It is for the
// platform's own decisions (entry criteria, conditions, formulas of
// workflows): never hand what it returns to a user as it is.
func (w *Writer) Load(ctx context.Context, object, id string) (map[string]any, error) {
	s, err := w.rights.ScopeFor(object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return w.e.lockRow(ctx, w, s, metadata.ActionRead, id)
}

// Eval evaluates a formula standing on its own (formulas.Expr: a
// workflow's condition or value) over rec, a record in storage form,
// inside the unit of work: related records and roll-ups are read in its
// transaction, whatever the principal may read (as computed fields are),
// and now() is the engine's clock.
func (w *Writer) Eval(ctx context.Context, x *formulas.Expr, rec map[string]any) (any, error) {
	now := w.e.now().UTC()
	res := &formulaResolver{e: w.e, q: w.tx, snap: w.rights.snap, now: now}
	return x.Eval(formulas.WithNow(ctx, now), rec, res)
}
