package query

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
)

// CompileFilter compiles a filter expression on obj into a SQL predicate.
// An empty (or blank) src gives an empty Predicate: no condition.
//
// Comparisons follow the formula language, not SQL: a field that is empty
// is "!=" every value and is in no list, so "stage != 'won'" and
// "!(amount > 100)" include the records where the field is not set.
func CompileFilter(src string, obj *metadata.Object, opt Options) (Predicate, error) {
	p, _, err := CompileFilterNow(src, obj, opt)
	return p, err
}

// CompileFilterNow is CompileFilter that also tells whether the predicate
// depends on opt.Now (a relative date range or a computed constant such
// as today() - 7): one that does not is the same at any time, so a caller
// may keep it for the same filter, object, options and principal.
func CompileFilterNow(src string, obj *metadata.Object, opt Options) (Predicate, bool, error) {
	if strings.TrimSpace(src) == "" {
		return Predicate{}, false, nil
	}
	p, c, err := compileFilter(src, obj, opt)
	return p, c != nil && c.usedNow, err
}

// compileFilter compiles a non-blank filter and returns the compiler's
// state with the predicate.
func compileFilter(src string, obj *metadata.Object, opt Options) (Predicate, *compiler, error) {
	if len(src) > MaxFilterLength {
		return Predicate{}, nil, errorf(0, "", "the filter is too long (at most %d bytes)", MaxFilterLength)
	}
	tree, err := parser.ParseWithConfig(src, parseConfig())
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			if strings.Contains(fe.Message, "maximum allowed nodes") {
				return Predicate{}, nil, errorf(0, "", "the filter is too large (at most %d parts)", MaxFilterNodes)
			}
			return Predicate{}, nil, errorf(fe.From, "", "syntax error: %s", plainSyntax(fe.Message))
		}
		return Predicate{}, nil, errorf(0, "", "syntax error: %s", plainSyntax(err.Error()))
	}
	n := 0
	ast.Find(tree.Node, func(ast.Node) bool { n++; return false })
	if n > MaxFilterNodes {
		return Predicate{}, nil, errorf(0, "", "the filter is too large (%d parts, at most %d)", n, MaxFilterNodes)
	}
	c := &compiler{opt: opt, root: obj, now: opt.now()}
	f, err := c.bool(tree.Node, false)
	if err != nil {
		return Predicate{}, c, err
	}
	return Predicate{SQL: f.sql, Args: f.args}, c, nil
}

// compiler holds the state of one compilation.
type compiler struct {
	opt  Options
	root *metadata.Object
	now  time.Time
	// usedNow records that the predicate depends on now.
	usedNow bool
	evals   int
	rules   map[string]Predicate // RecordRule results by object
}

// frag is a piece of SQL with its arguments, in placeholder order.
type frag struct {
	sql  string
	args []any
}

// cond is a leaf condition. sql is true exactly where the condition holds,
// false or NULL elsewhere; it is NULL only when one of the nullable
// expressions is NULL, which lets negation make the complement exact.
type cond struct {
	sql      string
	args     []any
	nullable []string
	// matchesNull is set when the condition holds for an empty value
	// (is_empty, == nil, != "x"): through a lookup it then also holds when
	// the lookup itself is not set.
	matchesNull bool
}

var (
	condTrue  = cond{sql: "1=1"}
	condFalse = cond{sql: "1=0"}
)

// frag returns the condition, or its exact complement when neg is set.
func (k cond) frag(neg bool) frag {
	if neg {
		k = k.not()
	}
	return frag{k.sql, k.args}
}

// not returns the exact complement of k: true where k is false or NULL.
func (k cond) not() cond {
	switch k.sql {
	case condTrue.sql:
		return condFalse
	case condFalse.sql:
		return condTrue
	}
	var b strings.Builder
	b.WriteString("(NOT (")
	b.WriteString(k.sql)
	b.WriteString(")")
	for _, n := range k.nullable {
		b.WriteString(" OR ")
		b.WriteString(n)
		b.WriteString(" IS NULL")
	}
	b.WriteString(")")
	return cond{sql: b.String(), args: k.args, matchesNull: !k.matchesNull}
}

