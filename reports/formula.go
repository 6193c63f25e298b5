package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
)

// A row formula is type-checked by package formulas (the same rules as a
// computed field) and then translated into one SQL expression, so that
// grouping and aggregation stay in the database. Numbers are kept exact:
// an integer, a currency amount (integer minor units) or a decimal
// literal is an integer SQL expression num with a constant denominator
// den (the value is num / den); +, -, *, and / by a constant keep that
// form, and a currency result is rounded half away from zero to its scale
// in integer arithmetic, as a stored computed field is. Decimal and
// percent fields (stored as binary floating point) and division by a field
// give floating point.

// tkind is the class of a translated expression.
type tkind int

const (
	tExact tkind = iota // integer SQL num, value num / den
	tFloat              // floating point SQL
	tText
	tBool // a SQL condition
)

// maxDen bounds the denominators kept exact (beyond it the value is taken
// as floating point).
const maxDen = 1_000_000_000_000

// term is a translated expression.
type term struct {
	kind  tkind
	den   int64
	konst *big.Rat // the value when it is a number constant
	// nonNeg is set when the value is never negative (fields with min 0,
	// positive constants, products and sums of those): rounding then
	// needs no sign test.
	nonNeg bool
	// nullable is set when the value may be NULL (a division by zero);
	// every field is read as its zero value when empty.
	nullable bool
	sql      func(e *Emitter) string
}

// Emitter writes the SQL of a plan's expressions for one query.
type Emitter struct {
	// Dialect is metadata.DialectSQLite or metadata.DialectPostgres.
	Dialect string
	// Col returns the qualified column of a field reached from the base
	// object.
	Col func(r *Ref) string
}

// SQL returns the expression of the formula's value in its storage form
// (currency as integer minor units, booleans as conditions made values).
func (f *RowFormula) SQL(e *Emitter) string { return f.expr.sql(e) }

// Nullable reports whether the formula's value may be empty (a division
// by zero); otherwise counting its values is counting records.
func (f *RowFormula) Nullable() bool { return f.expr.nullable }

// formulaParse is the parser configuration of formulas (functions are
// calls, if is a function).
var formulaParse = sync.OnceValue(func() *conf.Config {
	c := conf.CreateNew()
	c.WithEnv(types.Map{})
	for _, o := range formulas.Functions() {
		o(c)
	}
	c.MaxNodes = formulas.MaxNodes
	return c
})

// formula checks and translates a row formula.
func (c *compiler) formula(f *Formula, path string) *RowFormula {
	tree, err := parser.ParseWithConfig(f.Formula, formulaParse())
	if err != nil {
		c.fail(path+"/formula", "%v", err)
		return nil
	}
	tr := &translator{c: c}
	t, err := tr.node(tree.Node)
	if err != nil {
		c.fail(path+"/formula", "%v", err)
		return nil
	}
	typ := f.Type
	if typ == "" {
		typ = map[tkind]string{tExact: "decimal", tFloat: "decimal", tText: "text", tBool: "boolean"}[t.kind]
	}
	field := &metadata.Field{Name: f.Name, Type: typ, Label: f.Label, Scale: f.Scale}
	if field.Label == nil {
		field.Label = metadata.Label{"en": f.Name}
	}
	in, err := formulas.CheckExpr(c.s, c.o, f.Formula, field)
	if err != nil {
		c.fail(path+"/formula", "%v", err)
		return nil
	}
	if len(in.Rollups) > 0 {
		c.fail(path+"/formula", "a report formula cannot aggregate child records; use a computed field on %s", c.o.Name)
		return nil
	}
	out, err := finish(t, field)
	if err != nil {
		c.fail(path+"/type", "%v", err)
		return nil
	}
	return &RowFormula{Def: f, Field: field, Reads: in.Fields, Refs: tr.refs, expr: out}
}

// errUnsupported explains a formula part that has no SQL translation.
var errUnsupported = errors.New("reports: not computed in SQL")

// translator turns a formula's syntax tree into a term.
type translator struct {
	c    *compiler
	refs []*Ref
}

