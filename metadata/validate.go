package metadata

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// identPattern is the strict shape of every name that becomes a SQL
// identifier; names are also always quoted when used in SQL.
var identPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)

// SystemFields are the columns every object has; no field may use their
// names.
var SystemFields = []string{"id", "created_at", "created_by", "updated_at", "updated_by", "owner_id", "version"}

// reservedNames are SQL keywords and names the engine uses, refused as
// object or field names so generated SQL and APIs stay unambiguous.
var reservedNames = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all alter and any array as asc between by case cast check collate column
		constraint create cross current_date current_time current_timestamp default delete desc distinct drop else end
		except exists false fetch for foreign from full grant group having in index inner insert intersect into is join
		key left like limit not null offset on or order outer primary references right rowid oid select set some table then
		to true union unique update user using values when where with meta records auth api files history shares actions
		nil`) {
		reservedNames[w] = true
	}
	for _, s := range SystemFields {
		reservedNames[s] = true
	}
}

// ValidIdentifier reports whether name may be used as an object, field or
// role name, and says why not.
func ValidIdentifier(name string) error {
	switch {
	case !identPattern.MatchString(name):
		return fmt.Errorf("%q is not a valid name: use 1 to 30 lowercase letters, digits and underscores, starting with a letter", name)
	case strings.Contains(name, "__"):
		return fmt.Errorf("%q is not a valid name: a double underscore is reserved", name)
	case strings.HasPrefix(name, "crm_"):
		return fmt.Errorf("%q is not a valid name: the prefix crm_ is reserved for system tables", name)
	case reservedNames[name]:
		return fmt.Errorf("%q is a reserved word", name)
	}
	return nil
}

// MaxFields is the most fields one object may have. Each field is at most
// one column, and the limit stays well under the column limits of the
// databases (SQLite 2000 by default, PostgreSQL 1600 less its system
// columns), with room for the system fields and archived columns.
const MaxFields = 500

// databasePrefixes start the names of the databases' own tables (SQLite's
// sqlite_master, PostgreSQL's pg_class …), which no object may take.
var databasePrefixes = []string{"sqlite_", "pg_"}

// validObjectName says why name cannot be the name of an object (a
// table), or returns nil.
func validObjectName(name string) error {
	if err := ValidIdentifier(name); err != nil {
		return err
	}
	for _, p := range databasePrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("%q is not a valid object name: the prefix %s is reserved for the database's own tables", name, p)
		}
	}
	return nil
}

// IsSystemField reports whether name is a system column.
func IsSystemField(name string) bool {
	for _, s := range SystemFields {
		if s == name {
			return true
		}
	}
	return false
}

// Validate runs the semantic checks of a whole schema: names, references
// between objects and fields, and each field type's own checks. Problems
// carry the file each object or role came from (see Schema.Sources) and a
// JSON pointer relative to that document.
func Validate(s *Schema) Problems {
	var ps Problems
	objects := map[string]bool{}
	for i, o := range s.Objects {
		file := s.source(DocObject, o.Name, i)
		add := func(p Problem) {
			p.File = file
			ps = append(ps, p)
		}
		if err := validObjectName(o.Name); err != nil {
			add(Problemf("/name", "%v", err))
		}
		if len(o.Fields) > MaxFields {
			add(Problemf("/fields", "object %q has %d fields; at most %d are allowed", o.Name, len(o.Fields), MaxFields))
		}
		if objects[o.Name] {
			add(Problemf("/name", "object %q is defined twice", o.Name))
		}
		objects[o.Name] = true
		for _, p := range validateObject(s, o) {
			add(p)
		}
	}
	roles := map[string]*Role{}
	for i, r := range s.Roles {
		file := s.source(DocRole, r.Name, i)
		if err := ValidIdentifier(r.Name); err != nil {
			ps = append(ps, Problem{File: file, Path: "/name", Message: err.Error()})
		}
		if roles[r.Name] != nil {
			ps = append(ps, Problem{File: file, Path: "/name", Message: fmt.Sprintf("role %q is defined twice", r.Name)})
		}
		roles[r.Name] = r
	}
	for i, r := range s.Roles {
		for _, p := range validateRole(s, r, roles) {
			p.File = s.source(DocRole, r.Name, i)
			ps = append(ps, p)
		}
	}
	return append(ps, validateDocs(s)...)
}

// validateDocs checks the documents of the kinds other than objects and
// roles: a known kind, the kind's JSON Schema, a valid and unique name,
// and the kind's own semantic checks.
func validateDocs(s *Schema) Problems {
	var ps Problems
	kinds := make([]string, 0, len(s.Docs))
	for kind := range s.Docs {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		k, known := LookupKind(kind)
		for i, d := range s.Docs[kind] {
			file := s.source(kind, d.Name, i)
			add := func(more ...Problem) {
				for _, p := range more {
					p.File = file
					ps = append(ps, p)
				}
			}
			switch {
			case !known || k.builtin:
				add(Problemf("", "unknown document kind %q", kind))
				continue
			case !identPattern.MatchString(d.Name):
				add(Problemf("/name", "%q is not a valid name: use 1 to 30 lowercase letters, digits and underscores, starting with a letter", d.Name))
			case i > 0 && s.Docs[kind][i-1].Name == d.Name:
				add(Problemf("/name", "%s %q is defined twice", strings.TrimSuffix(kind, "s"), d.Name))
			}
			if cps := checkAgainst(k.jsonSchema(), any(d.Raw)); len(cps) > 0 {
				add(cps...)
				continue
			}
			v := d.Value
			if v == nil {
				var err error
				if v, err = k.decode(d.Raw); err != nil {
					add(Problemf("", "%s", decodeMessage(err)))
					continue
				}
			}
			if k.check != nil {
				add(k.check(s, v)...)
			}
		}
	}
	return ps
}

// validateObject checks one object against the schema it belongs to.
func validateObject(s *Schema, o *Object) []Problem {
	var ps []Problem
	names := map[string]bool{}
	for i, f := range o.Fields {
		at := func(p Problem) Problem {
			p.Path = pointer("fields", i) + p.Path
			return p
		}
		if err := ValidIdentifier(f.Name); err != nil {
			if IsSystemField(f.Name) {
				err = fmt.Errorf("%q is a system field every object already has", f.Name)
			}
			ps = append(ps, at(Problemf("/name", "%v", err)))
		}
		if names[f.Name] {
			ps = append(ps, at(Problemf("/name", "field %q is defined twice", f.Name)))
		}
		names[f.Name] = true
		t, ok := LookupFieldType(f.Type)
		if !ok {
			ps = append(ps, at(Problemf("/type", "unknown field type %q (known: %s)", f.Type, strings.Join(FieldTypeNames(), ", "))))
			continue
		}
		for _, p := range t.Check(f) {
			ps = append(ps, at(p))
		}
		ps = append(ps, checkFieldRefs(s, o, f, t, at)...)
	}
	ps = append(ps, validateMasterDetail(o)...)
	if o.TitleField != "" {
		if _, ok := o.Field(o.TitleField); !ok {
			ps = append(ps, Problemf("/title_field", "no field %q in object %q", o.TitleField, o.Name))
		}
	}
	ps = append(ps, validateIndexes(o)...)
	rules := map[string]bool{}
	for i, r := range o.ValidationRules {
		if rules[r.Name] {
			ps = append(ps, Problemf(pointer("validation_rules", i, "name"), "rule %q is defined twice", r.Name))
		}
		rules[r.Name] = true
		if r.Field != "" {
			if _, ok := o.Field(r.Field); !ok {
				ps = append(ps, Problemf(pointer("validation_rules", i, "field"), "no field %q in object %q", r.Field, o.Name))
			}
		}
	}
	return ps
}

// validateMasterDetail checks the master-detail lookups of o: lookups
// (not many-to-many) that are required and cascade on delete, at most
// one.
func validateMasterDetail(o *Object) []Problem {
	var ps []Problem
	seen := ""
	for i, f := range o.Fields {
		if _, known := LookupFieldType(f.Type); !f.MasterDetail || !known {
			continue // an unknown type has its own problem
		}
		path := pointer("fields", i, "master_detail")
		if _, ok := LookupTarget(f); !ok {
			ps = append(ps, Problemf(path, "only a lookup can be master-detail, not a %s field", f.Type))
			continue
		}
		if !f.Required || OnDeleteOf(f) != OnDeleteCascade {
			ps = append(ps, Problemf(path, "a master-detail lookup must be required and cascade on delete (required: true, on_delete: cascade)"))
		}
		if seen != "" {
			ps = append(ps, Problemf(path, "%s already has a master-detail lookup, %s: a record has one master", o.Name, seen))
		}
		seen = f.Name
	}
	return ps
}

// checkFieldRefs checks what a field says about other objects and fields:
// lookup targets, picklist cascades and the default value.
func checkFieldRefs(s *Schema, o *Object, f *Field, t FieldType, at func(Problem) Problem) []Problem {
	var ps []Problem
	if f.Target != "" {
		if _, ok := t.(Referencer); !ok {
			ps = append(ps, at(Problemf("/target", "only lookup and many_to_many fields have a target")))
		} else if _, ok := s.Object(f.Target); !ok {
			ps = append(ps, at(Problemf("/target", "unknown target object %q", f.Target)))
		}
	}
	if f.DependsOn != "" {
		ctrl, ok := o.Field(f.DependsOn)
		_, cascades := t.(Cascader)
		var controller Controller
		if ok {
			ct, _ := LookupFieldType(ctrl.Type)
			controller, _ = ct.(Controller)
		}
		switch {
		case !cascades:
			ps = append(ps, at(Problemf("/depends_on", "only picklists can depend on another field")))
		case !ok:
			ps = append(ps, at(Problemf("/depends_on", "no field %q in object %q", f.DependsOn, o.Name)))
		case controller == nil:
			ps = append(ps, at(Problemf("/depends_on", "controlling field %q must be a picklist or boolean, not %s", ctrl.Name, ctrl.Type)))
		case ctrl.Name == f.Name:
			ps = append(ps, at(Problemf("/depends_on", "a field cannot depend on itself")))
		default:
			for i, opt := range f.Options {
				for j, w := range opt.When {
					if !slices.Contains(controller.ControlValues(ctrl), w) {
						ps = append(ps, at(Problemf(pointer("options", i, "when", j), "%q is not a value of controlling field %q", w, ctrl.Name)))
					}
				}
			}
		}
	} else {
		for i, opt := range f.Options {
			if len(opt.When) > 0 {
				ps = append(ps, at(Problemf(pointer("options", i, "when"), "when needs depends_on on the field")))
			}
		}
	}
	if f.Default != nil {
		if _, err := t.Normalize(f, f.Default); err != nil {
			ps = append(ps, at(Problemf("/default", "default value: %v", err)))
		}
	}
	if f.Formula != "" && f.DefaultFormula != "" {
		ps = append(ps, at(Problemf("/default_formula", "a computed field cannot also have a default formula")))
	}
	if _, assigned := t.(Assigner); f.Formula != "" && (assigned || Linked(f) || IsFile(f)) {
		ps = append(ps, at(Problemf("/formula", "a %s field cannot be computed", f.Type)))
	}
	return ps
}

// validateRole checks a role's references to objects, fields and roles.
func validateRole(s *Schema, r *Role, roles map[string]*Role) []Problem {
	var ps []Problem
	if r.Parent != "" {
		if roles[r.Parent] == nil {
			ps = append(ps, Problemf("/parent", "unknown role %q", r.Parent))
		} else {
			seen := map[string]bool{r.Name: true}
			for p := roles[r.Parent]; p != nil; p = roles[p.Parent] {
				if seen[p.Name] {
					ps = append(ps, Problemf("/parent", "role hierarchy has a cycle through %q", p.Name))
					break
				}
				seen[p.Name] = true
			}
		}
	}
	for i, perm := range r.Permissions {
		for j, a := range perm.Actions {
			if !IsAction(a) {
				ps = append(ps, Problemf(pointer("permissions", i, "actions", j), "unknown action %q (one of %s)", a, strings.Join(Actions(), ", ")))
			}
		}
		if perm.Object == "*" {
			if len(perm.Fields) > 0 {
				ps = append(ps, Problemf(pointer("permissions", i, "fields"), "field rights need a named object"))
			}
			continue
		}
		o, ok := s.Object(perm.Object)
		if !ok {
			ps = append(ps, Problemf(pointer("permissions", i, "object"), "unknown object %q", perm.Object))
			continue
		}
		for name, level := range perm.Fields {
			if name == OwnerField {
				if level == FieldHidden {
					ps = append(ps, Problemf(pointer("permissions", i, "fields", name), "%s can be read_only or editable, not hidden", OwnerField))
				}
				continue
			}
			if _, ok := o.Field(name); !ok {
				ps = append(ps, Problemf(pointer("permissions", i, "fields", name), "no field %q in object %q", name, o.Name))
			}
		}
	}
	for i, sr := range r.SharingRules {
		if _, ok := s.Object(sr.Object); !ok {
			ps = append(ps, Problemf(pointer("sharing_rules", i, "object"), "unknown object %q", sr.Object))
		}
	}
	return ps
}