// pos returns the source position of a node.
func pos(n ast.Node) int { return n.Location().From }

// bool compiles a node in boolean position; neg asks for its complement
// (negations are pushed down to the leaves).
func (c *compiler) bool(node ast.Node, neg bool) (frag, error) {
	switch n := node.(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return c.bool(n.Node, !neg)
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			and := n.Operator == "&&" || n.Operator == "and"
			if neg {
				and = !and // De Morgan
			}
			l, err := c.bool(n.Left, neg)
			if err != nil {
				return frag{}, err
			}
			r, err := c.bool(n.Right, neg)
			if err != nil {
				return frag{}, err
			}
			op := " OR "
			if and {
				op = " AND "
			}
			args := make([]any, 0, len(l.args)+len(r.args))
			return frag{"(" + l.sql + op + r.sql + ")", append(append(args, l.args...), r.args...)}, nil
		}
	case *ast.ChainNode:
		return c.bool(n.Node, neg)
	}
	k, err := c.leaf(node)
	if err != nil {
		return frag{}, err
	}
	return k.frag(neg), nil
}

// leaf compiles a condition that is not a boolean connective.
func (c *compiler) leaf(node ast.Node) (cond, error) {
	if isConst(node) {
		v, err := c.eval(node)
		if err != nil {
			return cond{}, err
		}
		b, ok := v.(bool)
		if !ok {
			return cond{}, errorf(pos(node), "", "a filter must be a condition (true or false), this part is %s", describe(v))
		}
		if b {
			return condTrue, nil
		}
		return condFalse, nil
	}
	switch n := node.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=", "<", "<=", ">", ">=":
			return c.compare(n)
		case "in":
			return c.in(n)
		case "contains", "startsWith", "endsWith":
			return c.text(n)
		}
		return cond{}, errorf(pos(n), "", "the operator %q cannot be used in a filter", n.Operator)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return cond{}, errorf(pos(n), "", "this call cannot be used in a filter")
		}
		return c.call(n, id.Value, n.Arguments)
	case *ast.BuiltinNode:
		return c.call(n, n.Name, n.Arguments)
	case *ast.IdentifierNode, *ast.MemberNode, *ast.ChainNode:
		r, err := c.ref(node)
		if err != nil {
			return cond{}, err
		}
		if r.kind() != metadata.KindBool {
			return cond{}, errorf(pos(node), r.field.Name, "%s is a %s field, not a condition: compare it with a value", r.name(), r.field.Type)
		}
		return r.wrap(cond{sql: r.col() + " = ?", args: []any{true}, nullable: []string{r.col()}}), nil
	}
	return cond{}, errorf(pos(node), "", "this part cannot be used in a filter: %s", node.String())
}

// ref is a field named by a filter: a field of the root object, or of an
// object reached through lookups (account.industry).
type ref struct {
	hops  []hop            // lookups from the root, outermost first
	obj   *metadata.Object // object holding field
	field *metadata.Field  // the field
	typ   metadata.FieldType
	pos   int
}

// hop is one lookup of a path: field of obj pointing at target, whose
// records are restricted by rule.
type hop struct {
	obj    *metadata.Object
	field  *metadata.Field
	target *metadata.Object
	rule   Predicate
}

func (r ref) kind() metadata.Kind { return r.typ.Kind() }

// name is the path as written (account.industry).
func (r ref) name() string {
	var b strings.Builder
	for _, h := range r.hops {
		b.WriteString(h.field.Name)
		b.WriteByte('.')
	}
	b.WriteString(r.field.Name)
	return b.String()
}

// col is the qualified column of the field in its own table.
func (r ref) col() string { return column(r.obj, r.field.Name) }

// column quotes table.column.
func column(obj *metadata.Object, field string) string {
	return store.Ident(obj.Name) + "." + store.Ident(field)
}

