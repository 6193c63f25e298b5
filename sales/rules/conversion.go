package rules

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// KindConversions names the document kind of conversions.
const KindConversions = "conversions"

// Conversion is one document of conversions: how a record of Source (a
// lead) becomes records of its targets, in order (an account, a contact
// linked to it, optionally an opportunity linked to both).
type Conversion struct {
	Name   string         `json:"name"`
	Label  metadata.Label `json:"label,omitempty"`
	Source string         `json:"source"`
	// Set holds the values written on the source when it is converted
	// (status: converted); a source that already has them is converted.
	Set     map[string]any     `json:"set,omitempty"`
	Targets []ConversionTarget `json:"targets"`
}

// ConversionTarget is one record a conversion creates or attaches.
type ConversionTarget struct {
	// Name is the target's key in the convert action's body and answer
	// (account → "account", "account_id").
	Name   string `json:"name"`
	Object string `json:"object"`
	// Optional targets are created only when the body asks.
	Optional bool `json:"optional,omitempty"`
	// Fields maps source fields to target fields.
	Fields map[string]string `json:"fields,omitempty"`
	// Formulas maps target fields to formulas over the source record.
	Formulas map[string]string `json:"formulas,omitempty"`
	// Links maps target lookup fields to the name of an earlier target.
	Links map[string]string `json:"links,omitempty"`
	// Match lists target fields that identify an existing record to use
	// instead of creating one (a contact with the same email on the same
	// account).
	Match []string `json:"match,omitempty"`
	// WriteBack names the source's lookup that receives the target's id.
	WriteBack string `json:"write_back,omitempty"`
}

//go:embed schemas/conversion.json
var conversionSchema []byte

// Conversions reads the conversions of a schema.
var Conversions metadata.Docs[Conversion]

func init() {
	Conversions = metadata.RegisterKind(metadata.KindSpec[Conversion]{
		Name:    KindConversions,
		Schema:  conversionSchema,
		Check:   checkConversion,
		Compile: compileConversions,
	})
}

// checkConversion checks every reference of a conversion and the type
// compatibility of every mapping.
func checkConversion(s *metadata.Schema, c *Conversion) metadata.Problems {
	src, ok := s.Object(c.Source)
	if !ok {
		return metadata.Problems{{Path: "/source", Message: "unknown object " + c.Source}}
	}
	var ps metadata.Problems
	add := func(path, format string, args ...any) {
		ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for _, other := range Conversions.All(s) {
		if other.Source == c.Source && other.Name < c.Name {
			add("/source", "conversion %s already converts %s records: one conversion per object", other.Name, c.Source)
		}
	}
	for _, name := range sortedMapKeys(c.Set) {
		f, ok := src.Field(name)
		if !ok {
			add("/set/"+name, "%s has no field %q", src.Name, name)
			continue
		}
		if _, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(c.Set[name])); err != nil {
			add("/set/"+name, "%v", err)
		}
	}
	objects := map[string]string{}
	for i, t := range c.Targets {
		at := func(rest string) string { return fmt.Sprintf("/targets/%d%s", i, rest) }
		if _, dup := objects[t.Name]; dup {
			add(at("/name"), "target %s is named twice", t.Name)
		}
		dst, ok := s.Object(t.Object)
		if !ok {
			add(at("/object"), "unknown object %s", t.Object)
			objects[t.Name] = ""
			continue
		}
		objects[t.Name] = t.Object
		set := map[string]string{}
		claim := func(path, field string) (*metadata.Field, bool) {
			f, ok := dst.Field(field)
			switch {
			case !ok:
				add(path, "%s has no field %q", dst.Name, field)
			case metadata.Computed(f):
				add(path, "%s.%s is computed by the system and cannot be set", dst.Name, field)
				ok = false
			case set[field] != "":
				add(path, "%s.%s is already set by %s", dst.Name, field, set[field])
				ok = false
			}
			set[field] = path
			return f, ok
		}
		for _, sf := range sortedMapKeys(t.Fields) {
			path := at("/fields/" + sf)
			from, ok := src.Field(sf)
			if !ok {
				add(path, "%s has no field %q", src.Name, sf)
				continue
			}
			if to, ok := claim(path, t.Fields[sf]); ok {
				if msg := incompatible(from, to); msg != "" {
					add(path, "%s.%s cannot be copied into %s.%s: %s", src.Name, from.Name, dst.Name, to.Name, msg)
				}
			}
		}
		for _, tf := range sortedMapKeys(t.Formulas) {
			path := at("/formulas/" + tf)
			if to, ok := claim(path, tf); ok {
				if _, err := formulas.CompileValue(s, src.Name, to, t.Formulas[tf]); err != nil {
					add(path, "%v", err)
				}
			}
		}
		for _, tf := range sortedMapKeys(t.Links) {
			path := at("/links/" + tf)
			to, ok := claim(path, tf)
			if !ok {
				continue
			}
			linked, earlier := objects[t.Links[tf]]
			target, lookup := metadata.LookupTarget(to)
			switch {
			case !earlier || t.Links[tf] == t.Name:
				add(path, "%q is not an earlier target of the conversion", t.Links[tf])
			case !lookup || target != linked:
				add(path, "%s.%s is not a lookup to %s", dst.Name, tf, linked)
			}
		}
		for j, mf := range t.Match {
			if _, ok := dst.Field(mf); !ok {
				add(at(fmt.Sprintf("/match/%d", j)), "%s has no field %q", dst.Name, mf)
			}
		}
		if t.WriteBack != "" {
			target, lookup := "", false
			if f, ok := src.Field(t.WriteBack); ok {
				target, lookup = metadata.LookupTarget(f)
			}
			if !lookup || target != dst.Name {
				add(at("/write_back"), "%s needs a lookup field %q to %s", src.Name, t.WriteBack, dst.Name)
			} else if _, also := c.Set[t.WriteBack]; also {
				add(at("/write_back"), "%s is also in set", t.WriteBack)
			}
		}
	}
	return ps
}

