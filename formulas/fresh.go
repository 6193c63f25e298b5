package formulas

import (
	"context"
	"maps"
)

// freshValues splits an object's computed fields for a record being
// created, which no child points to yet: every roll-up of it is empty, so
// a computed field that reads nothing but roll-ups and other such fields
// (no field of the record, no related record, no clock) has the same value
// for every new record. Those values are worked out once.
type freshValues struct {
	// values holds the constant fields' values in storage form (immutable:
	// strings, numbers, times or nil).
	values map[string]any
	// rest are the other computed fields, in evaluation order, and what
	// they read.
	rest  []*program
	reads *reads
}

// ComputeNew is Compute for a record being created (rec has its new id,
// which no record points to yet): the computed fields whose value is the
// same for every new record are copied from values worked out once, and
// only the others are evaluated. A constant field whose formula fails on
// empty roll-ups is evaluated each time instead, so its failure is
// reported for each record as Compute reports it.
func (op *ObjectProgram) ComputeNew(ctx context.Context, rec map[string]any, r Resolver) ([]*EvalError, error) {
	if op == nil {
		return nil, nil
	}
	fresh := op.newRecordValues()
	maps.Copy(rec, fresh.values)
	return op.compute(ctx, []map[string]any{rec}, r, fresh.rest, fresh.reads)
}

// FreshOnly reports whether a new record's computed fields all have the
// values worked out once and the object has no validation rule: checking
// a new record then needs no Resolver, no clock and no language
// (ComputeNew alone, with a nil Resolver).
func (op *ObjectProgram) FreshOnly() bool {
	return op == nil || len(op.newRecordValues().rest) == 0 && len(op.rules) == 0
}

// newRecordValues returns what ComputeNew knows, worked out on first use.
func (op *ObjectProgram) newRecordValues() *freshValues {
	op.freshOnce.Do(func() { op.fresh = op.freshSplit() })
	return op.fresh
}

// freshSplit works out which computed fields are constant on a new record
// and their values.
func (op *ObjectProgram) freshSplit() *freshValues {
	failed := map[string]bool{}
	for {
		constant := map[string]bool{}
		var consts, rest []*program
		for _, p := range op.computed {
			ok := !failed[p.field.Name] && !p.reads.clock && len(p.reads.paths) == 0 && len(p.reads.options) == 0 && len(p.reads.labels) == 0
			for f := range p.reads.fields {
				ok = ok && constant[f]
			}
			if ok {
				constant[p.field.Name] = true
				consts = append(consts, p)
			} else {
				rest = append(rest, p)
			}
		}
		creads := newReads()
		for _, p := range consts {
			creads.merge(p.reads)
		}
		// A record without an id has no children: its roll-ups are empty,
		// and no Resolver is asked for them.
		values := map[string]any{}
		fails, err := op.compute(context.Background(), []map[string]any{values}, nil, consts, creads)
		if err == nil && len(fails) == 0 {
			rreads := newReads()
			for _, p := range rest {
				rreads.merge(p.reads)
			}
			return &freshValues{values: values, rest: rest, reads: rreads}
		}
		if err != nil {
			return &freshValues{values: map[string]any{}, rest: op.computed, reads: op.reads}
		}
		for _, f := range fails {
			failed[f.Field] = true
		}
	}
}