func (tr *translator) unsupported(n ast.Node, what string) error {
	return fmt.Errorf("%w: %s (%s) is not available in report formulas, which run in the database; use arithmetic, comparisons, && || !, if(c, a, b), abs, round, option(x).attribute and label(x), or a computed field of the object", errUnsupported, what, n.String())
}

// node translates one node.
func (tr *translator) node(n ast.Node) (*term, error) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return constant(new(big.Rat).SetInt64(int64(x.Value))), nil
	case *ast.FloatNode:
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(x.Value, 'f', -1, 64))
		if !ok {
			return nil, tr.unsupported(n, "this number")
		}
		return constant(r), nil
	case *ast.StringNode:
		lit := quote(x.Value)
		return &term{kind: tText, sql: func(*Emitter) string { return lit }}, nil
	case *ast.BoolNode:
		lit := map[bool]string{true: "(1=1)", false: "(1=0)"}[x.Value]
		return &term{kind: tBool, sql: func(*Emitter) string { return lit }}, nil
	case *ast.ChainNode:
		return tr.node(x.Node)
	case *ast.IdentifierNode, *ast.MemberNode:
		if m, ok := n.(*ast.MemberNode); ok {
			if call, ok := m.Node.(*ast.CallNode); ok {
				return tr.option(m, call)
			}
		}
		return tr.field(n)
	case *ast.UnaryNode:
		t, err := tr.node(x.Node)
		if err != nil {
			return nil, err
		}
		switch x.Operator {
		case "-":
			return negate(t), nil
		case "+":
			return t, nil
		case "!", "not":
			return &term{kind: tBool, sql: func(e *Emitter) string { return "(NOT " + t.sql(e) + ")" }}, nil
		}
	case *ast.BinaryNode:
		return tr.binary(x)
	case *ast.ConditionalNode:
		return tr.conditional(x.Cond, x.Exp1, x.Exp2)
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok {
			break
		}
		switch id.Value {
		case "if":
			if len(x.Arguments) == 3 {
				return tr.conditional(x.Arguments[0], x.Arguments[1], x.Arguments[2])
			}
		case "abs":
			if len(x.Arguments) == 1 {
				t, err := tr.node(x.Arguments[0])
				if err != nil {
					return nil, err
				}
				return &term{kind: t.kind, den: t.den, nonNeg: true, nullable: t.nullable, sql: func(e *Emitter) string { return "ABS(" + t.sql(e) + ")" }}, nil
			}
		case "round":
			return tr.round(x)
		case "label":
			return tr.label(x)
		}
		return nil, tr.unsupported(n, id.Value+"()")
	}
	return nil, tr.unsupported(n, "this part")
}

// field translates a field or a path through lookups.
func (tr *translator) field(n ast.Node) (*term, error) {
	path, ok := memberPath(n)
	if !ok {
		return nil, tr.unsupported(n, "this part")
	}
	if strings.HasPrefix(path, formulas.OwnerField+".") {
		return nil, tr.unsupported(n, "owner")
	}
	probe := &compiler{s: tr.c.s, o: tr.c.o}
	ref := probe.ref(path, "")
	if ref == nil {
		return nil, fmt.Errorf("%s", probe.ps[0].Message)
	}
	tr.refs = append(tr.refs, ref)
	f := ref.Field
	nonNeg := f.Min != nil && *f.Min >= 0
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindInt:
		return &term{kind: tExact, den: 1, nonNeg: nonNeg, sql: func(e *Emitter) string { return "COALESCE(" + e.Col(ref) + ", 0)" }}, nil
	case metadata.KindMoney:
		return &term{kind: tExact, den: pow10(f.ScaleOr(metadata.DefaultCurrencyScale)), nonNeg: nonNeg, sql: func(e *Emitter) string { return "COALESCE(" + e.Col(ref) + ", 0)" }}, nil
	case metadata.KindFloat:
		return &term{kind: tFloat, nonNeg: nonNeg, sql: func(e *Emitter) string { return "COALESCE(" + e.Col(ref) + ", 0)" }}, nil
	case metadata.KindString, metadata.KindRef:
		return &term{kind: tText, sql: func(e *Emitter) string { return "COALESCE(" + e.Col(ref) + ", '')" }}, nil
	case metadata.KindBool:
		return &term{kind: tBool, sql: func(e *Emitter) string { return "COALESCE(" + e.Col(ref) + ", FALSE)" }}, nil
	}
	return nil, tr.unsupported(n, "a "+f.Type+" field")
}

