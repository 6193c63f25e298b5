// Package check runs every check of metadata that needs no database, in
// stages: the semantic checks of every document kind (metadata.Validate),
// the formulas, the role policies and sharing-rule conditions, the JSON
// Schemas of records, and the compiler of every registered document
// kind. crm validate, crm migrate, the engine (when it builds a metadata
// version) and the tests of the shipped templates all call Schema, so they
// accept and refuse the same definitions. The JSON Schema of each document
// was checked when it was parsed (metadata.LoadFS, DocKind.Parse).
//
// It imports metadata, formulas, engine/query and engine/access (for
// their pure compilers) and must not open a database; the engine imports
// it.
package check

import (
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Result is what the stages compiled from a schema, kept by the engine
// with the metadata version.
type Result struct {
	// Formulas are the compiled formulas, defaults and validation rules.
	Formulas *formulas.Compiled
	// Policies are the Casbin rules of the roles.
	Policies []access.Rule
	// RecordSchemas are the compiled JSON Schemas of records, by object.
	RecordSchemas map[string]*metadata.CompiledRecordSchema
	// recordDocs are the documents RecordSchemas were compiled from, by
	// object, for SchemaAfter.
	recordDocs map[string]string
	// Kinds holds what each document kind's compiler made, by kind name.
	Kinds map[string]any
}

// Schema checks s through every stage and returns what they compiled with
// every problem of every stage, so one run reports them all. The
// formulas, policies and record schemas are checked on the fields whose
// type is known even when the semantic checks found problems; the
// compilers of document kinds run only on a schema that passed every
// other stage, so they may rely on sound references. The result is
// complete only when there are no problems.
func Schema(s *metadata.Schema) (*Result, metadata.Problems) {
	return SchemaAfter(s, nil)
}

// SchemaAfter is Schema for a schema that replaces the one prev was
// compiled from (nil when there is none), such as a metadata change: the
// record schema of an object whose record schema document did not change
// is prev's, which compiling the same document again would only repeat.
// It checks and reports what Schema does.
func SchemaAfter(s *metadata.Schema, prev *Result) (*Result, metadata.Problems) {
	res := &Result{Kinds: map[string]any{}}
	ps := metadata.Validate(s)
	sound := knownTypes(s)
	var fps metadata.Problems
	res.Formulas, fps = formulas.CompileSchema(sound)
	ps = append(ps, fps...)
	res.Policies, fps = policies(sound, len(ps) == 0)
	ps = append(ps, fps...)
	res.RecordSchemas, res.recordDocs, fps = recordSchemas(sound, prev)
	ps = unique(append(ps, fps...))
	if len(ps) > 0 {
		return res, ps
	}
	for _, k := range metadata.DocKinds() {
		v, kps := k.Compile(s)
		ps = append(ps, kps...)
		if v != nil {
			res.Kinds[k.Name()] = v
		}
	}
	return res, ps
}

// knownTypes returns s, or a copy in which the fields whose type is not
// registered (Validate reported them) are text fields, so the later
// stages can check the rest with the fields where they are.
func knownTypes(s *metadata.Schema) *metadata.Schema {
	unknown := func(f *metadata.Field) bool {
		_, ok := metadata.LookupFieldType(f.Type)
		return !ok
	}
	found := false
	for _, o := range s.Objects {
		for _, f := range o.Fields {
			found = found || unknown(f)
		}
	}
	if !found {
		return s
	}
	c := &metadata.Schema{Roles: s.Roles, Docs: s.Docs, Sources: s.Sources}
	for _, o := range s.Objects {
		cp := *o
		cp.Fields = make([]*metadata.Field, len(o.Fields))
		for i, f := range o.Fields {
			cp.Fields[i] = f
			if unknown(f) {
				cp.Fields[i] = &metadata.Field{Name: f.Name, Type: "text"}
			}
		}
		c.Objects = append(c.Objects, &cp)
	}
	return c
}

// policies compiles the condition of every sharing rule (a filter over
// its object) and, when the schema is otherwise sound, the roles' Casbin
// rules.
func policies(s *metadata.Schema, sound bool) ([]access.Rule, metadata.Problems) {
	var ps metadata.Problems
	now := time.Now().UTC()
	for _, r := range s.Roles {
		for i, sr := range r.SharingRules {
			obj, ok := s.Object(sr.Object)
			if !ok {
				continue // Validate reported it
			}
			if _, err := query.CompileFilter(sr.Condition, obj, query.Options{Dialect: metadata.DialectSQLite, Schema: s, Now: now, NoReader: true}); err != nil {
				ps = append(ps, metadata.Problem{File: s.Source(metadata.DocRole, r.Name), Path: fmt.Sprintf("/sharing_rules/%d/condition", i), Message: err.Error()})
			}
		}
	}
	if !sound || len(ps) > 0 {
		return nil, ps
	}
	rules, err := access.CompilePolicies(s, nil)
	if err != nil {
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			ps = append(ps, metadata.Problem{File: "roles/", Message: e.Error()})
		}
	}
	return rules, ps
}

// recordSchemas compiles the JSON Schema of every object's records,
// reusing prev's for the objects whose document is unchanged; it returns
// the schemas and their documents by object.
func recordSchemas(s *metadata.Schema, prev *Result) (map[string]*metadata.CompiledRecordSchema, map[string]string, metadata.Problems) {
	out := make(map[string]*metadata.CompiledRecordSchema, len(s.Objects))
	docs := make(map[string]string, len(s.Objects))
	var ps metadata.Problems
	for _, o := range s.Objects {
		doc, err := metadata.RecordSchemaDoc(o)
		if err == nil && prev != nil && prev.recordDocs[o.Name] == string(doc) && prev.RecordSchemas[o.Name] != nil {
			out[o.Name], docs[o.Name] = prev.RecordSchemas[o.Name], string(doc)
			continue
		}
		var sch *metadata.CompiledRecordSchema
		if err == nil {
			sch, err = metadata.CompileRecordSchemaDoc(o.Name, doc)
		}
		if err != nil {
			ps = append(ps, metadata.Problem{File: s.Source(metadata.DocObject, o.Name), Message: err.Error()})
			continue
		}
		out[o.Name], docs[o.Name] = sch, string(doc)
	}
	return out, docs, ps
}

// unique drops repeated problems (two stages may find the same one, such
// as an unknown lookup target), keeping the first of each.
func unique(ps metadata.Problems) metadata.Problems {
	seen := map[metadata.Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
