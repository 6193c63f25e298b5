package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Plan is a report resolved against one metadata version: every name
// found, every formula type-checked and translated to SQL. It does not
// depend on the user; package run adds the user's rights, dialect and time
// zone when it runs the plan. Plans are immutable.
type Plan struct {
	Report  *Report
	Object  *metadata.Object
	Kind    string
	Columns []*Value // tabular columns
	Groups  []*Dim   // row dimensions
	Across  []*Dim   // column dimensions (matrix)
	Aggs    []*Agg
	Params  []*Param
	// Formulas are the row formulas by name.
	Formulas map[string]*RowFormula
}

// Hop is one lookup followed from the base object: Field of From points
// at To. Key names the path up to and including it ("account.parent").
type Hop struct {
	From  *metadata.Object
	Field *metadata.Field
	To    *metadata.Object
	Key   string
}

// Ref is a field reached from the base object through lookups.
type Ref struct {
	Path   string
	Hops   []Hop
	Object *metadata.Object
	Field  *metadata.Field
}

// Value is what a column, dimension or aggregate reads: a field (Ref) or a
// row formula. Field describes its values (for a formula, a field of the
// formula's type) and so how they are read, grouped and written out.
type Value struct {
	Name    string
	Label   metadata.Label
	Ref     *Ref
	Formula *RowFormula
	Field   *metadata.Field
}

// RowFormula is a row formula translated to SQL.
type RowFormula struct {
	Def   *Formula
	Field *metadata.Field
	// Reads are the fields the formula reads, each with the object
	// holding it: a user must be able to read every one.
	Reads []formulas.FieldRead
	// Refs are the paths it reads through lookups (joins).
	Refs []*Ref
	expr *term
}

// Dim is a dimension: a value, dates bucketed.
type Dim struct {
	*Value
	Bucket metadata.Bucket
}

// Agg is an aggregate resolved.
type Agg struct {
	Def   *Aggregate
	Value *Value // nil for count of records
	// Type and Scale are the type of the aggregate's values as a column
	// shows them (valueType), worked out once for all its groups.
	Type  string
	Scale int
}

// valueType returns the type of the values of an aggregate of def over
// v's field (nil for a count of records), as a column shows them:
// counts are integers, sums and averages currency with the field's
// decimals, integers or decimals (an average of integers is a decimal),
// min and max the field's own type.
func valueType(def *Aggregate, v *Value) (string, int) {
	switch def.Func {
	case Count, CountDistinct:
		return "integer", 0
	}
	f := v.Field
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindMoney:
		return "currency", f.ScaleOr(metadata.DefaultCurrencyScale)
	case metadata.KindInt:
		if def.Func == Avg {
			return "decimal", 0
		}
		return "integer", 0
	case metadata.KindFloat:
		return "decimal", 0
	}
	return f.Type, 0
}

// Param is a runtime parameter resolved.
type Param struct {
	Def *Parameter
	Ref *Ref
}

// Limits of reports.
const (
	// MaxRows is the most rows a tabular report returns, and the most
	// groups a summary or matrix report may have.
	MaxRows = 10000
	// DefaultTabularRows is the number of rows of a tabular report
	// without a limit.
	DefaultTabularRows = 1000
)

// compileAll compiles every report of s (kept in the engine's snapshot as
// Compiled("reports"): a map from name to *Plan).
func compileAll(s *metadata.Schema) (any, metadata.Problems) {
	out := map[string]*Plan{}
	ps := Reports.Each(s, func(r *Report) metadata.Problems {
		p, ps := Compile(s, r)
		out[r.Name] = p
		return ps
	})
	return out, ps
}

// Compile resolves and checks a report against s: the object, every field
// and path, the formulas (type-checked with package formulas, translated to
// SQL), the filter, parameters, aggregates, calculations, sort and chart.
// Problems carry JSON pointers into the report.
func Compile(s *metadata.Schema, r *Report) (*Plan, metadata.Problems) {
	c := &compiler{s: s, r: r}
	p := c.plan()
	if len(c.ps) > 0 {
		return nil, c.ps
	}
	return p, nil
}

