package formulas

import (
	"context"
	"fmt"

	"github.com/crmplatform/crm/metadata"
)

// Expr is one formula standing on its own over the records of an object,
// outside the object's own metadata: the entry criteria of an approval, the
// condition of a transition or a reminder, the value an automation sets. It
// is compiled and type-checked once (per metadata version) like a computed
// field or a validation rule, may read related records through lookups,
// option() and label(), and is safe for concurrent use.
type Expr struct {
	op    *ObjectProgram
	p     *program
	field *metadata.Field
}

// CompileCondition compiles a condition (true or false) over the records of
// object in s. Errors give the line and column.
func CompileCondition(s *metadata.Schema, object, src string) (*Expr, error) {
	return compileExpr(s, object, src, nil)
}

// CompileValue compiles a formula whose result is stored in field (of
// object, or of another object: a value for a record an automation
// creates) and checks that the result fits the field's type. The formula
// reads the records of object.
func CompileValue(s *metadata.Schema, object string, field *metadata.Field, src string) (*Expr, error) {
	if field == nil {
		return nil, fmt.Errorf("formulas: a value needs the field it fills")
	}
	return compileExpr(s, object, src, field)
}

// compileExpr compiles a condition (field nil) or a value for field.
func compileExpr(s *metadata.Schema, object, src string, field *metadata.Field) (*Expr, error) {
	o, ok := s.Object(object)
	if !ok {
		return nil, fmt.Errorf("formulas: no object %q", object)
	}
	cc := &schemaCompiler{schema: s, typer: newTyper(s)}
	op := &ObjectProgram{schema: s, object: o, reads: newReads(), options: map[string]*optionVar{}, labels: map[string]*labelVar{}}
	kind := exprRule
	if field != nil {
		kind = exprComputed
	}
	p, err := cc.compile(op, kind, src, field)
	if err != nil {
		return nil, err
	}
	op.reads.merge(p.reads)
	return &Expr{op: op, p: p, field: field}, nil
}

// Source returns the formula as written.
func (x *Expr) Source() string { return x.p.source }

// Reads lists the fields of the object's own record the formula reads,
// sorted.
func (x *Expr) Reads() []string { return sortedKeys(x.p.reads.fields) }

// Eval evaluates the formula over rec (storage form, with its id when it
// has one), reading related records and roll-ups through r, at the time of
// ctx (WithNow). A condition gives a bool; a value gives the field's
// storage form, amounts rounded to its scale. A formula that fails at run
// time is an error matching ErrEval.
func (x *Expr) Eval(ctx context.Context, rec map[string]any, r Resolver) (any, error) {
	envs, err := x.op.envs(ctx, []map[string]any{rec}, x.p.reads, r, false)
	if err != nil {
		return nil, err
	}
	out, err := run(x.p.prog, envs[0])
	if err != nil {
		return nil, x.fail(positioned(err))
	}
	if x.field == nil {
		b, _ := out.(bool)
		return b, nil
	}
	v, err := toStorage(x.field, out)
	if err != nil {
		return nil, x.fail(err)
	}
	return v, nil
}

// fail wraps a run-time failure of the formula: an *EvalError naming the
// field of a value, an error matching ErrEval for a condition.
func (x *Expr) fail(err error) error {
	if x.field != nil {
		return &EvalError{Object: x.op.object.Name, Field: x.field.Name, Err: fmt.Errorf("formula %q: %w", x.p.source, err)}
	}
	return fmt.Errorf("%w: condition %q on %s: %v", ErrEval, x.p.source, x.op.object.Name, err)
}

// ReadsClock reports whether the formula reads the clock (now(), today(),
// next_birthday): what it gives may change with time alone.
func (x *Expr) ReadsClock() bool { return x.p.reads.clock }

// Local reports whether the formula reads only its own record: no
// lookup, user, roll-up or related option. A custom link's condition must
// be local, so that it can be judged from what one user may read of the
// record.
func (x *Expr) Local() bool { return len(x.p.reads.paths) == 0 && len(x.p.reads.rollups) == 0 }