// wrap lifts a condition on the field's table to the root table through
// the lookups: lookup IN (SELECT id FROM target WHERE k). A condition that
// holds for an empty value (is_empty, == nil) also holds when a lookup on
// the way is not set.
func (r ref) wrap(k cond) cond {
	for i := len(r.hops) - 1; i >= 0; i-- {
		h := r.hops[i]
		lk := column(h.obj, h.field.Name)
		where, args := k.sql, k.args
		if !h.rule.Empty() {
			where = "(" + h.rule.SQL + ") AND " + where
			args = append(append([]any(nil), h.rule.Args...), args...)
		}
		sub := lk + " IN (SELECT " + column(h.target, "id") + " FROM " + store.Ident(h.target.Name) + " WHERE " + where + ")"
		if k.matchesNull {
			k = cond{sql: "(" + lk + " IS NULL OR " + sub + ")", args: args, matchesNull: true}
		} else {
			k = cond{sql: sub, args: args, nullable: []string{lk}}
		}
	}
	return k
}

// ref resolves an identifier or member path to a field, checking it with
// CheckField on the object that holds it.
func (c *compiler) ref(node ast.Node) (ref, error) {
	var names []string
	var poss []int
	for cur := node; ; {
		switch n := cur.(type) {
		case *ast.ChainNode:
			cur = n.Node
			continue
		case *ast.IdentifierNode:
			names = append(names, n.Value)
			poss = append(poss, pos(n))
		case *ast.MemberNode:
			p, ok := n.Property.(*ast.StringNode)
			if !ok || n.Method {
				return ref{}, errorf(pos(n), "", "only field names can follow a dot in a filter")
			}
			names = append(names, p.Value)
			poss = append(poss, pos(n.Property))
			cur = n.Node
			continue
		default:
			return ref{}, errorf(pos(cur), "", "expected a field name, found %s", cur.String())
		}
		break
	}
	// names were collected from the end of the path.
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
		poss[i], poss[j] = poss[j], poss[i]
	}
	if len(names)-1 > MaxPathDepth {
		return ref{}, errorf(poss[0], names[0], "the path %s is too long (at most %d lookups)", strings.Join(names, "."), MaxPathDepth)
	}
	r := ref{obj: c.root, pos: poss[0]}
	for i, name := range names {
		f, ok := r.obj.FieldOrSystem(name)
		if !ok {
			return ref{}, errorf(poss[i], name, "unknown field %q on %s", name, r.obj.Name)
		}
		if err := c.opt.check(r.obj.Name, name, poss[i]); err != nil {
			return ref{}, err
		}
		if i == len(names)-1 {
			r.field, r.typ = f, metadata.TypeOf(f)
			break
		}
		targetName, lookup := metadata.LookupTarget(f)
		if !lookup {
			return ref{}, errorf(poss[i], name, "%s is a %s field: only a lookup can be followed by a dot", name, f.Type)
		}
		var target *metadata.Object
		if c.opt.Schema != nil {
			target, _ = c.opt.Schema.Object(targetName)
		}
		if target == nil {
			return ref{}, errorf(poss[i], name, "the target %q of lookup %s is not known", targetName, name)
		}
		rule, err := c.rule(target.Name)
		if err != nil {
			return ref{}, err
		}
		r.hops = append(r.hops, hop{obj: r.obj, field: f, target: target, rule: rule})
		r.obj = target
	}
	return r, nil
}

// rule returns the record-level predicate of object, asking RecordRule
// once per compilation.
func (c *compiler) rule(object string) (Predicate, error) {
	if c.opt.RecordRule == nil {
		return Predicate{}, nil
	}
	if p, ok := c.rules[object]; ok {
		return p, nil
	}
	p, err := c.opt.RecordRule(object)
	if err != nil {
		return Predicate{}, err
	}
	if c.rules == nil {
		c.rules = map[string]Predicate{}
	}
	c.rules[object] = p
	return p, nil
}