// memberPath reads a.b.c.
func memberPath(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return x.Value, true
	case *ast.ChainNode:
		return memberPath(x.Node)
	case *ast.MemberNode:
		p, ok := x.Property.(*ast.StringNode)
		if !ok || x.Method {
			return "", false
		}
		head, ok := memberPath(x.Node)
		return head + "." + p.Value, ok
	}
	return "", false
}

// picklistRef resolves the picklist argument of option() or label().
func (tr *translator) picklistRef(call *ast.CallNode) (*Ref, error) {
	if len(call.Arguments) == 0 {
		return nil, fmt.Errorf("%s() takes a picklist field", call.Callee.String())
	}
	path, ok := memberPath(call.Arguments[0])
	if !ok {
		return nil, tr.unsupported(call, call.Callee.String()+"()")
	}
	probe := &compiler{s: tr.c.s, o: tr.c.o}
	ref := probe.ref(path, "")
	if ref == nil {
		return nil, fmt.Errorf("%s", probe.ps[0].Message)
	}
	if !metadata.SingleOption(ref.Field) {
		return nil, fmt.Errorf("%s takes a picklist field; %s is %s", call.Callee.String(), path, ref.Field.Type)
	}
	tr.refs = append(tr.refs, ref)
	return ref, nil
}

// option translates option(x).attribute into a CASE over the options.
func (tr *translator) option(m *ast.MemberNode, call *ast.CallNode) (*term, error) {
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "option" {
		return nil, tr.unsupported(m, "this call")
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return nil, tr.unsupported(m, "this attribute")
	}
	ref, err := tr.picklistRef(call)
	if err != nil {
		return nil, err
	}
	attr := prop.Value
	if attr == "value" || attr == "label" {
		vals := map[string]string{}
		for _, o := range ref.Field.Options {
			vals[o.Value] = map[bool]string{true: o.Value, false: o.Label.Get("en")}[attr == "value"]
		}
		return caseText(ref, vals), nil
	}
	nums := map[string]*big.Rat{}
	texts := map[string]string{}
	for _, o := range ref.Field.Options {
		v, ok := o.Attrs[attr]
		if !ok {
			continue
		}
		if r := toRat(v); r != nil {
			nums[o.Value] = r
		} else if s, ok := v.(string); ok {
			texts[o.Value] = s
		}
	}
	if len(texts) > 0 {
		return caseText(ref, texts), nil
	}
	den := int64(1)
	nonNeg := true
	for _, r := range nums {
		den = lcm(den, r.Denom().Int64())
		nonNeg = nonNeg && r.Sign() >= 0
	}
	if den > maxDen {
		return nil, fmt.Errorf("the values of %s of %s are too fine to add exactly", attr, ref.Path)
	}
	var b strings.Builder
	for _, o := range ref.Field.Options {
		r, ok := nums[o.Value]
		if !ok {
			continue
		}
		n := new(big.Int).Mul(r.Num(), big.NewInt(den))
		n.Quo(n, r.Denom())
		fmt.Fprintf(&b, " WHEN %s THEN %s", quote(o.Value), n.String())
	}
	whens := b.String()
	if whens == "" {
		return constant(new(big.Rat)), nil
	}
	return &term{kind: tExact, den: den, nonNeg: nonNeg, sql: func(e *Emitter) string {
		return "(CASE " + e.Col(ref) + whens + " ELSE 0 END)"
	}}, nil
}

// label translates label(x[, lang]).
func (tr *translator) label(call *ast.CallNode) (*term, error) {
	ref, err := tr.picklistRef(call)
	if err != nil {
		return nil, err
	}
	lang := "en"
	if len(call.Arguments) == 2 {
		s, ok := call.Arguments[1].(*ast.StringNode)
		if !ok {
			return nil, tr.unsupported(call, "label() with a language that is not a quoted code")
		}
		lang = s.Value
	}
	vals := map[string]string{}
	for _, o := range ref.Field.Options {
		l := o.Label.Get(lang)
		if l == "" {
			l = o.Value
		}
		vals[o.Value] = l
	}
	return caseText(ref, vals), nil
}