// compiler holds the state of one compilation.
type compiler struct {
	s  *metadata.Schema
	r  *Report
	o  *metadata.Object
	ps metadata.Problems
	p  *Plan
}

// fail records a problem at path.
func (c *compiler) fail(path, format string, args ...any) {
	c.ps = append(c.ps, metadata.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *compiler) plan() *Plan {
	r := c.r
	o, ok := c.s.Object(r.Object)
	if !ok {
		c.fail("/object", "unknown object %s", r.Object)
		return nil
	}
	c.o = o
	c.p = &Plan{Report: r, Object: o, Kind: r.KindOrDefault(), Formulas: map[string]*RowFormula{}}
	if _, err := query.CompileFilter(r.Filter, o, query.Options{Dialect: metadata.DialectSQLite, Schema: c.s}); err != nil {
		c.fail("/filter", "%v", err)
	}
	names := map[string]string{}
	claim := func(name, path string) {
		if prev, dup := names[name]; dup {
			c.fail(path, "the name %s is already used at %s", name, prev)
			return
		}
		names[name] = path
	}
	for i := range r.Formulas {
		f := &r.Formulas[i]
		path := fmt.Sprintf("/formulas/%d", i)
		if _, dup := c.p.Formulas[f.Name]; dup {
			c.fail(path+"/name", "two formulas are named %s", f.Name)
			continue
		}
		if rf := c.formula(f, path); rf != nil {
			c.p.Formulas[f.Name] = rf
		}
	}
	for i := range r.Parameters {
		c.param(&r.Parameters[i], fmt.Sprintf("/parameters/%d", i))
	}
	switch c.p.Kind {
	case Tabular:
		if len(r.GroupBy)+len(r.Across)+len(r.Calculations) > 0 || r.Subtotals {
			c.fail("/kind", "a tabular report lists records: group_by, across, calculations and subtotals need kind summary or matrix")
		}
		if len(r.Columns) == 0 {
			c.fail("/columns", "a tabular report needs columns")
		}
		for i, col := range r.Columns {
			path := fmt.Sprintf("/columns/%d/field", i)
			v := c.value(col.Field, path)
			if v == nil {
				continue
			}
			if col.Label != nil {
				v.Label = col.Label
			}
			claim(col.Field, path)
			c.p.Columns = append(c.p.Columns, v)
		}
	case Summary, Matrix:
		if len(r.Columns) > 0 {
			c.fail("/columns", "columns list the fields of a tabular report; a %s report has group_by and aggregates", c.p.Kind)
		}
		if len(r.GroupBy) == 0 && c.p.Kind == Matrix {
			c.fail("/group_by", "a matrix report needs row dimensions (group_by)")
		}
		if c.p.Kind == Summary && len(r.Across) > 0 {
			c.fail("/across", "column dimensions (across) belong to a matrix report")
		}
		if c.p.Kind == Matrix && len(r.Across) == 0 {
			c.fail("/across", "a matrix report needs column dimensions (across)")
		}
		if c.p.Kind == Matrix && (len(r.Calculations) > 0 || r.Subtotals) {
			c.fail("/calculations", "calculations and subtotals belong to summary reports")
		}
		c.p.Groups = c.dims(r.GroupBy, "/group_by", claim)
		c.p.Across = c.dims(r.Across, "/across", claim)
		if len(r.Aggregates) == 0 {
			c.fail("/aggregates", "a %s report needs aggregates (count, sum …)", c.p.Kind)
		}
	}
	for i, pa := range r.Parameters {
		if pa.Type == ParamBucket && !slices.ContainsFunc(append(append([]Group(nil), r.GroupBy...), r.Across...), func(g Group) bool { return g.Field == pa.Field && g.Bucket != "" }) {
			c.fail(fmt.Sprintf("/parameters/%d/field", i), "a bucket parameter sets the bucket of a dimension: no dimension groups %s by a bucket", pa.Field)
		}
	}
	for i := range r.Aggregates {
		a := &r.Aggregates[i]
		path := fmt.Sprintf("/aggregates/%d", i)
		claim(a.Name, path+"/name")
		c.aggregate(a, path)
	}
	for i, k := range r.Calculations {
		path := fmt.Sprintf("/calculations/%d", i)
		if prev, ok := names[k.Of]; !ok || !strings.HasPrefix(prev, "/aggregates/") && !strings.HasPrefix(prev, "/calculations/") {
			c.fail(path+"/of", "%s is not an aggregate or an earlier calculation", k.Of)
		}
		switch {
		case !divides(k.Func) && k.By != "":
			c.fail(path+"/by", "only ratio, rate and return divide by a second value (by)")
		case divides(k.Func):
			if prev, ok := names[k.By]; !ok || !strings.HasPrefix(prev, "/aggregates/") && !strings.HasPrefix(prev, "/calculations/") {
				c.fail(path+"/by", "%s divides by an aggregate or an earlier calculation; %q is neither", k.Func, k.By)
			}
		}
		claim(k.Name, path+"/name")
	}
	for i, key := range r.Sort {
		name := strings.TrimPrefix(key, "-")
		if _, ok := names[name]; !ok {
			c.fail(fmt.Sprintf("/sort/%d", i), "%s is not a column, dimension, aggregate or calculation of the report", name)
		}
	}
	if r.Chart != nil {
		c.chart(r.Chart, names)
	}
	return c.p
}

// dims resolves dimensions.
func (c *compiler) dims(gs []Group, at string, claim func(name, path string)) []*Dim {
	var out []*Dim
	for i, g := range gs {
		path := fmt.Sprintf("%s/%d/field", at, i)
		v := c.value(g.Field, path)
		if v == nil {
			continue
		}
		if g.Label != nil {
			v.Label = g.Label
		}
		claim(g.Field, path)
		if _, err := metadata.GroupSQL(metadata.DialectSQLite, v.Field, "x", g.Bucket, 0); err != nil {
			c.fail(fmt.Sprintf("%s/%d/bucket", at, i), "%v", strings.TrimPrefix(err.Error(), metadata.ErrUnsupported.Error()+": "))
			continue
		}
		out = append(out, &Dim{Value: v, Bucket: g.Bucket})
	}
	return out
}

// chart checks a chart definition.
func (c *compiler) chart(ch *Chart, names map[string]string) {
	if c.p.Kind == Tabular {
		c.fail("/chart", "a chart draws groups: the report must be a summary or matrix")
		return
	}
	if ch.Type == ChartStackedBar && len(c.p.Groups)+len(c.p.Across) < 2 {
		c.fail("/chart/type", "a stacked bar chart needs two dimensions (the bars and the stacks)")
	}
	for i, v := range ch.Values {
		prev, ok := names[v]
		if !ok || !strings.HasPrefix(prev, "/aggregates/") && !strings.HasPrefix(prev, "/calculations/") {
			c.fail(fmt.Sprintf("/chart/values/%d", i), "%s is not an aggregate or calculation of the report", v)
		}
	}
}

// aggregate resolves an aggregate.
func (c *compiler) aggregate(a *Aggregate, path string) {
	ag := &Agg{Def: a}
	if a.Filter != "" {
		if _, err := query.CompileFilter(a.Filter, c.o, query.Options{Dialect: metadata.DialectSQLite, Schema: c.s}); err != nil {
			c.fail(path+"/filter", "%v", err)
		}
	}
	if a.Totals != "" {
		switch {
		case c.p.Kind == Tabular:
			c.fail(path+"/totals", "a tabular report has one totals row: totals combines the rows of a summary or matrix")
		case a.Func != Min && a.Func != Max && a.Func != CountDistinct:
			c.fail(path+"/totals", "totals: sum adds the rows of a min, max or count_distinct; a %s already adds up", a.Func)
		}
	}
	if a.Field == "" {
		if a.Func != Count {
			c.fail(path+"/field", "%s needs a field", a.Func)
			return
		}
		ag.Type, ag.Scale = valueType(a, nil)
		c.p.Aggs = append(c.p.Aggs, ag)
		return
	}
	v := c.value(a.Field, path+"/field")
	if v == nil {
		return
	}
	k := metadata.TypeOf(v.Field).Kind()
	switch a.Func {
	case Sum, Avg:
		if !k.Numeric() {
			c.fail(path+"/field", "%s of %s: a %s field is not a number", a.Func, a.Field, v.Field.Type)
			return
		}
	case Min, Max:
		if !k.Numeric() && k != metadata.KindDate && k != metadata.KindDateTime {
			c.fail(path+"/field", "%s of %s: a %s field has no order to take it from", a.Func, a.Field, v.Field.Type)
			return
		}
		if a.Totals != "" && !k.Numeric() {
			c.fail(path+"/totals", "totals: sum adds numbers; %s is a %s field", a.Field, v.Field.Type)
			return
		}
	}
	ag.Value = v
	ag.Type, ag.Scale = valueType(a, v)
	c.p.Aggs = append(c.p.Aggs, ag)
}

// param resolves a parameter.
func (c *compiler) param(p *Parameter, path string) {
	ref := c.ref(p.Field, path+"/field")
	if ref == nil {
		return
	}
	k := metadata.TypeOf(ref.Field).Kind()
	switch p.Type {
	case ParamBucket:
		if len(metadata.Buckets(ref.Field)) == 0 {
			c.fail(path+"/field", "a bucket parameter needs a date or datetime field; %s is %s", p.Field, ref.Field.Type)
			return
		}
	case ParamPeriod, ParamIdleDays:
		if k != metadata.KindDate && k != metadata.KindDateTime {
			c.fail(path+"/field", "a %s parameter needs a date or datetime field; %s is %s", p.Type, p.Field, ref.Field.Type)
			return
		}
	case ParamUser:
		if !IsUserField(ref.Field.Name) {
			c.fail(path+"/field", "a user parameter needs owner_id, created_by or updated_by; %s is not one", p.Field)
			return
		}
	case ParamValue:
		if !metadata.SupportsFilter(ref.Field, metadata.FilterEqual) {
			c.fail(path+"/field", "%s (a %s field) cannot be compared with a value", p.Field, ref.Field.Type)
			return
		}
	}
	if p.Default != "" {
		if _, err := ParamFilter(&Param{Def: p, Ref: ref}, p.Default, "me"); err != nil {
			c.fail(path+"/default", "%v", err)
			return
		}
	}
	c.p.Params = append(c.p.Params, &Param{Def: p, Ref: ref})
}

// value resolves a formula name or a field or path: a formula hides a
// field of the same name (so adding a field to the object never breaks a
// report).
func (c *compiler) value(name, path string) *Value {
	if f, ok := c.p.Formulas[name]; ok {
		return &Value{Name: name, Label: f.Field.Label, Formula: f, Field: f.Field}
	}
	if slices.ContainsFunc(c.r.Formulas, func(f Formula) bool { return f.Name == name }) {
		return nil // the formula's own problem is reported
	}
	ref := c.ref(name, path)
	if ref == nil {
		return nil
	}
	return &Value{Name: name, Label: ref.Field.Label, Ref: ref, Field: ref.Field}
}

// ref resolves a field of the base object or a path through lookups.
func (c *compiler) ref(name, path string) *Ref {
	parts := strings.Split(name, ".")
	obj := c.o
	ref := &Ref{Path: name}
	for i, part := range parts {
		f, ok := obj.FieldOrSystem(part)
		if !ok {
			c.fail(path, "unknown field %s on %s", part, obj.Name)
			return nil
		}
		if i == len(parts)-1 {
			if metadata.Linked(f) || metadata.IsFile(f) {
				c.fail(path, "%s is a %s field: reports read fields with one value", name, f.Type)
				return nil
			}
			ref.Object, ref.Field = obj, f
			return ref
		}
		target, ok := metadata.LookupTarget(f)
		if !ok || metadata.Linked(f) {
			c.fail(path, "%s is a %s field: only a lookup can be followed by a dot", part, f.Type)
			return nil
		}
		to, ok := c.s.Object(target)
		if !ok {
			c.fail(path, "the target %s of %s is not an object", target, part)
			return nil
		}
		ref.Hops = append(ref.Hops, Hop{From: obj, Field: f, To: to, Key: strings.Join(parts[:i+1], ".")})
		obj = to
	}
	return nil
}

// IsUserField reports whether a system field holds a user id.
func IsUserField(name string) bool {
	return name == metadata.OwnerField || name == "created_by" || name == "updated_by"
}
