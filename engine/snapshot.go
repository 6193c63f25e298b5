package engine

import (
	"github.com/crmplatform/crm/metadata"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Snapshot is an immutable view of one metadata version with everything
// derived from it.
type Snapshot struct {
	Version int64
	Schema  *metadata.Schema
	// refs lists, per target object, the lookups that point at it.
	refs map[string][]fieldRef
	// compiled holds what each Compiler made of the schema, by name.
	compiled map[string]any
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

// Compiled returns what the compiler registered under name made of this
// snapshot's schema.
func (s *Snapshot) Compiled(name string) any { return s.compiled[name] }

// build derives a snapshot from a schema, running every compiler.
func (e *Engine) build(version int64, s *metadata.Schema) (*Snapshot, metadata.Problems) {
	snap := &Snapshot{Version: version, Schema: s, refs: map[string][]fieldRef{}, compiled: map[string]any{}}
	for _, o := range s.Objects {
		for _, f := range o.Fields {
			if target, lookup := metadata.LookupTarget(f); lookup {
				snap.refs[target] = append(snap.refs[target], fieldRef{o, f})
			}
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	var ps metadata.Problems
	for name, c := range e.compilers {
		v, cps := c(s)
		ps = append(ps, cps...)
		snap.compiled[name] = v
	}
	return snap, ps
}

// recordSchemas names the compiled JSON Schemas of records in a snapshot.
const recordSchemas = "engine.record_schemas"

// compileRecordSchemas compiles the JSON Schema of every object's records.
func compileRecordSchemas(s *metadata.Schema) (any, metadata.Problems) {
	out := make(map[string]*jsonschema.Schema, len(s.Objects))
	var ps metadata.Problems
	for _, o := range s.Objects {
		sch, err := metadata.CompileRecordSchema(o)
		if err != nil {
			ps = append(ps, metadata.Problem{Path: "/objects/" + o.Name, Message: err.Error()})
			continue
		}
		out[o.Name] = sch
	}
	return out, ps
}

// recordSchema returns the compiled JSON Schema of an object's records.
func (s *Snapshot) recordSchema(object string) *jsonschema.Schema {
	m, _ := s.compiled[recordSchemas].(map[string]*jsonschema.Schema)
	return m[object]
}