// caseText maps the options of a picklist to texts.
func caseText(ref *Ref, vals map[string]string) *term {
	var b strings.Builder
	for _, o := range ref.Field.Options {
		if v, ok := vals[o.Value]; ok {
			fmt.Fprintf(&b, " WHEN %s THEN %s", quote(o.Value), quote(v))
		}
	}
	whens := b.String()
	return &term{kind: tText, sql: func(e *Emitter) string {
		if whens == "" {
			return "''"
		}
		return "(CASE " + e.Col(ref) + whens + " ELSE '' END)"
	}}
}

// round translates round(x) and round(x, places).
func (tr *translator) round(call *ast.CallNode) (*term, error) {
	if len(call.Arguments) < 1 || len(call.Arguments) > 2 {
		return nil, fmt.Errorf("round takes a number and optionally a number of places")
	}
	t, err := tr.node(call.Arguments[0])
	if err != nil {
		return nil, err
	}
	places := 0
	if len(call.Arguments) == 2 {
		p, ok := call.Arguments[1].(*ast.IntegerNode)
		if !ok || p.Value < 0 || p.Value > 6 {
			return nil, tr.unsupported(call, "round() with places other than a whole number from 0 to 6")
		}
		places = p.Value
	}
	return roundTo(t, places), nil
}

// conditional translates c ? a : b.
func (tr *translator) conditional(cn, an, bn ast.Node) (*term, error) {
	c, err := tr.node(cn)
	if err != nil {
		return nil, err
	}
	a, err := tr.node(an)
	if err != nil {
		return nil, err
	}
	b, err := tr.node(bn)
	if err != nil {
		return nil, err
	}
	a, b = unify(a, b)
	if a.kind != b.kind {
		return nil, fmt.Errorf("the branches of a condition give different kinds of values")
	}
	return &term{kind: a.kind, den: a.den, nonNeg: a.nonNeg && b.nonNeg, nullable: a.nullable || b.nullable || c.nullable, sql: func(e *Emitter) string {
		return "(CASE WHEN " + c.sql(e) + " THEN " + a.sql(e) + " ELSE " + b.sql(e) + " END)"
	}}, nil
}

// binary translates arithmetic, comparisons and logic.
func (tr *translator) binary(n *ast.BinaryNode) (*term, error) {
	a, err := tr.node(n.Left)
	if err != nil {
		return nil, err
	}
	b, err := tr.node(n.Right)
	if err != nil {
		return nil, err
	}
	op := n.Operator
	switch op {
	case "&&", "and", "||", "or":
		sqlOp := map[bool]string{true: " AND ", false: " OR "}[op == "&&" || op == "and"]
		return &term{kind: tBool, sql: func(e *Emitter) string { return "(" + a.sql(e) + sqlOp + b.sql(e) + ")" }}, nil
	case "==", "!=", "<", "<=", ">", ">=":
		a, b = unify(a, b)
		sqlOp := map[string]string{"==": " = ", "!=": " <> "}[op]
		if sqlOp == "" {
			sqlOp = " " + op + " "
		}
		return &term{kind: tBool, sql: func(e *Emitter) string { return "(" + a.sql(e) + sqlOp + b.sql(e) + ")" }}, nil
	case "+":
		if a.kind == tText && b.kind == tText {
			return &term{kind: tText, sql: func(e *Emitter) string { return "(" + a.sql(e) + " || " + b.sql(e) + ")" }}, nil
		}
		return add(a, b, "+"), nil
	case "-":
		return add(a, b, "-"), nil
	case "*":
		return mul(a, b), nil
	case "/":
		return div(a, b), nil
	}
	return nil, tr.unsupported(n, "the operator "+op)
}

// constant is a number constant.
func constant(r *big.Rat) *term {
	den := r.Denom()
	if !den.IsInt64() || den.Int64() > maxDen || !r.Num().IsInt64() {
		f, _ := r.Float64()
		lit := strconv.FormatFloat(f, 'g', -1, 64)
		return &term{kind: tFloat, konst: r, nonNeg: r.Sign() >= 0, sql: func(*Emitter) string { return lit }}
	}
	lit := r.Num().String()
	return &term{kind: tExact, den: den.Int64(), konst: r, nonNeg: r.Sign() >= 0, sql: func(*Emitter) string { return lit }}
}