// flip mirrors a comparison operator for swapped operands.
var flip = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// supports reports whether the field of r takes the operator family op.
func (r ref) supports(op metadata.FilterOp) bool { return metadata.SupportsFilter(r.field, op) }

// refuse explains why the field of r does not take op, from what it does
// take.
func (r ref) refuse(at int, op string) error {
	switch {
	case r.supports(metadata.FilterEqual):
		return errorf(at, r.field.Name, "%s is a %s field and cannot be compared with %s", r.name(), r.field.Type, op)
	case r.supports(metadata.FilterContains):
		return errorf(at, r.field.Name, "%s is a %s field: use contains or is_empty", r.name(), r.field.Type)
	case r.supports(metadata.FilterEmpty):
		return errorf(at, r.field.Name, "%s is a %s field: only is_empty can test it", r.name(), r.field.Type)
	}
	return errorf(at, r.field.Name, "%s is a %s field and cannot be filtered on", r.name(), r.field.Type)
}

// compare compiles ==, !=, <, <=, >, >=.
func (c *compiler) compare(n *ast.BinaryNode) (cond, error) {
	op := n.Operator
	if op == "!=" {
		// a != b is the complement of a == b, NULLs included.
		eq := *n
		eq.Operator = "=="
		k, err := c.compare(&eq)
		if err != nil {
			return cond{}, err
		}
		return k.not(), nil
	}
	left, right := n.Left, n.Right
	if isConst(left) && !isConst(right) {
		left, right = right, left
		op = flip[op]
	}
	r, err := c.ref(left)
	if err != nil {
		return cond{}, c.notField(left, err)
	}
	if !isConst(right) {
		return c.compareFields(n, r, op, right)
	}
	v, err := c.eval(right)
	if err != nil {
		return cond{}, err
	}
	if v == nil {
		if op != "==" {
			return cond{}, errorf(pos(n), r.field.Name, "%s cannot be compared with nil using %s: use == nil or != nil", r.name(), op)
		}
		return c.wrappedEmpty(r, pos(n))
	}
	if !r.supports(metadata.FilterEqual) || op != "==" && !r.supports(metadata.FilterOrder) {
		return cond{}, r.refuse(pos(n), op)
	}
	arg, ok, err := c.literal(r.field, v, op, pos(right))
	if err != nil {
		return cond{}, err
	}
	if !ok {
		return r.wrap(condFalse), nil
	}
	sqlOp := op
	if op == "==" {
		sqlOp = "="
	}
	return r.wrap(cond{sql: r.col() + " " + sqlOp + " ?", args: []any{arg}, nullable: []string{r.col()}}), nil
}

// notField explains an operand that is neither a field nor a constant.
func (c *compiler) notField(node ast.Node, err error) error {
	var qe *Error
	if !errors.As(err, &qe) {
		return err // CheckField's own error
	}
	switch node.(type) {
	case *ast.IdentifierNode, *ast.MemberNode, *ast.ChainNode:
		return err
	}
	return errorf(pos(node), "", "%s mixes fields with computation; a filter compares a field with a value", node.String())
}

// compareFields compiles a comparison of two fields of the root object.
func (c *compiler) compareFields(n *ast.BinaryNode, l ref, op string, right ast.Node) (cond, error) {
	r, err := c.ref(right)
	if err != nil {
		return cond{}, c.notField(right, err)
	}
	if len(l.hops) > 0 || len(r.hops) > 0 {
		return cond{}, errorf(pos(n), "", "two fields can be compared only on the same record, not through lookups")
	}
	lk, rk := l.kind(), r.kind()
	same := lk == rk || lk.Numeric() && rk.Numeric() && lk != metadata.KindMoney && rk != metadata.KindMoney
	if lk == metadata.KindMoney && rk == metadata.KindMoney &&
		l.field.ScaleOr(metadata.DefaultCurrencyScale) != r.field.ScaleOr(metadata.DefaultCurrencyScale) {
		same = false
	}
	if !same || !l.supports(metadata.FilterEqual) || !r.supports(metadata.FilterEqual) {
		return cond{}, errorf(pos(n), l.field.Name, "%s (%s) cannot be compared with %s (%s)", l.name(), l.field.Type, r.name(), r.field.Type)
	}
	if op != "==" && (!l.supports(metadata.FilterOrder) || !r.supports(metadata.FilterOrder)) {
		return cond{}, errorf(pos(n), l.field.Name, "%s is a %s field and cannot be compared with %s", l.name(), l.field.Type, op)
	}
	sqlOp := op
	if op == "==" {
		sqlOp = "="
	}
	return cond{sql: l.col() + " " + sqlOp + " " + r.col(), nullable: []string{l.col(), r.col()}}, nil
}

