package formulas

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/types"

	"github.com/crmplatform/crm/metadata"
)

// UserObject is the name under which formulas read users: the owner of a
// record is `owner`, a user with the fields UserFields (manager is itself a
// user, so `owner.manager.name` works). Resolver.Lookup receives this name
// for users. "user" is a reserved word, so no object can take it.
const UserObject = "user"

// OwnerField is the name of the user reference every object has in
// formulas, read from the owner_id column. A field of the object with the
// same name takes precedence.
const OwnerField = "owner"

// UserFields are the fields of a user in formulas: id, name (the display
// name), username, email (all text) and manager (a user).
var UserFields = []string{"id", "name", "username", "email", "manager"}

// MaxLookupDepth is how many lookups a formula may follow in a row:
// account.parent.owner.name is three.
const MaxLookupDepth = 3

var (
	timeType    = reflect.TypeOf(time.Time{})
	stringsType = reflect.TypeOf([]string(nil))
	typeTime    = types.TypeOf(time.Time{})
	typeStrings = types.TypeOf([]string(nil))
)

// exprType is the expr type of a field kind: text is string, integer int,
// decimal, percent and currency float64 (currency in major units, 1234.56),
// boolean bool, date and datetime time.Time, multi-picklist []string. ok is
// false for kinds formulas cannot read (many-to-many, files); lookups are
// handled by the caller.
func exprType(k metadata.Kind) (types.Type, bool) {
	switch k {
	case metadata.KindString:
		return types.String, true
	case metadata.KindInt:
		return types.Int, true
	case metadata.KindFloat, metadata.KindMoney:
		return types.Float64, true
	case metadata.KindBool:
		return types.Bool, true
	case metadata.KindDate, metadata.KindDateTime:
		return typeTime, true
	case metadata.KindStringList:
		return typeStrings, true
	}
	return nil, false
}

// kindOf returns the kind of a field, or 0 for an unknown type.
func kindOf(f *metadata.Field) metadata.Kind {
	t, ok := metadata.LookupFieldType(f.Type)
	if !ok {
		return 0
	}
	return t.Kind()
}

// fieldsOf lists the fields formulas see on an object: the system fields,
// then the object's own fields, then owner unless the object has a field of
// that name.
func fieldsOf(o *metadata.Object) []*metadata.Field {
	out := make([]*metadata.Field, 0, len(o.Fields)+len(metadata.SystemFields))
	for _, n := range metadata.SystemFields {
		if f, ok := metadata.SystemField(n); ok {
			out = append(out, f)
		}
	}
	out = append(out, o.Fields...)
	return out
}

// hasOwnField reports whether o defines a field named name itself.
func hasOwnField(o *metadata.Object, name string) bool {
	_, ok := o.Field(name)
	return ok
}

// typer builds the typed environments of a schema, memoising nested object
// types by depth.
type typer struct {
	schema  *metadata.Schema
	memo    map[string]types.Map
	records map[string]*recordType
}

func newTyper(s *metadata.Schema) *typer {
	return &typer{schema: s, memo: map[string]types.Map{}, records: map[string]*recordType{}}
}

// record returns m, the type memoised under key, as a recordType, one per
// key, so its nature is worked out once however many types hold it.
func (t *typer) record(key string, m types.Map) *recordType {
	r, ok := t.records[key]
	if !ok {
		r = &recordType{Map: m}
		t.records[key] = r
	}
	return r
}

// object returns the type of a record of o with lookups followed depth
// more times.
func (t *typer) object(o *metadata.Object, depth int) types.Map {
	key := fmt.Sprintf("%s/%d", o.Name, depth)
	if m, ok := t.memo[key]; ok {
		return m
	}
	m := types.Map{}
	t.memo[key] = m
	for _, f := range fieldsOf(o) {
		k := kindOf(f)
		if k == metadata.KindRef {
			target, ok := t.schema.Object(f.Target)
			if !ok {
				continue
			}
			if depth > 0 {
				m[f.Name] = t.record(fmt.Sprintf("%s/%d", target.Name, depth-1), t.object(target, depth-1))
			} else {
				m[f.Name] = types.Map{"id": types.String}
			}
			continue
		}
		if et, ok := exprType(k); ok {
			m[f.Name] = et
		}
	}
	if !hasOwnField(o, OwnerField) {
		m[OwnerField] = t.record(fmt.Sprintf("%s/%d", UserObject, depth), t.user(depth))
	}
	return m
}

