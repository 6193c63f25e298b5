package formulas

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/crmplatform/crm/metadata"
)

// Compiled holds every formula of one metadata version, compiled and
// type-checked, with the dependency graph between them. It is immutable
// and safe for concurrent use; build it once per metadata snapshot.
type Compiled struct {
	schema     *metadata.Schema
	objects    map[string]*ObjectProgram
	rollups    []*RollupSpec
	lookupDeps []LookupDependency
}

// ObjectProgram holds the compiled formulas of one object: computed fields
// in dependency order, default formulas and validation rules.
type ObjectProgram struct {
	schema   *metadata.Schema
	object   *metadata.Object
	computed []*program
	defaults []*program
	// defaultsRelated tells that a default formula reads a record a
	// lookup points to (DefaultsRelated).
	defaultsRelated bool
	rules           []*program
	// reads is the union of what the computed fields and rules read.
	reads *reads
	// options and labels give the values of the option()/label() variables.
	options map[string]*optionVar
	labels  map[string]*labelVar

	// fresh is what ComputeNew knows of a new record's computed fields,
	// worked out on first use.
	freshOnce sync.Once
	fresh     *freshValues
}

// program is one compiled expression.
type program struct {
	what   string // "computed field x", "default of x", "rule y"
	field  *metadata.Field
	rule   *metadata.ValidationRule
	source string
	prog   *vm.Program
	reads  *reads
	index  int // position of the field or rule in the object
}

// RollupSpec describes one aggregate over child records: Func of
// ValueField over the records of Child whose lookup Via points to the
// parent record, restricted to those matching Condition. The engine runs it
// in SQL (Condition is an expression of the filter language on Child, the
// same one list filters use) and recomputes the parent's computed fields
// when a child is created, deleted, re-parented (Via changes) or updated in
// one of the fields Reads lists.
type RollupSpec struct {
	// Object and Field name the parent object and the computed field whose
	// formula holds the roll-up (Field is empty for a validation rule).
	Object string `json:"object"`
	Field  string `json:"field,omitempty"`
	// Rule names the validation rule holding the roll-up instead, if any.
	Rule string `json:"rule,omitempty"`
	// Func is count, sum, avg, min or max.
	Func string `json:"func"`
	// Child is the object aggregated; Via its lookup field to Object.
	Child string `json:"child"`
	Via   string `json:"via"`
	// ValueField is the child field aggregated ("" for count).
	ValueField string `json:"value_field,omitempty"`
	// Condition is the filter on child records, "" for all of them.
	Condition string `json:"condition,omitempty"`
	// Reads lists the child fields the roll-up depends on: Via, ValueField
	// and the fields Condition reads.
	Reads []string `json:"reads"`
	// Whole is set when the roll-up is the whole formula of the computed
	// field Field (open_deals = count(opportunity, stage == "open")): the
	// field then stores the aggregate itself, which a count or a sum may
	// keep up by adding each child's share instead of counting again.
	Whole bool `json:"whole,omitempty"`

	key   string // environment variable of the result
	cond  *vm.Program
	creds *reads
	value *metadata.Field
}

// LookupDependency says that formulas of Object read Fields of Target
// through the chain of lookups Path (Path[0] is a field of Object; each
// next one a field of the object the previous one points to; "owner"
// points to a user). When a Target record changes in one of Fields, the
// records of Object that reach it through Path need Computed recomputed
// (and Rules re-checked on their next write).
type LookupDependency struct {
	Object   string   `json:"object"`
	Path     []string `json:"path"`
	Target   string   `json:"target"`
	Fields   []string `json:"fields"`
	Computed []string `json:"computed,omitempty"`
	Rules    []string `json:"rules,omitempty"`
}

// reads is what an expression reads, used to build its environment and
// the dependency graph.
type reads struct {
	fields  map[string]bool // own fields (columns), including lookup ids
	paths   map[string]*pathNode
	options map[string]bool // option variables
	labels  map[string]bool // label variables
	rollups []*RollupSpec
	// vlookups are the vlookup() calls of a default formula.
	vlookups []*vlookupSpec
	clock    bool // now(), today() or next_birthday()
}

// pathNode is a lookup followed: the object it points to, the fields read
// there and the lookups followed further.
type pathNode struct {
	object string
	fields map[string]bool
	next   map[string]*pathNode
}

func newReads() *reads {
	return &reads{fields: map[string]bool{}, paths: map[string]*pathNode{}, options: map[string]bool{}, labels: map[string]bool{}}
}

