package ui

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
)

// condition is one row of the filter builder: a field, an operator and a
// value, turned into the filter language (docs/api.md, "Filters").
type condition struct {
	Field, Op, Value string
}

// filterOp is an operator the builder offers.
type filterOp struct {
	Name string // form value
	// Family is the filter operator family of the field type it needs.
	Family metadata.FilterOp
	// Syntax is the operator in the filter language ("" for a function
	// such as is_empty).
	Syntax string
	// Unary operators take no value.
	Unary bool
}

// filterOps are the builder's operators, in the order offered.
var filterOps = []filterOp{
	{"eq", metadata.FilterEqual, "==", false},
	{"ne", metadata.FilterEqual, "!=", false},
	{"contains", metadata.FilterText, "contains", false},
	{"starts", metadata.FilterText, "startsWith", false},
	{"ends", metadata.FilterText, "endsWith", false},
	{"has", metadata.FilterContains, "contains", false},
	{"lt", metadata.FilterOrder, "<", false},
	{"le", metadata.FilterOrder, "<=", false},
	{"gt", metadata.FilterOrder, ">", false},
	{"ge", metadata.FilterOrder, ">=", false},
	{"empty", metadata.FilterEmpty, "is_empty", true},
	{"not_empty", metadata.FilterEmpty, "is_not_empty", true},
}

// opsFor lists the operators field f takes.
func opsFor(f *metadata.Field) []filterOp {
	var out []filterOp
	for _, op := range filterOps {
		if metadata.SupportsFilter(f, op.Family) {
			out = append(out, op)
		}
	}
	return out
}

// findOp returns the operator named name that f takes.
func findOp(f *metadata.Field, name string) (filterOp, bool) {
	for _, op := range opsFor(f) {
		if op.Name == name {
			return op, true
		}
	}
	return filterOp{}, false
}

// filterField returns a field the builder may filter on: one of the
// object's fields the principal may read, or a system field.
func filterField(s *engine.Scope, name string) (*metadata.Field, bool) {
	if !s.Readable(name) {
		return nil, false
	}
	if f, ok := s.Object().Field(name); ok {
		return f, true
	}
	return metadata.SystemField(name)
}

// expr writes the condition in the filter language; the filter compiler
// then checks it against the principal's scope like any other filter.
func (c condition) expr(s *engine.Scope, loc *time.Location) (string, error) {
	f, ok := filterField(s, c.Field)
	if !ok {
		return "", fmt.Errorf("unknown field %q", c.Field)
	}
	op, ok := findOp(f, c.Op)
	if !ok {
		return "", fmt.Errorf("%s cannot be filtered with %q", c.Field, c.Op)
	}
	if op.Unary {
		return op.Syntax + "(" + f.Name + ")", nil
	}
	lit, err := literal(f, strings.TrimSpace(c.Value), loc)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Field, err)
	}
	return f.Name + " " + op.Syntax + " " + lit, nil
}

// literal writes a value typed into the builder as a literal of the
// field's kind.
func literal(f *metadata.Field, v string, loc *time.Location) (string, error) {
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindInt, metadata.KindFloat, metadata.KindMoney:
		if _, ok := new(big.Rat).SetString(v); !ok || strings.ContainsAny(v, "eE/") {
			return "", fmt.Errorf("%q is not a number", v)
		}
		return v, nil
	case metadata.KindBool:
		if v != "true" && v != "false" {
			return "", fmt.Errorf("%q is not true or false", v)
		}
		return v, nil
	case metadata.KindDateTime:
		if t, err := time.ParseInLocation(datetimeLocal, v, loc); err == nil {
			v = t.UTC().Format(time.RFC3339)
		} else if t, err := time.ParseInLocation(metadata.DateLayout, v, loc); err == nil {
			v = t.UTC().Format(time.RFC3339)
		}
	}
	return strconv.Quote(v), nil
}

// buildFilter joins the builder's conditions and the typed filter with
// "&&"; a condition that cannot be written is an error naming its row.
func buildFilter(s *engine.Scope, conds []condition, typed string, loc *time.Location) (string, error) {
	var parts []string
	for i, c := range conds {
		if c.Field == "" {
			continue
		}
		e, err := c.expr(s, loc)
		if err != nil {
			return "", fmt.Errorf("condition %d: %w", i+1, err)
		}
		parts = append(parts, e)
	}
	if typed = strings.TrimSpace(typed); typed != "" {
		if len(parts) > 0 {
			typed = "(" + typed + ")"
		}
		parts = append(parts, typed)
	}
	return strings.Join(parts, " && "), nil
}

// quoteList writes a list literal of strings.
func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