// asFloat turns a number into floating point SQL.
func asFloat(t *term) *term {
	if t.kind != tExact {
		return t
	}
	return &term{kind: tFloat, konst: t.konst, nonNeg: t.nonNeg, nullable: t.nullable, sql: func(e *Emitter) string {
		return "(CAST(" + t.sql(e) + " AS " + floatType(e.Dialect) + ") / " + strconv.FormatInt(t.den, 10) + ")"
	}}
}

// floatType is the SQL floating point type.
func floatType(dialect string) string {
	if dialect == metadata.DialectPostgres {
		return "DOUBLE PRECISION"
	}
	return "REAL"
}

// scaled returns the numerator of t over the denominator den (a multiple
// of t.den).
func scaled(t *term, den int64) func(e *Emitter) string {
	if den == t.den {
		return t.sql
	}
	f := strconv.FormatInt(den/t.den, 10)
	return func(e *Emitter) string { return "(" + t.sql(e) + " * " + f + ")" }
}

// unify brings two numbers to one form: a common denominator, or
// floating point.
func unify(a, b *term) (*term, *term) {
	if a.kind == tExact && b.kind == tExact {
		l := lcm(a.den, b.den)
		if l <= maxDen {
			return &term{kind: tExact, den: l, konst: a.konst, nonNeg: a.nonNeg, nullable: a.nullable, sql: scaled(a, l)},
				&term{kind: tExact, den: l, konst: b.konst, nonNeg: b.nonNeg, nullable: b.nullable, sql: scaled(b, l)}
		}
	}
	if a.kind == tExact && b.kind == tFloat || a.kind == tExact && b.kind == tExact {
		a = asFloat(a)
	}
	if b.kind == tExact && a.kind == tFloat {
		b = asFloat(b)
	}
	return a, b
}

// add adds or subtracts.
func add(a, b *term, op string) *term {
	a, b = unify(a, b)
	return &term{kind: a.kind, den: a.den, nonNeg: op == "+" && a.nonNeg && b.nonNeg, nullable: a.nullable || b.nullable,
		sql: func(e *Emitter) string { return "(" + a.sql(e) + " " + op + " " + b.sql(e) + ")" }}
}

// mul multiplies.
func mul(a, b *term) *term {
	nonNeg, nullable := a.nonNeg && b.nonNeg, a.nullable || b.nullable
	if a.kind == tExact && b.kind == tExact && a.den <= maxDen/b.den {
		return &term{kind: tExact, den: a.den * b.den, nonNeg: nonNeg, nullable: nullable, sql: func(e *Emitter) string { return "(" + a.sql(e) + " * " + b.sql(e) + ")" }}
	}
	a, b = asFloat(a), asFloat(b)
	return &term{kind: tFloat, nonNeg: nonNeg, nullable: nullable, sql: func(e *Emitter) string { return "(" + a.sql(e) + " * " + b.sql(e) + ")" }}
}

// div divides: exactly by a constant, in floating point otherwise (by
// zero gives no value).
func div(a, b *term) *term {
	if a.kind == tExact && b.konst != nil && b.konst.Sign() != 0 {
		p, q := new(big.Int).Abs(b.konst.Num()), b.konst.Denom()
		if p.IsInt64() && q.IsInt64() && p.Int64() <= maxDen/a.den {
			neg := b.konst.Sign() < 0
			num := mul(a, constant(new(big.Rat).SetInt(q)))
			den := a.den * p.Int64()
			return &term{kind: tExact, den: den, nonNeg: a.nonNeg && !neg, nullable: a.nullable, sql: func(e *Emitter) string {
				if neg {
					return "(-" + num.sql(e) + ")"
				}
				return num.sql(e)
			}}
		}
	}
	nonNeg := a.nonNeg && b.nonNeg
	a, b = asFloat(a), asFloat(b)
	return &term{kind: tFloat, nonNeg: nonNeg, nullable: true, sql: func(e *Emitter) string { return "(" + a.sql(e) + " / NULLIF(" + b.sql(e) + ", 0))" }}
}