func newPathNode(object string) *pathNode {
	return &pathNode{object: object, fields: map[string]bool{}, next: map[string]*pathNode{}}
}

// related reports whether an expression reads another record than its
// own: through a lookup or with vlookup().
func (r *reads) related() bool { return len(r.paths) > 0 || len(r.vlookups) > 0 }

// merge adds what o reads to r.
func (r *reads) merge(o *reads) {
	for k := range o.fields {
		r.fields[k] = true
	}
	for k, p := range o.paths {
		if r.paths[k] == nil {
			r.paths[k] = newPathNode(p.object)
		}
		r.paths[k].merge(p)
	}
	for k := range o.options {
		r.options[k] = true
	}
	for k := range o.labels {
		r.labels[k] = true
	}
	r.rollups = append(r.rollups, o.rollups...)
	r.vlookups = append(r.vlookups, o.vlookups...)
	r.clock = r.clock || o.clock
}

func (p *pathNode) merge(o *pathNode) {
	for k := range o.fields {
		p.fields[k] = true
	}
	for k, n := range o.next {
		if p.next[k] == nil {
			p.next[k] = newPathNode(n.object)
		}
		p.next[k].merge(n)
	}
}

// optionVar is the variable option(field) becomes: the attributes of the
// selected option.
type optionVar struct {
	path   []string                  // the picklist: a field, or lookups then a field
	values map[string]map[string]any // option value → attributes
	zero   map[string]any
}

// labelVar is the variable label(field[, lang]) becomes.
type labelVar struct {
	path   []string
	labels map[string]string // option value → label
}

// Names of the roll-up aggregates.
var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// CompileSchema compiles every computed field, default formula, roll-up
// and validation rule of s, checks their types against the fields, builds
// the dependency graph and orders computed fields by it. It returns every
// problem found (paths are JSON pointers into the object's document, such
// as /fields/3/formula, and messages give the line and column); the
// Compiled value is nil when there are any. s must have passed
// metadata.Validate.
func CompileSchema(s *metadata.Schema) (*Compiled, metadata.Problems) {
	c := &Compiled{schema: s, objects: map[string]*ObjectProgram{}}
	cc := &schemaCompiler{schema: s, typer: newTyper(s)}
	var ps metadata.Problems
	for _, o := range s.Objects {
		op, ops := cc.object(o)
		ps = append(ps, ops...)
		c.objects[o.Name] = op
	}
	// Cycles among the formulas that compiled are reported with the other
	// problems, so one run shows them all.
	ps = append(ps, c.order()...)
	if len(ps) > 0 {
		return nil, ps
	}
	c.triggers()
	return c, nil
}

// Object returns the program of the object named name, or nil when there
// is no such object.
func (c *Compiled) Object(name string) *ObjectProgram {
	if c == nil {
		return nil
	}
	return c.objects[name]
}

// Schema returns the schema c was compiled from.
func (c *Compiled) Schema() *metadata.Schema { return c.schema }

// Rollups lists every roll-up of the schema.
func (c *Compiled) Rollups() []*RollupSpec { return c.rollups }

// RollupsOnChild lists the roll-ups that aggregate records of child: when
// such a record is created, deleted, re-parented or changed in one of a
// spec's Reads, recompute the computed fields of the parents (old and new
// value of Via) with ObjectProgram.Compute.
func (c *Compiled) RollupsOnChild(child string) []*RollupSpec {
	var out []*RollupSpec
	for _, r := range c.rollups {
		if r.Child == child {
			out = append(out, r)
		}
	}
	return out
}

// LookupDependents lists the formulas that read records of target (an
// object name, or UserObject for users) through lookups.
func (c *Compiled) LookupDependents(target string) []LookupDependency {
	var out []LookupDependency
	for _, d := range c.lookupDeps {
		if d.Target == target {
			out = append(out, d)
		}
	}
	return out
}

// Name returns the object's name.
func (op *ObjectProgram) Name() string { return op.object.Name }

// ComputedFields lists the computed fields of the object in the order
// Compute evaluates them.
func (op *ObjectProgram) ComputedFields() []string {
	out := make([]string, len(op.computed))
	for i, p := range op.computed {
		out[i] = p.field.Name
	}
	return out
}

// HasFormulas reports whether the object has any computed field, default
// formula or validation rule.
func (op *ObjectProgram) HasFormulas() bool {
	return op != nil && len(op.computed)+len(op.defaults)+len(op.rules) > 0
}

