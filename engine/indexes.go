package engine

import (
	"context"
	"fmt"

	"slices"
	"strings"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// WantedIndexes lists the indexes the engine keeps on the tables of s
// on a database of dialect, besides those of single fields (lookups,
// unique fields): the owner index of every object, an index on each field
// of the object that a sharing rule tests (unless an index already starts
// with it), the indexes objects declare, and those the roll-ups of c (the
// formulas compiled from s; nil for none) read (rollupIndexes).
// store.PlanIndexes plans them.
func WantedIndexes(dialect string, s *metadata.Schema, c *formulas.Compiled) []store.IndexDef {
	var out []store.IndexDef
	for _, o := range s.Objects {
		out = append(out, store.OwnerIndex(o.Name))
		for _, ix := range o.Indexes {
			out = append(out, store.DeclaredIndex(o.Name, ix))
		}
		for _, f := range sharingFields(dialect, s, o) {
			if !leadsIndex(o, f, out) {
				out = append(out, store.IndexDef{Table: o.Name, Columns: []metadata.IndexField{{Name: f}}, Why: "tested by a sharing rule"})
			}
		}
	}
	return append(out, rollupIndexes(dialect, s, c)...)
}

// rollupIndexes lists, for each lookup through which roll-ups aggregate
// a child object, an index of the child that holds everything those
// roll-ups read: the lookup, then the fields their conditions test, then
// the fields they aggregate. A roll-up recomputed after a write of one
// child then reads its parent's entries of that index alone, not every
// child row of the parent from the table: a count or a sum scans the
// entries (an account's open deals: its opportunities' stages, not the
// opportunities), a min or a max under an equality condition seeks one
// (the last won deal's date). Without it, each write of a child of a
// parent with many children read all of them, one table row each. A
// lookup whose roll-ups read nothing besides it (a count of all children)
// has its own index already; fields that cannot be indexed are left out.
func rollupIndexes(dialect string, s *metadata.Schema, c *formulas.Compiled) []store.IndexDef {
	if c == nil {
		return nil
	}
	type lookup struct {
		child                  *metadata.Object
		via                    string
		conds, values, readers []string
	}
	var order []*lookup
	byKey := map[string]*lookup{}
	for _, r := range c.Rollups() {
		child, ok := s.Object(r.Child)
		if !ok {
			continue
		}
		l := byKey[r.Child+"."+r.Via]
		if l == nil {
			l = &lookup{child: child, via: r.Via}
			byKey[r.Child+"."+r.Via] = l
			order = append(order, l)
		}
		for _, name := range r.Reads {
			if name != r.Via && name != r.ValueField && !slices.Contains(l.conds, name) {
				l.conds = append(l.conds, name)
			}
		}
		if r.ValueField != "" && !slices.Contains(l.values, r.ValueField) {
			l.values = append(l.values, r.ValueField)
		}
		reader := r.Object + "." + r.Field
		if r.Field == "" {
			reader = r.Object + " rule " + r.Rule
		}
		l.readers = append(l.readers, reader)
	}
	var out []store.IndexDef
	for _, l := range order {
		var cols []metadata.IndexField
		for _, name := range slices.Concat([]string{l.via}, l.conds, l.values) {
			f, ok := l.child.FieldOrSystem(name)
			if ok && metadata.Sortable(f) && metadata.TypeOf(f).Column(dialect, f) != "" && len(cols) < metadata.MaxIndexFields &&
				!slices.ContainsFunc(cols, func(c metadata.IndexField) bool { return c.Name == name }) {
				cols = append(cols, metadata.IndexField{Name: name})
			}
		}
		if len(cols) < 2 || cols[0].Name != l.via {
			continue
		}
		out = append(out, store.IndexDef{Table: l.child.Name, Columns: cols, Why: "read by the roll-ups " + strings.Join(l.readers, ", ")})
	}
	return out
}

// leadsIndex reports whether field already starts an index of its object:
// a lookup's or unique field's own index, or one of ixs.
func leadsIndex(o *metadata.Object, field string, ixs []store.IndexDef) bool {
	if f, ok := o.Field(field); ok {
		if _, lookup := metadata.LookupTarget(f); lookup || f.Unique {
			return true
		}
	}
	for _, ix := range ixs {
		if ix.Table == o.Name && ix.Columns[0].Name == field {
			return true
		}
	}
	return false
}

// sharingFields lists the fields of o that the conditions of sharing
// rules on o test directly, in the order they first appear.
func sharingFields(dialect string, s *metadata.Schema, o *metadata.Object) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Roles {
		for _, sr := range r.SharingRules {
			if sr.Object != o.Name || sr.Condition == "" {
				continue
			}
			_, _ = query.CompileFilter(sr.Condition, o, query.Options{Dialect: dialect, Schema: s, CheckField: func(object, field string) error {
				if object == o.Name && !seen[field] && field != "id" && field != metadata.OwnerField {
					seen[field] = true
					out = append(out, field)
				}
				return nil
			}})
		}
	}
	return out
}

// SyncIndexes makes the indexes of the database those the current
// metadata wants (the owner index of every object, the fields sharing
// rules test, the declared indexes), as a metadata change would, without
// a new metadata version: `crm serve` runs it at start, so a database
// made by an older version gets its indexes, and `crm migrate` when the
// metadata did not change. With dryRun it only plans. It returns the plan.
func (e *Engine) SyncIndexes(ctx context.Context, dryRun bool) (*store.Plan, error) {
	if _, err := e.Reload(ctx); err != nil {
		return nil, err
	}
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	tx, err := e.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: sync indexes: %w", err)
	}
	defer tx.Rollback()
	if err := e.db.LockMetadata(ctx, tx); err != nil {
		return nil, err
	}
	snap := e.Snapshot()
	plan := &store.Plan{}
	if err := e.db.PlanIndexes(ctx, tx, plan, WantedIndexes(e.db.Dialect, snap.Schema, snap.Formulas())); err != nil {
		return nil, err
	}
	if dryRun || plan.Empty() {
		return plan, nil
	}
	if len(plan.Refused) > 0 {
		return plan, plan.Refused
	}
	if err := e.db.Apply(ctx, tx, plan); err != nil {
		return plan, err
	}
	if err := tx.Commit(); err != nil {
		return plan, fmt.Errorf("engine: sync indexes: %w", err)
	}
	if err := e.db.ApplyOnline(ctx, plan); err != nil {
		return plan, err
	}
	if err := e.db.Optimize(ctx); err != nil {
		return plan, err
	}
	e.log.Info("indexes synchronised", "steps", len(plan.Steps)+len(plan.Online))
	return plan, nil
}