// recordType is the type of a record a lookup reaches (a user for owner
// and manager), whose expr nature is worked out on first use and then
// kept: expr works out the nature of a map type, and of the map types in
// it, every time an environment holding it is configured (twice per
// formula), which for these nested records was most of the time spent
// compiling a schema's formulas. A typer's types are used by one compile
// at a time.
type recordType struct {
	types.Map
	nt *nature.Nature
}

// Nature returns the map type's nature, worked out once.
func (r *recordType) Nature() nature.Nature {
	if r.nt == nil {
		nt := r.Map.Nature()
		r.nt = &nt
	}
	return *r.nt
}

// user returns the type of a user with manager followed depth more times.
func (t *typer) user(depth int) types.Map {
	key := fmt.Sprintf("%s/%d", UserObject, depth)
	if m, ok := t.memo[key]; ok {
		return m
	}
	m := types.Map{"id": types.String, "name": types.String, "username": types.String, "email": types.String}
	if depth > 0 {
		m["manager"] = t.record(fmt.Sprintf("%s/%d", UserObject, depth-1), t.user(depth-1))
	} else {
		m["manager"] = types.Map{"id": types.String}
	}
	t.memo[key] = m
	return m
}

// userField is the definition of a field of a user, for conversions.
func userField(name string) *metadata.Field {
	if name == "manager" {
		return &metadata.Field{Name: name, Type: "lookup", Target: UserObject}
	}
	return &metadata.Field{Name: name, Type: "text"}
}

// zeroValue is what an empty field reads as: 0, "", false, an empty date
// (the zero time), an empty list.
func zeroValue(k metadata.Kind) any {
	switch k {
	case metadata.KindString, metadata.KindRef:
		return ""
	case metadata.KindInt:
		return 0
	case metadata.KindFloat, metadata.KindMoney:
		return 0.0
	case metadata.KindBool:
		return false
	case metadata.KindDate, metadata.KindDateTime:
		return time.Time{}
	case metadata.KindStringList:
		return []string{}
	}
	return nil
}

// toExpr converts a value in storage form (or as a database driver returns
// it) into the value a formula reads.
func toExpr(f *metadata.Field, v any) (any, error) {
	k := kindOf(f)
	if v == nil {
		return zeroValue(k), nil
	}
	switch k {
	case metadata.KindString, metadata.KindRef:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
		return fmt.Sprint(v), nil
	case metadata.KindInt:
		switch x := v.(type) {
		case int64:
			return int(x), nil
		case int:
			return x, nil
		}
	case metadata.KindFloat:
		if x, ok := v.(float64); ok {
			return x, nil
		}
	case metadata.KindMoney:
		scale := f.ScaleOr(metadata.DefaultCurrencyScale)
		var units int64
		switch x := v.(type) {
		case int64:
			units = x
		case int:
			units = int64(x)
		default:
			out, err := metadata.TypeOf(f).Output(f, v)
			if err != nil {
				return nil, err
			}
			n, _ := out.(json.Number)
			return strconv.ParseFloat(string(n), 64)
		}
		return minorToFloat(units, scale), nil
	case metadata.KindBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case metadata.KindDate:
		if s, ok := v.(string); ok && len(s) == len(metadata.DateLayout) {
			return time.Parse(metadata.DateLayout, s)
		}
	case metadata.KindDateTime:
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
	case metadata.KindStringList:
		if x, ok := v.([]string); ok {
			return x, nil
		}
	default:
		return nil, fmt.Errorf("formulas cannot read a %s field", f.Type)
	}
	// Slow path: whatever the driver returned, through the field type.
	out, err := metadata.TypeOf(f).Output(f, v)
	if err != nil {
		return nil, err
	}
	switch k {
	case metadata.KindInt:
		if i, ok := out.(int64); ok {
			return int(i), nil
		}
	case metadata.KindDate:
		if s, ok := out.(string); ok {
			return time.Parse(metadata.DateLayout, s)
		}
	case metadata.KindDateTime:
		if s, ok := out.(string); ok {
			return time.Parse(metadata.DateTimeLayout, s)
		}
	case metadata.KindFloat, metadata.KindBool, metadata.KindStringList:
		return out, nil
	}
	return nil, fmt.Errorf("unexpected stored value %T", v)
}