// wrappedEmpty is empty lifted to the root table.
func (c *compiler) wrappedEmpty(r ref, at int) (cond, error) {
	k, err := c.empty(r, at)
	if err != nil {
		return cond{}, err
	}
	return r.wrap(k), nil
}

// empty is the condition "the field has no value": NULL, and for text
// also the empty string (and an empty list for a multi-picklist); for a
// field kept in a link table, no link. It never yields NULL.
func (c *compiler) empty(r ref, at int) (cond, error) {
	if !r.supports(metadata.FilterEmpty) {
		return cond{}, errorf(at, r.field.Name, "%s is a %s field and cannot be tested for emptiness", r.name(), r.field.Type)
	}
	col := r.col()
	var k cond
	switch {
	case metadata.Linked(r.field):
		link := store.Ident(store.LinkTable(r.obj.Name, r.field.Name))
		k = cond{sql: "(NOT EXISTS (SELECT 1 FROM " + link + " WHERE " + link + "." + store.Ident("source_id") + " = " + column(r.obj, "id") + "))"}
	case r.kind() == metadata.KindString, r.kind() == metadata.KindRef, r.kind() == metadata.KindFile:
		k = cond{sql: "(" + col + " IS NULL OR " + col + " = '')"}
	case r.kind() == metadata.KindStringList:
		k = cond{sql: "(" + col + " IS NULL OR " + col + " = '' OR " + col + " = '[]')"}
	default:
		k = cond{sql: "(" + col + " IS NULL)"}
	}
	k.matchesNull = true
	return k, nil
}

// in compiles "x in [a, b]" (and, through negation, "x not in [...]"),
// and "value in tags" for a multi-picklist or many-to-many field.
func (c *compiler) in(n *ast.BinaryNode) (cond, error) {
	if isConst(n.Left) && !isConst(n.Right) {
		r, err := c.ref(n.Right)
		if err != nil {
			return cond{}, c.notField(n.Right, err)
		}
		return c.listContains(n, r, n.Left)
	}
	r, err := c.ref(n.Left)
	if err != nil {
		return cond{}, c.notField(n.Left, err)
	}
	if !isConst(n.Right) {
		return cond{}, errorf(pos(n.Right), "", "the right side of in must be a list of values")
	}
	if arr, ok := n.Right.(*ast.ArrayNode); ok && len(arr.Nodes) > MaxInList {
		return cond{}, errorf(pos(n.Right), r.field.Name, "the list has %d values, at most %d are allowed", len(arr.Nodes), MaxInList)
	}
	v, err := c.eval(n.Right)
	if err != nil {
		return cond{}, err
	}
	list, ok := v.([]any)
	if !ok {
		return cond{}, errorf(pos(n.Right), r.field.Name, "the right side of in must be a list, not %s", describe(v))
	}
	if len(list) > MaxInList {
		return cond{}, errorf(pos(n.Right), r.field.Name, "the list has %d values, at most %d are allowed", len(list), MaxInList)
	}
	if !r.supports(metadata.FilterEqual) {
		if r.supports(metadata.FilterContains) {
			return cond{}, errorf(pos(n), r.field.Name, "%s is a %s field: use contains", r.name(), r.field.Type)
		}
		return cond{}, r.refuse(pos(n), "in")
	}
	var args []any
	hasNil := false
	arr, _ := n.Right.(*ast.ArrayNode)
	for i, e := range list {
		if e == nil {
			hasNil = true
			continue
		}
		at := pos(n.Right)
		if arr != nil && len(arr.Nodes) == len(list) {
			at = pos(arr.Nodes[i])
		}
		arg, ok, err := c.literal(r.field, e, "==", at)
		if err != nil {
			return cond{}, err
		}
		if ok {
			args = append(args, arg)
		}
	}
	switch {
	case len(args) == 0 && hasNil:
		return c.wrappedEmpty(r, pos(n))
	case len(args) == 0:
		return r.wrap(condFalse), nil
	}
	k := cond{sql: store.In(r.col(), len(args)), args: args, nullable: []string{r.col()}}
	if hasNil {
		e, err := c.empty(r, pos(n))
		if err != nil {
			return cond{}, err
		}
		k = cond{sql: "(" + e.sql + " OR " + k.sql + ")", args: k.args, matchesNull: true}
	}
	return r.wrap(k), nil
}

