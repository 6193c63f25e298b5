package engine

import (
	"sync"

	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/metadata"
)

// Snapshot is an immutable view of one metadata version with everything
// derived from it.
type Snapshot struct {
	Version int64
	Schema  *metadata.Schema
	// refs lists, per target object, the lookups that point at it.
	refs map[string][]fieldRef
	// compiled holds what the stages of check.Schema made of the schema:
	// formulas, record schemas, and each document kind's compiled form by
	// the kind's name.
	compiled map[string]any
	// checked is what check.Schema made of the schema, which the build of
	// the next version reuses where nothing changed.
	checked *check.Result
	// inserts keeps each object's single-row INSERTs (*objectInserts by
	// insertsKey), made on first use.
	inserts sync.Map
	// plans keeps each object's *recordPlan by its name, made on first
	// use.
	plans sync.Map
	// rollupConds keeps the compiled conditions of roll-ups that do not
	// read the clock (query.Predicate by rollupCondKey), made on first use.
	rollupConds sync.Map
	// sharedRollups says which roll-ups are kept by shares
	// (Snapshot.keptByShares; bool by *formulas.RollupSpec), decided on
	// first use.
	sharedRollups sync.Map
}

// fieldRef names a field of an object.
type fieldRef struct {
	Object *metadata.Object
	Field  *metadata.Field
}

// Object returns the object named name.
func (s *Snapshot) Object(name string) (*metadata.Object, error) {
	if s == nil || s.Schema == nil {
		return nil, notFound("no metadata installed")
	}
	o, ok := s.Schema.Object(name)
	if !ok {
		return nil, notFound("no object %q", name)
	}
	return o, nil
}

// Compiled returns what was compiled from this snapshot's schema under
// name: FormulasCompiler for the formulas, or a document kind's name for
// what its compiler made (nil for a kind without one).
func (s *Snapshot) Compiled(name string) any { return s.compiled[name] }

// build derives a snapshot from a schema through every stage of
// check.Schema, the one database-free check. prev, when not nil, is the
// snapshot s replaces: what check.SchemaAfter may reuse of it.
func build(version int64, s *metadata.Schema, prev *Snapshot) (*Snapshot, metadata.Problems) {
	snap := &Snapshot{Version: version, Schema: s, refs: map[string][]fieldRef{}, compiled: map[string]any{}}
	for _, o := range s.Objects {
		for _, f := range o.Fields {
			if target, lookup := metadata.LookupTarget(f); lookup {
				snap.refs[target] = append(snap.refs[target], fieldRef{o, f})
			}
		}
	}
	var before *check.Result
	if prev != nil {
		before = prev.checked
	}
	res, ps := check.SchemaAfter(s, before)
	snap.checked = res
	for name, v := range res.Kinds {
		snap.compiled[name] = v
	}
	snap.compiled[FormulasCompiler] = res.Formulas
	snap.compiled[recordSchemas] = res.RecordSchemas
	return snap, ps
}

// recordSchemas names the compiled JSON Schemas of records in a snapshot.
const recordSchemas = "engine.record_schemas"

// recordSchema returns the compiled JSON Schema of an object's records.
func (s *Snapshot) recordSchema(object string) *metadata.CompiledRecordSchema {
	m, _ := s.compiled[recordSchemas].(map[string]*metadata.CompiledRecordSchema)
	return m[object]
}