// Reads lists the fields of the object's own record that computed field
// (or rule, with a name of the form "rule:NAME") reads directly, sorted.
// It is nil for an unknown name.
func (op *ObjectProgram) Reads(name string) []string {
	for _, list := range [][]*program{op.computed, op.rules, op.defaults} {
		for _, p := range list {
			key := ""
			if p.field != nil && p.rule == nil {
				key = p.field.Name
			} else if p.rule != nil {
				key = "rule:" + p.rule.Name
			}
			if key == name {
				return sortedKeys(p.reads.fields)
			}
		}
	}
	return nil
}

// FieldRead names a field (or system column) of an object that a formula
// reads: its own object's, or one reached through lookups (Object is
// UserObject for a user's fields reached through owner).
type FieldRead struct {
	Object string
	Field  string
}

// Inputs is what one computed field reads directly: fields of its own
// record and of records reached through lookups, and the roll-ups it
// aggregates. Computed fields among them have inputs of their own.
type Inputs struct {
	Fields []FieldRead
	// Through names the objects whose records the field reads through
	// lookups (account for contact.account.name on an activity: contact
	// and account), each once, users (UserObject) left out.
	Through []string
	Rollups []*RollupSpec
}

// Inputs returns what computed field name reads; the zero Inputs for a
// field that is not computed.
func (op *ObjectProgram) Inputs(name string) Inputs {
	for _, p := range op.computed {
		if p.field.Name == name {
			return inputsOf(op.object.Name, p.reads)
		}
	}
	return Inputs{}
}

// inputsOf lists what an expression on object reads.
func inputsOf(object string, rd *reads) Inputs {
	var in Inputs
	for _, f := range sortedKeys(rd.fields) {
		in.Fields = append(in.Fields, FieldRead{Object: object, Field: f})
	}
	var walk func(n *pathNode)
	walk = func(n *pathNode) {
		if n.object != UserObject && !slices.Contains(in.Through, n.object) {
			in.Through = append(in.Through, n.object)
		}
		for _, f := range sortedKeys(n.fields) {
			in.Fields = append(in.Fields, FieldRead{Object: n.object, Field: f})
		}
		for _, k := range sortedPathKeys(n.next) {
			walk(n.next[k])
		}
	}
	for _, k := range sortedPathKeys(rd.paths) {
		walk(rd.paths[k])
	}
	in.Rollups = rd.rollups
	return in
}

// CheckExpr type-checks src as a formula on object o of s giving a value
// for a field like f (its type decides what the formula must return), as a
// computed field would be checked, without adding it to the schema: report
// row formulas use it. It returns what the formula reads; errors give the
// line and column. s must have passed metadata.Validate.
func CheckExpr(s *metadata.Schema, o *metadata.Object, src string, f *metadata.Field) (Inputs, error) {
	cc := &schemaCompiler{schema: s, typer: newTyper(s)}
	op := &ObjectProgram{schema: s, object: o, reads: newReads(), options: map[string]*optionVar{}, labels: map[string]*labelVar{}}
	p, err := cc.compile(op, exprComputed, src, f)
	if err != nil {
		return Inputs{}, err
	}
	return inputsOf(o.Name, p.reads), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// schemaCompiler compiles the expressions of a schema.
type schemaCompiler struct {
	schema *metadata.Schema
	typer  *typer
}

// exprKind says what an expression is for, which decides what it may read
// and what it must return.
type exprKind int

const (
	exprComputed exprKind = iota
	exprDefault
	exprRule
)

// object compiles the formulas of one object.
func (cc *schemaCompiler) object(o *metadata.Object) (*ObjectProgram, metadata.Problems) {
	op := &ObjectProgram{schema: cc.schema, object: o, reads: newReads(), options: map[string]*optionVar{}, labels: map[string]*labelVar{}}
	file := cc.schema.Sources[metadata.DocObject+":"+o.Name]
	var ps metadata.Problems
	add := func(path string, err error) {
		ps = append(ps, metadata.Problem{File: file, Path: path, Message: err.Error()})
	}
	for i, f := range o.Fields {
		if _, ok := metadata.LookupFieldType(f.Type); !ok {
			continue
		}
		if f.Formula != "" {
			p, err := cc.compile(op, exprComputed, f.Formula, f)
			if err != nil {
				add(fmt.Sprintf("/fields/%d/formula", i), err)
			} else {
				p.what, p.field, p.index = "computed field "+f.Name, f, i
				op.computed = append(op.computed, p)
			}
		}
		if f.DefaultFormula != "" {
			p, err := cc.compile(op, exprDefault, f.DefaultFormula, f)
			if err != nil {
				add(fmt.Sprintf("/fields/%d/default_formula", i), err)
			} else {
				p.what, p.field, p.index = "default of "+f.Name, f, i
				op.defaults = append(op.defaults, p)
				op.defaultsRelated = op.defaultsRelated || p.reads.related()
			}
		}
	}
	for i := range o.ValidationRules {
		r := &o.ValidationRules[i]
		p, err := cc.compile(op, exprRule, r.Condition, nil)
		if err != nil {
			add(fmt.Sprintf("/validation_rules/%d/condition", i), err)
			continue
		}
		p.what, p.rule, p.index = "rule "+r.Name, r, i
		if r.Field != "" {
			p.field, _ = o.Field(r.Field)
		}
		op.rules = append(op.rules, p)
	}
	for _, list := range [][]*program{op.computed, op.rules} {
		for _, p := range list {
			op.reads.merge(p.reads)
		}
	}
	return op, ps
}

// formulaError is a compile error at a position of the source.
func formulaError(src string, loc file.Location, format string, args ...any) error {
	e := &file.Error{Location: loc, Message: fmt.Sprintf(format, args...)}
	return positioned(e.Bind(file.NewSource(src)))
}

// positioned formats an expr error as "line L, column C: message".
func positioned(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		if fe.Line == 0 {
			return errors.New(msg)
		}
		return fmt.Errorf("line %d, column %d: %s", fe.Line, fe.Column+1, msg)
	}
	return err
}

