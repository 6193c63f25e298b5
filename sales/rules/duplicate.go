package rules

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// KindDuplicateRules names the document kind of duplicate rules.
const KindDuplicateRules = "duplicate_rules"

// The actions of a duplicate rule.
const (
	// ActionBlock refuses a duplicate (409 duplicate).
	ActionBlock = "block"
	// ActionWarn refuses it too, unless the caller says to create it
	// anyway (?allow_duplicate=true, a conversion that chose to create).
	ActionWarn = "warn"
)

// DuplicateRule is one document of duplicate_rules: the fields of an
// object that together identify a duplicate, each with its normalisation.
type DuplicateRule struct {
	Name   string         `json:"name"`
	Label  metadata.Label `json:"label,omitempty"`
	Object string         `json:"object"`
	// Action is block (the default) or warn.
	Action string       `json:"action,omitempty"`
	Fields []MatchField `json:"fields"`
}

// MatchField is one field of a duplicate rule.
type MatchField struct {
	Field string `json:"field"`
	// Normalize is exact (the default), fold, phone, email or company.
	Normalize string `json:"normalize,omitempty"`
}

//go:embed schemas/duplicate_rule.json
var duplicateSchema []byte

// DuplicateRules reads the duplicate rules of a schema.
var DuplicateRules metadata.Docs[DuplicateRule]

func init() {
	DuplicateRules = metadata.RegisterKind(metadata.KindSpec[DuplicateRule]{
		Name:    KindDuplicateRules,
		Schema:  duplicateSchema,
		Check:   checkDuplicateRule,
		Compile: compileDuplicateRules,
	})
}

// checkDuplicateRule checks that the object and fields exist and that each
// field holds text.
func checkDuplicateRule(s *metadata.Schema, r *DuplicateRule) metadata.Problems {
	o, ok := s.Object(r.Object)
	if !ok {
		return metadata.Problems{{Path: "/object", Message: "unknown object " + r.Object}}
	}
	var ps metadata.Problems
	seen := map[string]bool{}
	for i, mf := range r.Fields {
		f, ok := o.Field(mf.Field)
		switch {
		case !ok:
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/fields/%d/field", i), Message: fmt.Sprintf("%s has no field %q", o.Name, mf.Field)})
		case metadata.TypeOf(f).Kind() != metadata.KindString || metadata.TypeOf(f).Column(metadata.DialectSQLite, f) == "":
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/fields/%d/field", i), Message: fmt.Sprintf("%s.%s is %s: a duplicate rule compares text fields", o.Name, f.Name, metadata.TypeOf(f).Kind())})
		case seen[mf.Field]:
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/fields/%d/field", i), Message: mf.Field + " is named twice"})
		}
		seen[mf.Field] = true
	}
	return ps
}

// DuplicateSet is the compiled form of a schema's duplicate rules
// (Snapshot.Compiled(KindDuplicateRules)): the rules of each object.
type DuplicateSet map[string][]*CompiledDuplicateRule

// CompiledDuplicateRule is a duplicate rule ready to compute keys.
type CompiledDuplicateRule struct {
	*DuplicateRule
	fields []*metadata.Field
	norm   []func(string) string
}

// compileDuplicateRules groups the rules by object.
func compileDuplicateRules(s *metadata.Schema) (any, metadata.Problems) {
	set := DuplicateSet{}
	for _, r := range DuplicateRules.All(s) {
		o, _ := s.Object(r.Object)
		c := &CompiledDuplicateRule{DuplicateRule: r}
		for _, mf := range r.Fields {
			f, _ := o.Field(mf.Field)
			how := mf.Normalize
			if how == "" {
				how = NormalizeExact
			}
			c.fields = append(c.fields, f)
			c.norm = append(c.norm, Normalizers[how])
		}
		set[r.Object] = append(set[r.Object], c)
	}
	return set, nil
}

// Duplicates returns the compiled duplicate rules of object (nil when the
// compiled value is not a DuplicateSet).
func Duplicates(compiled any, object string) []*CompiledDuplicateRule {
	set, _ := compiled.(DuplicateSet)
	return set[object]
}

// KeyColumnPrefix starts the name of the column holding a rule's
// normalised key in its object's table; field names cannot start with it.
const KeyColumnPrefix = "crm_dup_"

// Column is the name of the hidden column holding the rule's key.
func (r *CompiledDuplicateRule) Column() string { return KeyColumnPrefix + r.Name }

// Blocks reports whether the rule refuses duplicates even when the caller
// allows them.
func (r *CompiledDuplicateRule) Blocks() bool { return r.Action != ActionWarn }

// FieldNames lists the names of the rule's fields.
func (r *CompiledDuplicateRule) FieldNames() []string {
	out := make([]string, len(r.fields))
	for i, f := range r.fields {
		out[i] = f.Name
	}
	return out
}

// Signature identifies what the key is made of; when it changes, every
// stored key is computed again.
func (r *CompiledDuplicateRule) Signature() string {
	parts := make([]string, len(r.Fields))
	for i, mf := range r.Fields {
		parts[i] = mf.Field + ":" + mf.Normalize
	}
	return strings.Join(parts, ",")
}

// Key computes the normalised key of a record (values by field name, text
// as strings); ok is false when a field of the rule is empty, and such a
// record matches nothing.
func (r *CompiledDuplicateRule) Key(rec map[string]any) (key string, ok bool) {
	parts := make([]string, len(r.fields))
	for i, f := range r.fields {
		s, _ := rec[f.Name].(string)
		if s = r.norm[i](s); s == "" {
			return "", false
		}
		parts[i] = s
	}
	return strings.Join(parts, "\x1f"), true
}