// text compiles contains, startsWith and endsWith.
func (c *compiler) text(n *ast.BinaryNode) (cond, error) {
	r, err := c.ref(n.Left)
	if err != nil {
		return cond{}, c.notField(n.Left, err)
	}
	if !isConst(n.Right) {
		return cond{}, errorf(pos(n.Right), r.field.Name, "the right side of %s must be a value", n.Operator)
	}
	switch {
	case r.supports(metadata.FilterContains):
		if n.Operator != "contains" {
			return cond{}, errorf(pos(n), r.field.Name, "%s is a %s field: use contains", r.name(), r.field.Type)
		}
		return c.listContains(n, r, n.Right)
	case !r.supports(metadata.FilterText):
		return cond{}, errorf(pos(n), r.field.Name, "%s is a %s field: %s works on text", r.name(), r.field.Type, n.Operator)
	}
	v, err := c.eval(n.Right)
	if err != nil {
		return cond{}, err
	}
	s, ok := v.(string)
	if !ok {
		return cond{}, errorf(pos(n.Right), r.field.Name, "%s needs text on its right, not %s", n.Operator, describe(v))
	}
	pat := likeEscape(s)
	switch n.Operator {
	case "contains":
		pat = "%" + pat + "%"
	case "startsWith":
		pat += "%"
	case "endsWith":
		pat = "%" + pat
	}
	return r.wrap(cond{sql: "LOWER(" + r.col() + ") LIKE LOWER(?) ESCAPE '\\'", args: []any{pat}, nullable: []string{r.col()}}), nil
}

// listContains compiles "tags contains value" on a field kept in a link
// table (a many-to-many: a lookup in the link table) or one whose column
// holds a list (a multi-picklist: the type's metadata.Container search).
func (c *compiler) listContains(n *ast.BinaryNode, r ref, valueNode ast.Node) (cond, error) {
	v, err := c.eval(valueNode)
	if err != nil {
		return cond{}, err
	}
	s, ok := v.(string)
	if !ok {
		return cond{}, errorf(pos(valueNode), r.field.Name, "%s holds text values, not %s", r.name(), describe(v))
	}
	list, isList := r.typ.(metadata.Container)
	linked := metadata.Linked(r.field)
	if !r.supports(metadata.FilterContains) || !isList && !linked {
		return cond{}, errorf(pos(n), r.field.Name, "%s is a %s field, not a list", r.name(), r.field.Type)
	}
	if !linked {
		sql, arg := list.ContainsSQL(c.opt.Dialect, r.col(), s)
		return r.wrap(cond{sql: sql, args: []any{arg}, nullable: []string{r.col()}}), nil
	}
	if !metadata.ValidID(s) {
		return cond{}, errorf(pos(valueNode), r.field.Name, "%q is not a record id", s)
	}
	link := store.Ident(store.LinkTable(r.obj.Name, r.field.Name))
	sql := "EXISTS (SELECT 1 FROM " + link + " WHERE " + link + "." + store.Ident("source_id") + " = " + column(r.obj, "id") +
		" AND " + link + "." + store.Ident("target_id") + " = ?)"
	return r.wrap(cond{sql: sql, args: []any{s}}), nil
}