// baseConfig makes an expr configuration with the function library, the
// clock and the limits.
func baseConfig(env types.Map) *conf.Config {
	cfg := conf.CreateNew()
	opts := append(Functions(), expr.Patch(clockPatcher{}), expr.MaxNodes(MaxNodes))
	for _, o := range opts {
		o(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	cfg.WithEnv(env)
	return cfg
}

// compile parses, rewrites, type-checks and compiles one expression of
// object op. field is the field a computed or default formula fills.
func (cc *schemaCompiler) compile(op *ObjectProgram, kind exprKind, src string, field *metadata.Field) (*program, error) {
	o := op.object
	env := cc.envOf(o)
	cfg := baseConfig(env)
	if kind == exprRule {
		cfg.Expect, cfg.ExpectAny = reflect.Bool, true
	}
	var rw *rewriter
	marked, where := markWhere(src)
	prog, tree, t, err := compileChecked(cfg, marked, func(tree *parser.Tree) error {
		rw = &rewriter{cc: cc, op: op, kind: kind, src: src, env: env, field: field, where: where, root: &tree.Node}
		ast.Walk(&tree.Node, rw)
		if rw.err != nil {
			return rw.err
		}
		if len(rw.where) > 0 {
			return formulaError(src, file.Location{From: rw.where[0], To: rw.where[0] + 5},
				"where belongs after the child of a roll-up, as in sum(opportunities where stage == \"won\", amount)")
		}
		cfg.WithEnv(env)
		return nil
	})
	if err != nil {
		if len(where) > 0 && strings.Contains(err.Error(), `unexpected token Operator(",")`) {
			return nil, formulaError(src, file.Location{From: where[0], To: where[0] + 5},
				"where belongs after the child of a roll-up, as in sum(opportunities where stage == \"won\", amount)")
		}
		var fe *file.Error
		if errors.As(err, &fe) || tree == nil {
			return nil, positioned(err)
		}
		if strings.HasPrefix(err.Error(), "expected bool") {
			return nil, formulaError(src, tree.Node.Location(), "%v", strings.Replace(err.Error(), "expected bool, but got", "a condition must be true or false, not", 1))
		}
		return nil, fmt.Errorf("compile: %v", err)
	}
	if field != nil && kind != exprRule {
		k := kindOf(field)
		if !resultFits(k, t) {
			return nil, formulaError(src, file.Location{}, "the formula gives %s but field %s is %s", describeType(t), field.Name, describeKind(k))
		}
	}
	rd := collectReads(cc.schema, o, tree.Node)
	rd.rollups, rd.vlookups = rw.rollups, rw.vlookups
	for k := range rw.options {
		rd.options[k] = true
	}
	for k := range rw.labels {
		rd.labels[k] = true
	}
	for _, ch := range rw.chains {
		rd.addChain(cc.schema, o, ch)
	}
	rd.clock = readsClock(&tree.Node)
	return &program{source: src, prog: prog, reads: rd}, nil
}

// describeKind names a field kind for messages, with the expected result.
func describeKind(k metadata.Kind) string {
	switch k {
	case metadata.KindInt:
		return "an integer (use int(x) or a whole-number expression)"
	case metadata.KindFloat, metadata.KindMoney:
		return "a number"
	case metadata.KindString:
		return "text"
	case metadata.KindBool:
		return "true or false"
	case metadata.KindDate, metadata.KindDateTime:
		return "a date"
	case metadata.KindStringList:
		return "a list of text"
	case metadata.KindRef:
		return "a record id"
	}
	return k.String()
}

// envOf returns the typed environment of an expression on o: its fields,
// with lookups followed MaxLookupDepth times, and the clock. (Default
// formulas and roll-up conditions get the same environment so that reading
// a related record is refused with a clear message after the check.) The
// map is a fresh copy the rewriter may add variables to.
func (cc *schemaCompiler) envOf(o *metadata.Object) types.Map {
	base := cc.typer.object(o, MaxLookupDepth)
	env := make(types.Map, len(base)+4)
	for k, v := range base {
		env[k] = v
	}
	for k, v := range clockTypes() {
		env[k] = v
	}
	return env
}

// rewriter replaces the calls that need the schema: roll-ups, option()
// and label(). It adds the variables they become to env.
type rewriter struct {
	cc      *schemaCompiler
	op      *ObjectProgram
	kind    exprKind
	src     string
	env     types.Map
	field   *metadata.Field
	err     error
	rollups []*RollupSpec
	options map[string]bool
	labels  map[string]bool
	chains  [][]string // picklists read through option() and label(), vlookup() values
	where   []int      // offsets of where keywords not yet used by a roll-up
	// vlookups are the vlookup() calls rewritten.
	vlookups []*vlookupSpec
	// root is the expression's whole tree (RollupSpec.Whole).
	root *ast.Node
}

// Visit rewrites one node; the first error stops the rewriting.
func (rw *rewriter) Visit(node *ast.Node) {
	if rw.err != nil {
		return
	}
	call, id, ok := namedCall(*node)
	if !ok {
		return
	}
	if _, shadowed := rw.env[id.Value]; shadowed {
		return
	}
	switch {
	case id.Value == "option" || id.Value == "label":
		rw.picklistHelper(node, call, id.Value)
	case aggregates[id.Value] && len(call.Arguments) > 0 && rw.isChildRef(call.Arguments[0]):
		rw.rollup(node, call, id.Value)
	case id.Value == "vlookup":
		rw.vlookup(node, call)
	}
}

// fail records an error at a node.
func (rw *rewriter) fail(n ast.Node, format string, args ...any) {
	if rw.err == nil {
		rw.err = formulaError(rw.src, n.Location(), format, args...)
	}
}

// picklistHelper rewrites option(f) and label(f[, lang]).
func (rw *rewriter) picklistHelper(node *ast.Node, call *ast.CallNode, name string) {
	o := rw.op.object
	max := 1
	if name == "label" {
		max = 2
	}
	if len(call.Arguments) < 1 || len(call.Arguments) > max {
		rw.fail(call, "%s takes a picklist field of %s%s", name, o.Name, map[bool]string{true: " and optionally a language code such as \"zh\"", false: ""}[name == "label"])
		return
	}
	chain, ok := memberChain(call.Arguments[0])
	var f *metadata.Field
	if ok {
		f, ok = rw.cc.resolveChain(o, chain)
	}
	if !ok || !metadata.SingleOption(f) {
		rw.fail(call.Arguments[0], "%s takes a picklist field of %s (or of a record a lookup points to)", name, o.Name)
		return
	}
	rw.chains = append(rw.chains, chain)
	varName := strings.Join(chain, "__")
	if name == "option" {
		key := "_opt_" + varName
		ov, t := optionVarOf(f, chain)
		rw.env[key] = t
		if rw.op.options[key] == nil {
			rw.op.options[key] = ov
		}
		if rw.options == nil {
			rw.options = map[string]bool{}
		}
		rw.options[key] = true
		ast.Patch(node, &ast.IdentifierNode{Value: key})
		return
	}
	lang := "en"
	if len(call.Arguments) == 2 {
		s, ok := call.Arguments[1].(*ast.StringNode)
		if !ok || s.Value == "" || len(s.Value) > 10 {
			rw.fail(call.Arguments[1], "the language of label must be a quoted code such as \"zh\"")
			return
		}
		lang = s.Value
	}
	key := "_lbl_" + lang + "_" + varName
	rw.env[key] = types.String
	if rw.op.labels[key] == nil {
		lv := &labelVar{path: chain, labels: map[string]string{}}
		for _, opt := range f.Options {
			l := opt.Label.Get(lang)
			if l == "" {
				l = opt.Value
			}
			lv.labels[opt.Value] = l
		}
		rw.op.labels[key] = lv
	}
	if rw.labels == nil {
		rw.labels = map[string]bool{}
	}
	rw.labels[key] = true
	ast.Patch(node, &ast.IdentifierNode{Value: key})
}

// optionVarOf builds the variable of option(f): the value, the English
// label and every free attribute of the options, typed by the values the
// options give (an attribute with whole and fractional numbers is a
// number; one some options lack reads as its zero value there).
func optionVarOf(f *metadata.Field, path []string) (*optionVar, types.Map) {
	kinds := map[string]string{}
	for _, opt := range f.Options {
		for k, v := range opt.Attrs {
			var kind string
			switch v.(type) {
			case int64, int:
				kind = "int"
			case float64:
				kind = "float"
			case string:
				kind = "string"
			case bool:
				kind = "bool"
			default:
				kind = "any"
			}
			switch prev := kinds[k]; {
			case prev == "" || prev == kind:
				kinds[k] = kind
			case (prev == "int" && kind == "float") || (prev == "float" && kind == "int"):
				kinds[k] = "float"
			default:
				kinds[k] = "any"
			}
		}
	}
	t := types.Map{"value": types.String, "label": types.String}
	zero := map[string]any{"value": "", "label": ""}
	for k, kind := range kinds {
		if k == "value" || k == "label" {
			continue
		}
		switch kind {
		case "int":
			t[k], zero[k] = types.Int, 0
		case "float":
			t[k], zero[k] = types.Float64, 0.0
		case "string":
			t[k], zero[k] = types.String, ""
		case "bool":
			t[k], zero[k] = types.Bool, false
		default:
			t[k], zero[k] = types.Any, nil
		}
	}
	ov := &optionVar{path: path, values: map[string]map[string]any{}, zero: zero}
	for _, opt := range f.Options {
		m := make(map[string]any, len(zero))
		for k, z := range zero {
			m[k] = z
		}
		m["value"], m["label"] = opt.Value, opt.Label.Get("en")
		for k, v := range opt.Attrs {
			if k == "value" || k == "label" {
				continue
			}
			switch kinds[k] {
			case "int":
				m[k] = int(v.(int64))
			case "float":
				switch x := v.(type) {
				case int64:
					m[k] = float64(x)
				default:
					m[k] = x
				}
			default:
				m[k] = v
			}
		}
		ov.values[opt.Value] = m
	}
	return ov, t
}

// isChildRef reports whether n names another object (child or
// child.lookup) rather than something of the expression's own
// environment.
func (rw *rewriter) isChildRef(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		if _, own := rw.env[x.Value]; own {
			return false
		}
		_, ok := childObject(rw.cc.schema, x.Value)
		return ok
	case *ast.MemberNode:
		return rw.isChildRef(x.Node)
	}
	return false
}

// rollup rewrites an aggregate over child records into a variable.
func (rw *rewriter) rollup(node *ast.Node, call *ast.CallNode, fn string) {
	o := rw.op.object
	if rw.kind != exprComputed && rw.kind != exprRule {
		rw.fail(call, "a roll-up can be used only in a computed field or a validation rule")
		return
	}
	// The child and the lookup it points back through.
	var childName, via string
	switch x := call.Arguments[0].(type) {
	case *ast.IdentifierNode:
		childName = x.Value
	case *ast.MemberNode:
		id, ok1 := x.Node.(*ast.IdentifierNode)
		prop, ok2 := x.Property.(*ast.StringNode)
		if !ok1 || !ok2 {
			rw.fail(x, "name the child as object or object.lookup_field")
			return
		}
		childName, via = id.Value, prop.Value
	}
	child, _ := childObject(rw.cc.schema, childName)
	if via == "" {
		var candidates []string
		for _, f := range child.Fields {
			if kindOf(f) == metadata.KindRef && f.Target == o.Name {
				candidates = append(candidates, f.Name)
			}
		}
		switch len(candidates) {
		case 0:
			rw.fail(call.Arguments[0], "%s has no lookup to %s", child.Name, o.Name)
			return
		case 1:
			via = candidates[0]
		default:
			rw.fail(call.Arguments[0], "%s has several lookups to %s (%s): write %s.%s", child.Name, o.Name, strings.Join(candidates, ", "), child.Name, candidates[0])
			return
		}
	} else if f, ok := child.Field(via); !ok || kindOf(f) != metadata.KindRef || f.Target != o.Name {
		rw.fail(call.Arguments[0], "%s.%s is not a lookup to %s", child.Name, via, o.Name)
		return
	}
	args := call.Arguments[1:]
	if len(args) > 0 && rw.consumeWhere(call.Arguments[0], args[0]) {
		// sum(children where condition, field): move the condition last.
		args = append(append([]ast.Node{}, args[1:]...), args[0])
	}
	spec := &RollupSpec{Object: o.Name, Func: fn, Child: child.Name, Via: via}
	if rw.field != nil {
		spec.Field = rw.field.Name
		spec.Whole = rw.kind == exprComputed && node == rw.root
	}
	var condNode ast.Node
	var valueKind metadata.Kind
	if fn == "count" {
		if len(args) > 1 {
			rw.fail(call, "count takes the child and optionally a condition: count(%s, condition)", child.Name)
			return
		}
		if len(args) == 1 {
			condNode = args[0]
		}
	} else {
		if len(args) < 1 || len(args) > 2 {
			rw.fail(call, "%s takes the child, a field of it and optionally a condition: %s(%s, field, condition)", fn, fn, child.Name)
			return
		}
		vid, ok := args[0].(*ast.IdentifierNode)
		var vf *metadata.Field
		if ok {
			vf, ok = child.FieldOrSystem(vid.Value)
		}
		if !ok {
			rw.fail(args[0], "%s needs a field of %s to aggregate", fn, child.Name)
			return
		}
		valueKind = kindOf(vf)
		switch {
		case (fn == "sum" || fn == "avg") && !valueKind.Numeric():
			rw.fail(args[0], "%s needs a number field; %s.%s is %s", fn, child.Name, vf.Name, valueKind)
			return
		case (fn == "min" || fn == "max") && !valueKind.Numeric() && valueKind != metadata.KindDate && valueKind != metadata.KindDateTime:
			rw.fail(args[0], "%s needs a number or date field; %s.%s is %s", fn, child.Name, vf.Name, valueKind)
			return
		}
		spec.ValueField, spec.value = vf.Name, vf
		if len(args) == 2 {
			condNode = args[1]
		}
	}
	reads := map[string]bool{via: true}
	if spec.ValueField != "" {
		reads[spec.ValueField] = true
	}
	if condNode != nil {
		cp, err := rw.cc.condition(child, rw.src, condNode)
		if err != nil {
			rw.err = err
			return
		}
		// The condition is compiled: its source may be printed with the
		// clock's calls again.
		clockSource(&condNode)
		spec.Condition, spec.cond, spec.creds = condNode.String(), cp.prog, cp.reads
		for k := range cp.reads.fields {
			reads[k] = true
		}
	}
	spec.Reads = sortedKeys(reads)
	var t types.Type
	switch {
	case fn == "count":
		t = types.Int
	case fn == "avg":
		t = types.Float64
	case valueKind == metadata.KindInt:
		t = types.Int
	case valueKind == metadata.KindDate || valueKind == metadata.KindDateTime:
		t = typeTime
	default:
		t = types.Float64
	}
	spec.key = fmt.Sprintf("_rollup_%s_%d", strings.ReplaceAll(rw.what(), " ", "_"), len(rw.rollups))
	rw.env[spec.key] = t
	rw.rollups = append(rw.rollups, spec)
	ast.Patch(node, &ast.IdentifierNode{Value: spec.key})
}

// consumeWhere reports whether a where keyword stands between the child
// and the next argument, and marks it as used.
func (rw *rewriter) consumeWhere(child, next ast.Node) bool {
	from, to := child.Location().From, next.Location().From
	for i, at := range rw.where {
		if at > from && at < to {
			rw.where = append(rw.where[:i], rw.where[i+1:]...)
			return true
		}
	}
	return false
}

// what names the expression being compiled, for variable names.
func (rw *rewriter) what() string {
	if rw.field != nil {
		return rw.field.Name
	}
	return fmt.Sprintf("rule%d", len(rw.op.rules))
}

// condition compiles the condition of a roll-up against the child object:
// a boolean over the child's own fields.
func (cc *schemaCompiler) condition(child *metadata.Object, src string, n ast.Node) (*program, error) {
	if err := guard(src, n); err != nil {
		return nil, err
	}
	env := cc.envOf(child)
	cfg := baseConfig(env)
	cfg.Expect, cfg.ExpectAny = reflect.Bool, true
	cfg.Check()
	tree := &parser.Tree{Node: n, Source: file.NewSource(src)}
	if _, err := new(checker.Checker).PatchAndCheck(tree, cfg); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, positioned(err)
		}
		return nil, formulaError(src, n.Location(), "the condition of a roll-up must be true or false (%v)", err)
	}
	rd := collectReads(cc.schema, child, tree.Node)
	if len(rd.paths) > 0 {
		return nil, formulaError(src, n.Location(), "the condition of a roll-up can read only fields of %s itself", child.Name)
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, fmt.Errorf("compile: %v", err)
	}
	return &program{source: n.String(), prog: prog, reads: rd}, nil
}

