package formulas

import (
	"context"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"

	"github.com/crmplatform/crm/metadata"
)

// vlookupSpec is a vlookup() of a default formula: the value of field of
// the first record of object (by id) whose key fields hold the values read
// from the new record (a lookup's value is the id it holds).
type vlookupSpec struct {
	// key is the variable the call becomes.
	key    string
	object string
	field  *metadata.Field
	keys   []string
	values [][]string
}

// vlookup rewrites vlookup("object", "field", "key_field", value, …) into
// a variable that evalDefaultRelated sets: key fields are text, picklist
// or lookup fields of object, each value a field of the record or one read
// through its lookups.
func (rw *rewriter) vlookup(node *ast.Node, call *ast.CallNode) {
	const usage = `vlookup takes an object, one of its fields, then pairs of its key field and a value: vlookup("price_list_item", "price", "price_list", quote.price_list, "product", product)`
	if rw.kind != exprDefault {
		rw.fail(call, "vlookup can be used only in a default formula")
		return
	}
	args := call.Arguments
	if len(args) < 4 || len(args)%2 != 0 {
		rw.fail(call, "%s", usage)
		return
	}
	name := func(n ast.Node) (string, bool) {
		s, ok := n.(*ast.StringNode)
		if !ok {
			rw.fail(n, "%s", usage)
			return "", false
		}
		return s.Value, true
	}
	objectName, ok := name(args[0])
	if !ok {
		return
	}
	target, ok := rw.cc.schema.Object(objectName)
	if !ok {
		rw.fail(args[0], "no object %s", objectName)
		return
	}
	fieldName, ok := name(args[1])
	if !ok {
		return
	}
	f, ok := target.FieldOrSystem(fieldName)
	var t types.Type
	if ok {
		t, ok = exprType(kindOf(f))
	}
	if !ok {
		rw.fail(args[1], "%s has no field %s that vlookup can give", objectName, fieldName)
		return
	}
	spec := &vlookupSpec{object: objectName, field: f}
	for i := 2; i < len(args); i += 2 {
		keyName, ok := name(args[i])
		if !ok {
			return
		}
		kf, ok := target.FieldOrSystem(keyName)
		if !ok || (kindOf(kf) != metadata.KindRef && kindOf(kf) != metadata.KindString) {
			rw.fail(args[i], "%s has no text, picklist or lookup field %s to match", objectName, keyName)
			return
		}
		chain, ok := memberChain(args[i+1])
		var vf *metadata.Field
		if ok {
			vf, ok = rw.cc.resolveChain(rw.op.object, chain)
		}
		if !ok || kindOf(vf) != kindOf(kf) || (kindOf(kf) == metadata.KindRef && vf.Target != kf.Target) {
			rw.fail(args[i+1], "the value of %s.%s is a field of %s (or of a record a lookup points to) of the same kind", objectName, keyName, rw.op.object.Name)
			return
		}
		rw.chains = append(rw.chains, chain)
		spec.keys = append(spec.keys, keyName)
		spec.values = append(spec.values, chain)
	}
	spec.key = fmt.Sprintf("_vlookup_%s_%d", strings.ReplaceAll(rw.what(), " ", "_"), len(rw.vlookups))
	rw.env[spec.key] = t
	rw.vlookups = append(rw.vlookups, spec)
	ast.Patch(node, &ast.IdentifierNode{Value: spec.key})
}

// find reads the value of the vlookup with the values of env (nil when a
// value is empty or no record matches).
func (vl *vlookupSpec) find(ctx context.Context, env map[string]any, r Resolver) (any, error) {
	values := make([]string, len(vl.values))
	for i, path := range vl.values {
		v := pathValue(env, path)
		if m, ok := v.(map[string]any); ok {
			v = m["id"]
		}
		s, _ := v.(string)
		if s == "" {
			return nil, nil
		}
		values[i] = s
	}
	raw, err := r.Find(ctx, vl.object, vl.field.Name, vl.keys, values)
	if err != nil || raw == nil {
		return nil, err
	}
	return toExpr(vl.field, raw)
}