// call compiles is_empty(x) and the date ranges (this_week(x) …).
func (c *compiler) call(n ast.Node, name string, args []ast.Node) (cond, error) {
	if name == "is_empty" || name == "is_not_empty" {
		if len(args) != 1 {
			return cond{}, errorf(pos(n), "", "%s takes one field", name)
		}
		r, err := c.ref(args[0])
		if err != nil {
			return cond{}, c.notField(args[0], err)
		}
		k, err := c.wrappedEmpty(r, pos(args[0]))
		if err != nil {
			return cond{}, err
		}
		if name == "is_not_empty" {
			k = k.not()
		}
		return k, nil
	}
	rf, ok := dateRanges[name]
	if !ok {
		return cond{}, errorf(pos(n), "", "%s() cannot be used on a field in a filter", name)
	}
	want := 1
	if rangeTakesCount(name) {
		want = 2
	}
	if len(args) != want {
		if want == 2 {
			return cond{}, errorf(pos(n), "", "%s takes a date field and a number of days, as in %s(close_date, 7)", name, name)
		}
		return cond{}, errorf(pos(n), "", "%s takes one date field, as in %s(close_date)", name, name)
	}
	r, err := c.ref(args[0])
	if err != nil {
		return cond{}, c.notField(args[0], err)
	}
	if !r.supports(metadata.FilterDateRange) {
		return cond{}, errorf(pos(args[0]), r.field.Name, "%s is a %s field: %s needs a date or datetime", r.name(), r.field.Type, name)
	}
	days := 0
	if want == 2 {
		if !isConst(args[1]) {
			return cond{}, errorf(pos(args[1]), "", "the number of days must be a value")
		}
		v, err := c.eval(args[1])
		if err != nil {
			return cond{}, err
		}
		d, ok, err := scaledInt(v, 0, exact)
		if err != nil || !ok || d < 1 || d > maxRangeDays {
			return cond{}, errorf(pos(args[1]), "", "the number of days must be a whole number from 1 to %d", maxRangeDays)
		}
		days = int(d)
	}
	c.usedNow = true
	from, to := rf(midnight(c.now), days)
	var a, b any
	if r.kind() == metadata.KindDate {
		a, b = from.Format(metadata.DateLayout), to.Format(metadata.DateLayout)
	} else {
		a, b = metadata.DBValue(c.opt.Dialect, from.UTC()), metadata.DBValue(c.opt.Dialect, to.UTC())
	}
	col := r.col()
	return r.wrap(cond{sql: "(" + col + " >= ? AND " + col + " < ?)", args: []any{a, b}, nullable: []string{col}}), nil
}

// String describes a predicate for debugging.
func (p Predicate) String() string { return fmt.Sprintf("%s %v", p.SQL, p.Args) }

// parseConfig makes the parser read the filter as the formula language
// does: registered functions are calls (not expr builtins) and "if" is a
// function, not a statement.
var parseConfig = sync.OnceValue(func() *conf.Config {
	c := conf.CreateNew()
	// An empty typed map as the environment keeps the parser's lookups
	// read-only, so one config serves concurrent parses.
	c.WithEnv(types.Map{})
	for _, o := range formulas.Functions() {
		o(c)
	}
	c.MaxNodes = MaxFilterNodes
	return c
})

// plainSyntax keeps the parser's own words and drops the Go detail some of
// its messages carry ("invalid integer literal: strconv.ParseInt: …").
func plainSyntax(msg string) string {
	if i := strings.Index(msg, ": strconv."); i >= 0 {
		return msg[:i] + " (too large or malformed)"
	}
	return msg
}