// collectReads walks a checked tree and records the fields it reads: own
// fields, and chains of lookups such as account.parent.name.
func collectReads(s *metadata.Schema, o *metadata.Object, root ast.Node) *reads {
	rd := newReads()
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		if chain, ok := memberChain(*n); ok {
			rd.addChain(s, o, chain)
		}
	}))
	return rd
}

// fieldOf returns a field formulas can read on object (a user for
// UserObject): its own fields, the system fields, and owner.
func fieldOf(s *metadata.Schema, object, name string) (*metadata.Field, bool) {
	if object == UserObject {
		for _, n := range UserFields {
			if n == name {
				return userField(name), true
			}
		}
		return nil, false
	}
	o, ok := s.Object(object)
	if !ok {
		return nil, false
	}
	if f, ok := o.FieldOrSystem(name); ok {
		return f, true
	}
	if name == OwnerField {
		return &metadata.Field{Name: OwnerField, Type: "lookup", Target: UserObject}, true
	}
	return nil, false
}

// resolveChain returns the field a chain such as account.industry ends on,
// starting from o and following at most MaxLookupDepth lookups.
func (cc *schemaCompiler) resolveChain(o *metadata.Object, chain []string) (*metadata.Field, bool) {
	if len(chain) == 0 || len(chain) > MaxLookupDepth+1 {
		return nil, false
	}
	object := o.Name
	var f *metadata.Field
	for i, name := range chain {
		var ok bool
		if f, ok = fieldOf(cc.schema, object, name); !ok {
			return nil, false
		}
		if i < len(chain)-1 {
			if kindOf(f) != metadata.KindRef {
				return nil, false
			}
			object = f.Target
		}
	}
	return f, true
}