// minorToFloat converts minor units to the nearest float64 of the amount.
func minorToFloat(units int64, scale int) float64 {
	if scale == 0 {
		return float64(units)
	}
	if units < 1<<53 && units > -(1<<53) && scale < len(pow10) {
		// Both are exact doubles, and IEEE division rounds correctly, so
		// this is the double nearest to the decimal amount.
		return float64(units) / pow10[scale]
	}
	f, err := strconv.ParseFloat(metadata.FormatMinorUnits(units, scale), 64)
	if err != nil {
		return float64(units) / math.Pow10(scale)
	}
	return f
}

// toStorage converts the result of a formula into the storage form of the
// field, rounding amounts to the field's scale (half away from zero) and
// checking the field's own rules (range, length, options).
func toStorage(f *metadata.Field, v any) (any, error) {
	k := kindOf(f)
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		if x.IsZero() {
			return nil, nil
		}
		if k == metadata.KindDate {
			return x.UTC().Format(metadata.DateLayout), nil
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("result %v is not a finite number", x)
		}
		if k == metadata.KindInt {
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("result %v is not a whole number", x)
			}
		}
		if k == metadata.KindMoney {
			if units, ok := fastMinorUnits(f, x); ok {
				return units, nil
			}
			// 15 significant digits drop the error binary arithmetic adds
			// (617283.95 * 0.9 is 555555.5549999…), so amounts round as
			// decimal arithmetic would.
			v = decimalString(x)
		}
	case int:
		if k == metadata.KindFloat {
			v = float64(x)
		}
	case []any:
		if k == metadata.KindStringList && len(x) == 0 {
			return nil, nil
		}
	case []string:
		if k == metadata.KindStringList && len(x) == 0 {
			return nil, nil
		}
	case string:
		if x == "" && k != metadata.KindString {
			return nil, nil
		}
	case map[string]any:
		if k == metadata.KindRef {
			id, _ := x["id"].(string)
			if id == "" {
				return nil, nil
			}
			v = id
		}
	}
	out, err := metadata.TypeOf(f).Normalize(f, v)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pow10 are the exact powers of ten as doubles.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// fastMinorUnits converts an amount into minor units without going through
// decimal text, when that gives the same result: the scaled amount is far
// from a half (where binary error could flip the rounding) and the field
// has no range to check.
func fastMinorUnits(f *metadata.Field, x float64) (int64, bool) {
	scale := f.ScaleOr(metadata.DefaultCurrencyScale)
	if f.Min != nil || f.Max != nil || scale >= len(pow10) {
		return 0, false
	}
	y := x * pow10[scale]
	if math.Abs(y) >= 1e15 {
		return 0, false
	}
	frac := math.Abs(y - math.Trunc(y))
	if math.Abs(frac-0.5) < 1e-6 {
		return 0, false
	}
	return int64(math.Round(y)), true
}

// decimalString formats x with 15 significant digits, the precision a
// float64 holds exactly in decimal.
func decimalString(x float64) string {
	return strconv.FormatFloat(x, 'g', 15, 64)
}

// describeType names an expr result type for error messages.
func describeType(t reflect.Type) string {
	if t == nil {
		return "unknown"
	}
	switch {
	case t == timeType:
		return "date"
	case t.Kind() == reflect.String:
		return "text"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "number"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Map:
		return "record"
	}
	return strings.TrimPrefix(t.String(), "interface ")
}

// resultFits reports whether a formula result of type t can be stored in a
// field of kind k. An unknown type (interface) is checked at run time.
func resultFits(k metadata.Kind, t reflect.Type) bool {
	if t == nil || t.Kind() == reflect.Interface {
		return true
	}
	isInt := t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64
	switch k {
	case metadata.KindString:
		return t.Kind() == reflect.String
	case metadata.KindInt:
		return isInt
	case metadata.KindFloat, metadata.KindMoney:
		return isInt || t.Kind() == reflect.Float64
	case metadata.KindBool:
		return t.Kind() == reflect.Bool
	case metadata.KindDate, metadata.KindDateTime:
		return t == timeType
	case metadata.KindStringList:
		return t == stringsType || t.Kind() == reflect.Slice
	case metadata.KindRef:
		return t.Kind() == reflect.String || t.Kind() == reflect.Map
	}
	return false
}
