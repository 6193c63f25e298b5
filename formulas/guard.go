package formulas

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// guard refuses the constructs that could make one evaluation expensive
// without allocating (which MemoryBudget bounds): large or computed ranges
// (1..1000000000), loops inside loops (a predicate such as all, map or reduce inside
// another) and $env, which would also hide what a formula reads from the
// dependency graph.
func guard(src string, root ast.Node) error {
	var err error
	fail := func(n ast.Node, msg string) {
		if err == nil {
			err = formulaError(src, n.Location(), "%s", msg)
		}
	}
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		switch x := (*n).(type) {
		case *ast.BinaryNode:
			if x.Operator == ".." {
				lo, ok1 := intLiteral(x.Left)
				hi, ok2 := intLiteral(x.Right)
				if !ok1 || !ok2 || hi-lo > MaxRange {
					fail(x, fmt.Sprintf("a range (a..b) needs whole-number literals at most %d apart", MaxRange))
				}
			}
		case *ast.IdentifierNode:
			if x.Value == "$env" {
				fail(x, "$env is not available in formulas")
			}
		case *ast.BuiltinNode:
			for _, a := range x.Arguments {
				p, ok := a.(*ast.PredicateNode)
				if !ok {
					continue
				}
				if inner := ast.Find(p.Node, isLoop); inner != nil {
					fail(inner, "a loop inside another loop ("+x.Name+") is not available in formulas")
				}
			}
		}
	}))
	return err
}

// MaxRange is the largest range (a..b) a formula may write.
const MaxRange = 10_000

// intLiteral returns the value of an integer literal such as 3 or -3.
func intLiteral(n ast.Node) (int, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.UnaryNode:
		if v, ok := intLiteral(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

// isLoop reports whether n is a builtin that runs a predicate (all, map,
// reduce …).
func isLoop(n ast.Node) bool {
	b, ok := n.(*ast.BuiltinNode)
	if !ok {
		return false
	}
	for _, a := range b.Arguments {
		if _, ok := a.(*ast.PredicateNode); ok {
			return true
		}
	}
	return false
}

// compileChecked parses src with cfg, guards and checks it, and compiles
// it; rewrite, if not nil, runs between parsing and checking.
// It also returns the type the checker found (nil when unknown).
func compileChecked(cfg *conf.Config, src string, rewrite func(*parser.Tree) error) (*vm.Program, *parser.Tree, reflect.Type, error) {
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, nil, nil, positioned(err)
	}
	if err := guard(src, tree.Node); err != nil {
		return nil, nil, nil, err
	}
	if rewrite != nil {
		if err := rewrite(tree); err != nil {
			return nil, nil, nil, err
		}
	}
	cfg.Check()
	t, err := new(checker.Checker).PatchAndCheck(tree, cfg)
	if err != nil {
		return nil, tree, nil, err
	}
	if cfg.Optimize {
		if err := optimizer.Optimize(&tree.Node, cfg); err != nil {
			return nil, tree, nil, positioned(err)
		}
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		return nil, tree, nil, err
	}
	return prog, tree, t, nil
}