// addChain records that an expression on o reads a.b.c: the own field a
// and, when a is a lookup, the fields along the path. Chains that do not
// start with a field of o (let variables, option() values) are ignored.
func (rd *reads) addChain(s *metadata.Schema, o *metadata.Object, chain []string) {
	if len(chain) == 0 {
		return
	}
	f, ok := fieldOf(s, o.Name, chain[0])
	if !ok {
		return
	}
	col := func(f *metadata.Field) string {
		if f.Name == OwnerField && f.Target == UserObject {
			return "owner_id"
		}
		return f.Name
	}
	rd.fields[col(f)] = true
	if kindOf(f) != metadata.KindRef || len(chain) == 1 {
		return
	}
	node := rd.paths[chain[0]]
	if node == nil {
		node = newPathNode(f.Target)
		rd.paths[chain[0]] = node
	}
	for i := 1; i < len(chain); i++ {
		tf, ok := fieldOf(s, node.object, chain[i])
		if !ok {
			return
		}
		node.fields[col(tf)] = true
		if kindOf(tf) != metadata.KindRef || i == len(chain)-1 {
			return
		}
		next := node.next[chain[i]]
		if next == nil {
			next = newPathNode(tf.Target)
			node.next[chain[i]] = next
		}
		node = next
	}
}

// memberChain returns the names of a.b.c (or a?.b, a["b"]) from its root
// identifier.
func memberChain(n ast.Node) ([]string, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return []string{x.Value}, true
	case *ast.ChainNode:
		return memberChain(x.Node)
	case *ast.MemberNode:
		prop, ok := x.Property.(*ast.StringNode)
		if !ok {
			return nil, false
		}
		base, ok := memberChain(x.Node)
		if !ok {
			return nil, false
		}
		return append(base, prop.Value), true
	}
	return nil, false
}

// visitorFunc adapts a function to ast.Visitor.
type visitorFunc func(*ast.Node)

// Visit calls f.
func (f visitorFunc) Visit(n *ast.Node) { f(n) }
