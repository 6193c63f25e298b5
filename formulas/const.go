package formulas

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
)

// MaxNodes is the largest expression, in syntax-tree nodes, the compiler
// accepts.
const MaxNodes = 1000

// MemoryBudget bounds what one evaluation may allocate, in expr's units
// (roughly elements of the lists and maps it builds).
const MemoryBudget = 100_000

// Names of the hidden environment variables the clock functions read, so
// that one evaluation sees one "now". They start with an underscore, which
// no field name can.
const (
	envNow   = "_now"
	envToday = "_today"
)

// clockPatcher rewrites now() and today() into reads of the evaluation's
// clock, and next_birthday(t) into next_birthday(t, today()).
type clockPatcher struct{}

// Visit rewrites one node.
func (clockPatcher) Visit(node *ast.Node) {
	call, id, ok := namedCall(*node)
	if !ok {
		return
	}
	switch {
	case id.Value == "now" && len(call.Arguments) == 0:
		ast.Patch(node, &ast.IdentifierNode{Value: envNow})
	case id.Value == "today" && len(call.Arguments) == 0:
		ast.Patch(node, &ast.IdentifierNode{Value: envToday})
	case id.Value == "next_birthday" && len(call.Arguments) == 1:
		today := &ast.IdentifierNode{Value: envToday}
		today.SetLocation(call.Location())
		callee := &ast.IdentifierNode{Value: id.Value}
		callee.SetLocation(id.Location())
		ast.Patch(node, &ast.CallNode{Callee: callee, Arguments: []ast.Node{call.Arguments[0], today}})
	}
}

// readsClock reports whether an expression patched by clockPatcher reads
// the clock.
func readsClock(node *ast.Node) bool {
	var v clockReader
	ast.Walk(node, &v)
	return bool(v)
}

// clockReader notes a clock variable.
type clockReader bool

// Visit notes node if it is a clock variable.
func (c *clockReader) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && (id.Value == envNow || id.Value == envToday) {
		*c = true
	}
}

// clockSource turns the clock variables clockPatcher made of an expression
// back into now() and today(), for an expression printed as source again
// (a roll-up's condition, which the engine compiles as a filter).
func clockSource(node *ast.Node) { ast.Walk(node, clockUnpatcher{}) }

// clockUnpatcher undoes clockPatcher.
type clockUnpatcher struct{}

// Visit turns a clock variable back into its call.
func (clockUnpatcher) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && (id.Value == envNow || id.Value == envToday) {
		name := "now"
		if id.Value == envToday {
			name = "today"
		}
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}})
	}
}

// clockTypes are the types of the clock variables.
func clockTypes() types.Map {
	return types.Map{envNow: types.TypeOf(time.Time{}), envToday: types.TypeOf(time.Time{})}
}

// clockValues sets the clock variables of env for now: now() is now, in
// its time zone, and today() the calendar day of now in that zone, as a
// date (midnight UTC, like date fields).
func clockValues(env map[string]any, now time.Time) {
	env[envNow] = now
	env[envToday] = truncDay(now)
}

// EvalConst evaluates an expression that reads no field, such as
// start_of_month(today()) or add_days(now(), -7), with the function
// library and the current time in UTC. Filters use it for their constant
// parts.
func EvalConst(src string) (any, error) {
	return EvalConstAt(src, time.Now().UTC())
}

// EvalConstAt is EvalConst with now as the current time. Its time zone
// sets the calendar day of today() and the parts of now() (a user in
// UTC+8 at 07:00 on 1 December local time gets start_of_month(today()) =
// December 1 even though it is still November in UTC).
func EvalConstAt(src string, now time.Time) (any, error) {
	prog, _, _, err := compileChecked(baseConfig(clockTypes()), src, nil)
	if err != nil {
		return nil, fmt.Errorf("formulas: %w", err)
	}
	env := make(map[string]any, 2)
	clockValues(env, now)
	out, err := run(prog, env)
	if err != nil {
		return nil, fmt.Errorf("formulas: %w", err)
	}
	return out, nil
}
