package query

import (
	"math"
	"strings"
	"time"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/expr-lang/expr/ast"
)

// isConst reports whether node names no field: such a sub-expression is
// evaluated once at compile time.
func isConst(node ast.Node) bool {
	switch n := node.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.ConstantNode:
		return true
	case *ast.UnaryNode:
		return isConst(n.Node)
	case *ast.BinaryNode:
		return isConst(n.Left) && isConst(n.Right)
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			if !isConst(e) {
				return false
			}
		}
		return true
	case *ast.CallNode:
		if _, ok := n.Callee.(*ast.IdentifierNode); !ok {
			return false
		}
		for _, a := range n.Arguments {
			if !isConst(a) {
				return false
			}
		}
		return true
	case *ast.BuiltinNode:
		for _, a := range n.Arguments {
			if !isConst(a) {
				return false
			}
		}
		return true
	case *ast.ConditionalNode:
		return isConst(n.Cond) && isConst(n.Exp1) && isConst(n.Exp2)
	}
	return false
}

// eval computes a constant sub-expression. Literals are read straight from
// the tree; anything else (function calls, arithmetic) runs once through
// formulas.EvalConstAt with the request's time.
func (c *compiler) eval(node ast.Node) (any, error) {
	switch n := node.(type) {
	case *ast.NilNode:
		return nil, nil
	case *ast.IntegerNode:
		return int64(n.Value), nil
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.StringNode:
		return checkText(node, n.Value)
	case *ast.ConstantNode:
		return n.Value, nil
	case *ast.UnaryNode:
		if n.Operator == "-" {
			switch x := n.Node.(type) {
			case *ast.IntegerNode:
				return -int64(x.Value), nil
			case *ast.FloatNode:
				return -x.Value, nil
			}
		}
	case *ast.ArrayNode:
		out := make([]any, len(n.Nodes))
		for i, e := range n.Nodes {
			v, err := c.eval(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	if call, ok := node.(*ast.CallNode); ok {
		if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == "me" {
			switch {
			case len(call.Arguments) > 0:
				return nil, errorf(pos(node), "", "me() takes no arguments: it is the id of the user reading")
			case c.opt.NoReader:
				return nil, errorf(pos(node), "", "me() is the user reading a list or report; no one reads through this filter, which holds for every user at once")
			}
			return c.opt.User, nil
		}
	}
	if c.evals++; c.evals > maxEvals {
		return nil, errorf(pos(node), "", "too many computed values in one filter (at most %d)", maxEvals)
	}
	src := node.String()
	c.usedNow = true
	v, err := formulas.EvalConstAt(src, c.now)
	if err != nil {
		msg := strings.TrimPrefix(firstLine(err.Error()), "formulas: ")
		return nil, errorf(pos(node), "", "cannot compute %s: %s", src, msg)
	}
	return checkText(node, normalizeConst(v))
}

// checkText refuses a constant that is, or is a list holding, text the
// databases cannot compare alike (metadata.TextProblem).
func checkText(node ast.Node, v any) (any, error) {
	switch x := v.(type) {
	case string:
		if p := metadata.TextProblem(x); p != "" {
			return nil, errorf(pos(node), "", "the text value %s", p)
		}
	case []any:
		for _, e := range x {
			if _, err := checkText(node, e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// maxEvals bounds the expr compilations one filter may cause.
const maxEvals = 32

// normalizeConst turns the result of expr into the few types literal
// handles: int64, float64, string, bool, time.Time, []any, nil.
func normalizeConst(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return x
		}
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []int:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = int64(s)
		}
		return out
	case time.Time:
		if x.IsZero() {
			return nil // the formula language's empty date
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeConst(e)
		}
	}
	return v
}

// firstLine returns the first line of an expr error (the rest is a snippet
// of our generated source, not the user's).
func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