// negate changes the sign of a number.
func negate(t *term) *term {
	var k *big.Rat
	if t.konst != nil {
		k = new(big.Rat).Neg(t.konst)
	}
	return &term{kind: t.kind, den: t.den, konst: k, nonNeg: k != nil && k.Sign() >= 0, nullable: t.nullable, sql: func(e *Emitter) string { return "(-" + t.sql(e) + ")" }}
}

// roundTo rounds a number to places decimals, half away from zero: an
// exact number in integer arithmetic, a floating one through NUMERIC in
// PostgreSQL (whose round of a double rounds half to even) and ROUND in
// SQLite.
func roundTo(t *term, places int) *term {
	target := pow10(places)
	if t.kind == tExact {
		g := gcd(target, t.den)
		mf, d := target/g, t.den/g
		m := t.sql
		if mf != 1 {
			m = func(e *Emitter) string { return "(" + t.sql(e) + " * " + strconv.FormatInt(mf, 10) + ")" }
		}
		out := &term{kind: tExact, den: target, nonNeg: t.nonNeg, nullable: t.nullable, sql: m}
		switch {
		case d == 1:
		case t.nonNeg && d%2 == 0:
			half, ds := strconv.FormatInt(d/2, 10), strconv.FormatInt(d, 10)
			out.sql = func(e *Emitter) string { return "((" + m(e) + " + " + half + ") / " + ds + ")" }
		case t.nonNeg:
			ds, d2 := strconv.FormatInt(d, 10), strconv.FormatInt(2*d, 10)
			out.sql = func(e *Emitter) string { return "((2 * " + m(e) + " + " + ds + ") / " + d2 + ")" }
		default:
			ds, d2 := strconv.FormatInt(d, 10), strconv.FormatInt(2*d, 10)
			out.sql = func(e *Emitter) string {
				x := m(e)
				return "((2 * " + x + " + CASE WHEN " + x + " < 0 THEN -" + ds + " ELSE " + ds + " END) / " + d2 + ")"
			}
		}
		return out
	}
	if t.kind != tFloat {
		return t
	}
	ts := strconv.FormatInt(target, 10)
	return &term{kind: tExact, den: target, nonNeg: t.nonNeg, nullable: t.nullable, sql: func(e *Emitter) string {
		if e.Dialect == metadata.DialectPostgres {
			return "CAST(ROUND(CAST(" + t.sql(e) + " AS NUMERIC) * " + ts + ") AS BIGINT)"
		}
		return "CAST(ROUND(" + t.sql(e) + " * " + ts + ") AS INTEGER)"
	}}
}

// finish converts a formula's term to the storage form of its field.
func finish(t *term, f *metadata.Field) (*term, error) {
	k := metadata.TypeOf(f).Kind()
	switch {
	case k == metadata.KindMoney && (t.kind == tExact || t.kind == tFloat):
		return roundTo(t, f.ScaleOr(metadata.DefaultCurrencyScale)), nil
	case k == metadata.KindInt && (t.kind == tExact || t.kind == tFloat):
		return roundTo(t, 0), nil
	case k == metadata.KindFloat && (t.kind == tExact || t.kind == tFloat):
		return asFloat(t), nil
	case k == metadata.KindString && t.kind == tText:
		return t, nil
	case k == metadata.KindBool && t.kind == tBool:
		return &term{kind: tBool, nullable: t.nullable, sql: func(e *Emitter) string { return "(CASE WHEN " + t.sql(e) + " THEN TRUE ELSE FALSE END)" }}, nil
	}
	return nil, fmt.Errorf("the formula's value cannot be a %s", f.Type)
}

// toRat reads a number attribute.
func toRat(v any) *big.Rat {
	switch x := v.(type) {
	case int:
		return new(big.Rat).SetInt64(int64(x))
	case int64:
		return new(big.Rat).SetInt64(x)
	case float64:
		r, _ := new(big.Rat).SetString(strconv.FormatFloat(x, 'f', -1, 64))
		return r
	case json.Number:
		r, _ := new(big.Rat).SetString(string(x))
		return r
	}
	return nil
}

// quote writes a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 {
	g := gcd(a, b)
	if a/g > maxDen/b+1 {
		return maxDen + 1
	}
	return a / g * b
}