// incompatible says why values of from cannot be copied into to, or "".
func incompatible(from, to *metadata.Field) string {
	fk, tk := metadata.TypeOf(from).Kind(), metadata.TypeOf(to).Kind()
	switch {
	case fk == metadata.KindFile || tk == metadata.KindFile:
		return "files are not copied"
	case fk.Numeric() && tk.Numeric():
		return ""
	case fk != tk:
		return fmt.Sprintf("%s is %s, %s is %s", from.Name, fk, to.Name, tk)
	case fk == metadata.KindRef || fk == metadata.KindRefList:
		ft, _ := metadata.ReferenceTarget(from)
		tt, _ := metadata.ReferenceTarget(to)
		if ft != tt {
			return fmt.Sprintf("they point to %s and %s", ft, tt)
		}
	case len(to.Options) > 0:
		if len(from.Options) == 0 {
			return fmt.Sprintf("%s is free text and %s has a fixed list of options", from.Name, to.Name)
		}
		var missing []string
		for _, o := range from.Options {
			if _, ok := to.Option(o.Value); !ok {
				missing = append(missing, o.Value)
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("%s has no option %v", to.Name, missing)
		}
	}
	return ""
}

// sortedMapKeys returns the keys of m in order.
func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ConversionSet is the compiled form of a schema's conversions
// (Snapshot.Compiled(KindConversions)), by source object.
type ConversionSet map[string]*CompiledConversion

// CompiledConversion is a conversion with its formulas compiled.
type CompiledConversion struct {
	*Conversion
	// Formulas holds, per target name and target field, the compiled
	// formula over the source.
	Formulas map[string]map[string]*formulas.Expr
}

// compileConversions compiles every formula of every conversion.
func compileConversions(s *metadata.Schema) (any, metadata.Problems) {
	out := ConversionSet{}
	var ps metadata.Problems
	for _, c := range Conversions.All(s) {
		cc := &CompiledConversion{Conversion: c, Formulas: map[string]map[string]*formulas.Expr{}}
		for i, t := range c.Targets {
			dst, _ := s.Object(t.Object)
			cc.Formulas[t.Name] = map[string]*formulas.Expr{}
			for tf, src := range t.Formulas {
				f, _ := dst.Field(tf)
				x, err := formulas.CompileValue(s, c.Source, f, src)
				if err != nil {
					ps = append(ps, metadata.Problem{File: s.Source(KindConversions, c.Name), Path: fmt.Sprintf("/targets/%d/formulas/%s", i, tf), Message: err.Error()})
					continue
				}
				cc.Formulas[t.Name][tf] = x
			}
		}
		out[c.Source] = cc
	}
	return out, ps
}

// ConversionOf returns the compiled conversion of source records, or nil.
func ConversionOf(compiled any, source string) *CompiledConversion {
	set, _ := compiled.(ConversionSet)
	return set[source]
}

// Target returns the target named name.
func (c *Conversion) Target(name string) (*ConversionTarget, bool) {
	i := slices.IndexFunc(c.Targets, func(t ConversionTarget) bool { return t.Name == name })
	if i < 0 {
		return nil, false
	}
	return &c.Targets[i], true
}
