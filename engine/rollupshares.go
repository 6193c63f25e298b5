package engine

import (
	"time"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// rollupShares are what the child writes of one propagation add to the
// roll-ups kept by shares (keptByShares), per roll-up and parent id, in
// the stored form of the parent's field (a count, minor units of a
// currency). The parent's new value is its stored value plus its share,
// instead of a count of all its children: a tier's count of its 100,000
// active member cards no longer reads 100,000 index entries for each card
// written. A roll-up mapped to nil met a child whose share could not be
// told (its condition failed): its parents are counted again.
type rollupShares map[*formulas.RollupSpec]map[string]int64

// add records what the change from old to new (either nil for a create
// or a delete) of a child of s's child object does to s.
func (sh rollupShares) add(s *formulas.RollupSpec, child *metadata.Object, old, new map[string]any, now time.Time) {
	d, seen := sh[s]
	if seen && d == nil {
		return
	}
	if d == nil {
		d = map[string]int64{}
		sh[s] = d
	}
	for _, side := range []struct {
		rec  map[string]any
		sign int64
	}{{old, -1}, {new, 1}} {
		if side.rec == nil {
			continue
		}
		parent, v, ok := share(s, child, side.rec, now)
		if !ok {
			sh[s] = nil
			return
		}
		if parent != "" {
			d[parent] += side.sign * v
		}
	}
}

// share returns the parent a child record counts for in roll-up s and
// what it adds to it: 1 for a count, its value for a sum, 0 when s's
// condition does not hold for it. ok is false when that cannot be told
// (the condition fails, or a value is not a whole number).
func share(s *formulas.RollupSpec, child *metadata.Object, rec map[string]any, now time.Time) (parent string, v int64, ok bool) {
	parent, _ = rec[s.Via].(string)
	if parent == "" {
		return "", 0, true
	}
	matches, err := s.Matches(rec, child, now)
	if err != nil {
		return parent, 0, false
	}
	switch {
	case !matches:
		return parent, 0, true
	case s.Func == "count":
		return parent, 1, true
	}
	switch x := rec[s.ValueField].(type) {
	case nil:
		return parent, 0, true
	case int64:
		return parent, x, true
	}
	return parent, 0, false
}

// keptByShares reports whether roll-up s may be kept by its children's
// shares (rollupShares) rather than counted again: it is the whole
// formula of its field (the field stores the aggregate itself), a count
// into a whole number or a sum of whole numbers or of a currency of the
// field's own scale (exact in their stored form), over a condition that
// does not read the clock (a share told at the write would not follow the
// date). Decided once per snapshot.
func (s *Snapshot) keptByShares(sp *formulas.RollupSpec, timed func(*formulas.RollupSpec) bool) bool {
	if v, ok := s.sharedRollups.Load(sp); ok {
		return v.(bool)
	}
	kept := sp.Whole && (sp.Func == "count" || sp.Func == "sum") && s.sharedTypes(sp) && !timed(sp)
	s.sharedRollups.Store(sp, kept)
	return kept
}

// sharedTypes reports whether the stored values of roll-up sp's field
// and of the child field it adds up are alike whole numbers.
func (s *Snapshot) sharedTypes(sp *formulas.RollupSpec) bool {
	parent, ok := s.Schema.Object(sp.Object)
	if !ok {
		return false
	}
	f, ok := parent.Field(sp.Field)
	if !ok {
		return false
	}
	kind := metadata.TypeOf(f).Kind()
	if sp.Func == "count" {
		return kind == metadata.KindInt
	}
	child, ok := s.Schema.Object(sp.Child)
	if !ok {
		return false
	}
	v, ok := child.Field(sp.ValueField)
	if !ok || metadata.TypeOf(v).Kind() != kind {
		return false
	}
	switch kind {
	case metadata.KindInt:
		return true
	case metadata.KindMoney:
		return f.ScaleOr(metadata.DefaultCurrencyScale) == v.ScaleOr(metadata.DefaultCurrencyScale)
	}
	return false
}

// fromShares answers roll-up sp for the parents ids from their stored
// values and the shares of the propagation (r.shares over r.stored), when
// every one of them has both: a parent whose field is empty (never
// computed) or that no child write reached is counted again.
func (r *formulaResolver) fromShares(sp *formulas.RollupSpec, ids []string) (map[string]any, bool) {
	d := r.shares[sp]
	if d == nil {
		return nil, false
	}
	out := make(map[string]any, len(ids))
	for _, id := range ids {
		delta, reached := d[id]
		old, stored := r.stored[id][sp.Field].(int64)
		if !reached || !stored {
			return nil, false
		}
		out[id] = old + delta
	}
	return out, true
}
