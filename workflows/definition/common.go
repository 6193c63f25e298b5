package definition

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// commonDefs are the JSON Schema definitions the kinds share, added to
// each kind's schema under $defs.
const commonDefs = `
    "identifier": {"$ref": "crm://metadata.schema.json#/$defs/identifier"},
    "label": {"$ref": "crm://metadata.schema.json#/$defs/label"},
    "formula": {"type": "string", "minLength": 1, "maxLength": 2000},
    "values": {
      "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
      ]
    },
    "update": {
      "type": "object",
      "additionalProperties": false,
      "required": ["field"],
      "properties": {
        "field": {"$ref": "#/$defs/identifier"},
        "value": {},
        "formula": {"$ref": "#/$defs/formula"}
      }
    },
    "updates": {"type": "array", "items": {"$ref": "#/$defs/update"}},
    "party": {
      "oneOf": [
        {"type": "string", "enum": ["owner", "manager", "manager_of_manager", "submitter"]},
        {"type": "object", "additionalProperties": false, "required": ["user"], "properties": {"user": {"type": "string", "minLength": 1, "maxLength": 64}}},
        {"type": "object", "additionalProperties": false, "required": ["role"], "properties": {"role": {"$ref": "#/$defs/identifier"}}},
        {"type": "object", "additionalProperties": false, "required": ["field"], "properties": {"field": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*){0,3}$"}}}
      ]
    },
    "parties": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/party"}}`

// kindSchema builds the JSON Schema of a kind: its document's properties
// and required keys, with the shared definitions.
func kindSchema(required []string, properties string, defs string) []byte {
	req, _ := json.Marshal(required)
	if defs != "" {
		defs = "," + defs
	}
	return []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ` + string(req) + `,
  "properties": {` + properties + `},
  "$defs": {` + commonDefs + defs + `}
}`)
}

// Values is a list of strings that a document may also write as one
// string ("from: qualify" or "from: [qualify, needs]").
type Values []string

// UnmarshalJSON accepts a string or a list of strings.
func (v *Values) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Values{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("expected a text or a list of texts")
	}
	*v = l
	return nil
}

// formulaSchema returns s when formulas can be compiled over it: every
// field has a registered type (metadata.Validate reports the others, and
// the formula compiler cannot type them).
func formulaSchema(s *metadata.Schema) (*metadata.Schema, bool) {
	for _, o := range s.Objects {
		for _, f := range o.Fields {
			if _, ok := metadata.LookupFieldType(f.Type); !ok {
				return nil, false
			}
		}
	}
	return s, true
}

// condition compiles a condition of a document over object; a problem at
// path when it does not compile.
func condition(s *metadata.Schema, object, src, path string) (*formulas.Expr, []metadata.Problem) {
	if src == "" {
		return nil, nil
	}
	fs, ok := formulaSchema(s)
	if !ok {
		return nil, nil
	}
	x, err := formulas.CompileCondition(fs, object, src)
	if err != nil {
		return nil, []metadata.Problem{metadata.Problemf(path, "%v", err)}
	}
	return x, nil
}

// FieldUpdate sets one field of a record: to a value (written as in the
// API's JSON), to what a formula over the record gives, or, with neither,
// to empty.
type FieldUpdate struct {
	Field   string `json:"field"`
	Value   any    `json:"value,omitempty"`
	Formula string `json:"formula,omitempty"`
}

// Assignment is a checked FieldUpdate: the field, and its value in storage
// form or the formula giving it.
type Assignment struct {
	Field *metadata.Field
	// Value is the value in storage form when there is no formula (nil
	// clears the field).
	Value any
	// Expr is the formula, evaluated over the record being updated (or,
	// for a record an automation creates, over the record that triggered
	// it).
	Expr *formulas.Expr
}

// assignments checks the updates of fields of target, whose formulas read
// records of source, and compiles them; problems are under path.
func assignments(s *metadata.Schema, source, target string, ups []FieldUpdate, path string) ([]Assignment, []metadata.Problem) {
	obj, ok := s.Object(target)
	if !ok {
		return nil, nil // the caller reported the object
	}
	var out []Assignment
	var ps []metadata.Problem
	seen := map[string]bool{}
	for i, u := range ups {
		at := fmt.Sprintf("%s/%d", path, i)
		f, err := writableField(obj, u.Field)
		if err != nil {
			ps = append(ps, metadata.Problemf(at+"/field", "%v", err))
			continue
		}
		if seen[u.Field] {
			ps = append(ps, metadata.Problemf(at+"/field", "%s is set twice", u.Field))
		}
		seen[u.Field] = true
		a := Assignment{Field: f}
		switch {
		case u.Formula != "" && u.Value != nil:
			ps = append(ps, metadata.Problemf(at, "give a value or a formula, not both"))
			continue
		case u.Formula != "":
			fs, ok := formulaSchema(s)
			if !ok {
				continue
			}
			x, err := formulas.CompileValue(fs, source, f, u.Formula)
			if err != nil {
				ps = append(ps, metadata.Problemf(at+"/formula", "%v", err))
				continue
			}
			a.Expr = x
		case u.Value != nil:
			if _, known := metadata.LookupFieldType(f.Type); !known {
				continue
			}
			v, err := metadata.TypeOf(f).Normalize(f, u.Value)
			if err != nil {
				ps = append(ps, metadata.Problemf(at+"/value", "not a value of %s: %v", u.Field, err))
				continue
			}
			a.Value = v
		}
		out = append(out, a)
	}
	return out, ps
}

// writableField returns the field of obj a workflow may set: a field
// with a column that is not computed nor numbered by the system, or the
// owner.
func writableField(obj *metadata.Object, name string) (*metadata.Field, error) {
	f, ok := obj.FieldOrSystem(name)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s has no field %q", obj.Name, name)
	case metadata.IsSystemField(name) && name != metadata.OwnerField:
		return nil, fmt.Errorf("%s is a system field and cannot be set", name)
	case metadata.Computed(f):
		return nil, fmt.Errorf("%s.%s is computed and cannot be set", obj.Name, name)
	}
	if _, known := metadata.LookupFieldType(f.Type); known {
		if _, numbered := metadata.TypeOf(f).(metadata.Assigner); numbered {
			return nil, fmt.Errorf("%s.%s is numbered by the system and cannot be set", obj.Name, name)
		}
	}
	return f, nil
}

// Party names people: the record's owner, the owner's (or the
// submitter's) manager or that manager's manager, the submitter, a user by
// username, every user of a role, or the user in a field of the record
// (owner_id, created_by, updated_by, possibly through lookups:
// account.owner_id).
type Party struct {
	// Is is owner, manager, manager_of_manager or submitter.
	Is    string
	User  string
	Role  string
	Field string
}

// Kinds of Party.Is.
const (
	PartyOwner            = "owner"
	PartyManager          = "manager"
	PartyManagerOfManager = "manager_of_manager"
	PartySubmitter        = "submitter"
)

// UnmarshalJSON reads "owner" or {user: …}, {role: …}, {field: …}.
func (p *Party) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &p.Is); err == nil {
		return nil
	}
	var m struct {
		User  string `json:"user"`
		Role  string `json:"role"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("a person is owner, manager, manager_of_manager, submitter, {user: NAME}, {role: NAME} or {field: NAME}")
	}
	p.User, p.Role, p.Field = m.User, m.Role, m.Field
	return nil
}

