package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// batchReads are what a batch's records refer to, read at once before the
// records' checks (Writer.CreateMany) so that each record's checks and
// formulas do not read it again: the references found readable, and the
// records its formulas read through their lookups. What the batch read
// stays valid while the unit of work does not change that record in place
// (a before-hook updating or deleting it) after mark, which the row log
// tells; a record created since is read as usual.
type batchReads struct {
	mark int
	refs map[string]map[string]bool // object → ids found readable
	rows map[string]*batchRows      // object → records formulas read there
}

// batchRows are records of one object a batch's formulas read, with the
// fields read.
type batchRows struct {
	fields map[string]bool
	byID   map[string]map[string]any // storage form
}

// known splits ids of records of object into those known readable and
// those to ask about; a nil batchReads knows none.
func (b *batchReads) known(rows *rowLog, object string, ids []string) (map[string]bool, []string) {
	if b == nil {
		return nil, ids
	}
	found := map[string]bool{}
	var ask []string
	for _, id := range ids {
		if b.refs[object][id] && !rows.changedSince(b.mark, object, id) {
			found[id] = true
		} else {
			ask = append(ask, id)
		}
	}
	return found, ask
}

// lookup puts into out the fields of the records of object with ids that
// the batch read, and returns the ids it did not (all of them when it read
// none of those fields there).
func (b *batchReads) lookup(rows *rowLog, object string, ids, fields []string, out map[string]map[string]any) []string {
	if b == nil || b.rows[object] == nil {
		return ids
	}
	br := b.rows[object]
	for _, f := range fields {
		if !br.fields[f] {
			return ids
		}
	}
	var ask []string
	for _, id := range ids {
		row, ok := br.byID[id]
		if !ok || rows.changedSince(b.mark, object, id) {
			ask = append(ask, id)
			continue
		}
		got := make(map[string]any, len(fields)+1)
		got["id"] = id
		for _, f := range fields {
			got[f] = row[f]
		}
		out[id] = got
	}
	return ask
}

// prefetch reads at once what the records of a batch (JSON form, as
// sent) refer to through obj's lookup and many-to-many fields: which of
// those records the principal may read, and the fields obj's formulas
// read there through one lookup; one query per referenced object and
// 1,000 ids, instead of one per record and field. Values that are not ids
// are left to each record's checks.
func (e *Engine) prefetch(ctx context.Context, w *Writer, s *Scope, data []map[string]any) (*batchReads, error) {
	b := &batchReads{mark: w.rows.mark(), refs: map[string]map[string]bool{}, rows: map[string]*batchRows{}}
	want := map[string][]string{} // object → ids, in order, once each
	read := map[string][]string{} // object → ids formulas read there
	seen := map[[3]string]bool{}
	add := func(m map[string][]string, kind, object, id string) {
		if !seen[[3]string{kind, object, id}] {
			seen[[3]string{kind, object, id}] = true
			m[object] = append(m[object], id)
		}
	}
	c := s.r.snap.Formulas()
	for _, f := range s.obj.Fields {
		name, ok := metadata.ReferenceTarget(f)
		if !ok {
			continue
		}
		fields := formulaReads(c, s.obj.Name, f.Name, name)
		for _, d := range data {
			var ids []any
			switch v := d[f.Name].(type) {
			case string:
				ids = []any{v}
			case []any:
				ids = v
			}
			for _, x := range ids {
				id, ok := x.(string)
				if !ok || id == "" {
					continue
				}
				add(want, "ref", name, id)
				if len(fields) > 0 && !metadata.Linked(f) {
					add(read, "read", name, id)
				}
			}
		}
		if len(fields) > 0 && !metadata.Linked(f) {
			if b.rows[name] == nil {
				b.rows[name] = &batchRows{fields: map[string]bool{}}
			}
			for _, fd := range fields {
				b.rows[name].fields[fd] = true
			}
		}
	}
	for name, ids := range want {
		target, err := s.r.Scope(name)
		if err != nil {
			return nil, err
		}
		if b.refs[name], err = e.readableIDs(ctx, w, target, ids); err != nil {
			return nil, fmt.Errorf("check references to %s: %w", name, err)
		}
	}
	res := &formulaResolver{e: e, q: w.tx, snap: s.r.snap, now: e.now().UTC()}
	for name, br := range b.rows {
		fields := slices.Sorted(maps.Keys(br.fields))
		var err error
		if br.byID, err = res.Lookup(ctx, name, read[name], fields); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// formulaReads returns the fields of target that object's formulas read
// through its lookup field (formulas.Compiled.LookupDependents), none
// without formulas.
func formulaReads(c *formulas.Compiled, object, field, target string) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, d := range c.LookupDependents(target) {
		if d.Object == object && len(d.Path) == 1 && d.Path[0] == field {
			out = append(out, d.Fields...)
		}
	}
	return out
}

// readAhead reads at once what the records in data (JSON form, as a
// client sends them) of object refer to, for the creates of those records
// the unit of work makes next (batchReads): their checks and formulas then
// do not read it again one record at a time. Call done once those creates
// are checked. Reading ahead changes no result: a record the unit changes
// in place afterwards, even in a savepoint rolled back since, is read
// again. (A unit that writes its records one by one, each followed by its
// after-hooks, gains little: the roll-up of a parent the first record
// recomputes is such a change.)
func (w *Writer) readAhead(ctx context.Context, object string, data []map[string]any) (done func(), err error) {
	s, err := w.rights.Scope(object)
	if err != nil {
		return nil, err
	}
	if w.batch, err = w.e.prefetch(ctx, w, s, data); err != nil {
		return nil, err
	}
	return func() { w.batch = nil }, nil
}