// userFields are the system fields that hold a user's id.
var userFields = map[string]bool{metadata.OwnerField: true, "created_by": true, "updated_by": true}

// checkParties checks people named on records of object; submitter is
// allowed only when submitter is true (approvals).
func checkParties(s *metadata.Schema, object string, parties []Party, submitter bool, path string) []metadata.Problem {
	var ps []metadata.Problem
	for i, p := range parties {
		at := fmt.Sprintf("%s/%d", path, i)
		switch {
		case p.Is == PartySubmitter && !submitter:
			ps = append(ps, metadata.Problemf(at, "submitter names the one who submitted an approval; a reminder has none"))
		case p.Role != "":
			if !hasRole(s, p.Role) {
				ps = append(ps, metadata.Problemf(at+"/role", "no role %q", p.Role))
			}
		case p.Field != "":
			if _, err := UserPath(s, object, p.Field); err != nil {
				ps = append(ps, metadata.Problemf(at+"/field", "%v", err))
			}
		}
	}
	return ps
}

// hasRole reports whether s defines role.
func hasRole(s *metadata.Schema, role string) bool {
	for _, r := range s.Roles {
		if r.Name == role {
			return true
		}
	}
	return false
}

// UserPath resolves a path to a user-holding field of object
// ("owner_id", "account.owner_id"): the lookups followed and the user
// field at the end.
func UserPath(s *metadata.Schema, object, path string) ([]*metadata.Field, error) {
	parts := strings.Split(path, ".")
	obj, ok := s.Object(object)
	if !ok {
		return nil, fmt.Errorf("no object %q", object)
	}
	var out []*metadata.Field
	for i, name := range parts {
		f, ok := obj.FieldOrSystem(name)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", obj.Name, name)
		}
		out = append(out, f)
		if i == len(parts)-1 {
			if !userFields[name] {
				return nil, fmt.Errorf("%s.%s does not hold a user: name owner_id, created_by or updated_by, possibly through lookups (account.owner_id)", obj.Name, name)
			}
			break
		}
		target, lookup := metadata.LookupTarget(f)
		if !lookup {
			return nil, fmt.Errorf("%s.%s is not a lookup, so %q cannot go through it", obj.Name, name, path)
		}
		if obj, ok = s.Object(target); !ok {
			return nil, fmt.Errorf("no object %q", target)
		}
	}
	return out, nil
}

// optionsOf checks that every value is an option of a single-choice
// picklist (any is also allowed when not empty).
func optionsOf(f *metadata.Field, values []string, any string, path string) []metadata.Problem {
	var ps []metadata.Problem
	for _, v := range values {
		if v == any && any != "" {
			continue
		}
		if _, ok := f.Option(v); !ok {
			ps = append(ps, metadata.Problemf(path, "%q is not an option of %s", v, f.Name))
		}
	}
	return ps
}
