package metadata

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// picklistType stores one option value as TEXT.
type picklistType struct{}

// multiPicklistType stores a set of option values as a JSON array in TEXT,
// sorted, so equal sets are equal strings.
type multiPicklistType struct{}

func init() {
	RegisterFieldType(picklistType{})
	RegisterFieldType(multiPicklistType{})
}

// Name implements FieldType.
func (picklistType) Name() string { return "picklist" }

// Kind implements FieldType.
func (picklistType) Kind() Kind { return KindString }

// Column implements FieldType.
func (picklistType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (picklistType) Check(f *Field) []Problem { return checkOptions(f) }

// Normalize implements FieldType.
func (picklistType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, nil
	}
	if _, ok := f.Option(s); !ok {
		return nil, fmt.Errorf("%q is not one of the options", s)
	}
	return s, nil
}

// Output implements FieldType.
func (picklistType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return outString(v)
}

// OptionsFor implements Cascader.
func (picklistType) OptionsFor(f *Field, controllingValue string) []Option {
	return optionsFor(f, controllingValue)
}

// CheckRecord implements RecordChecker: the cascade check.
func (picklistType) CheckRecord(o *Object, f *Field, v any, rec map[string]any) []Violation {
	s, _ := v.(string)
	return checkCascade(o, f, []string{s}, rec)
}

// ControlValues implements Controller: the option values.
func (picklistType) ControlValues(f *Field) []string {
	out := make([]string, len(f.Options))
	for i, o := range f.Options {
		out[i] = o.Value
	}
	return out
}

// ControlValue implements Controller.
func (picklistType) ControlValue(f *Field, v any) string {
	s, _ := asString(v)
	return s
}

// Input implements Inputter: a select of the options.
func (picklistType) Input(f *Field) Input { return Input{Kind: InputSelect, Options: f.Options} }

// WidensTo implements Widener: an option value is text.
func (picklistType) WidensTo(to string) bool { return to == "text" || to == "long_text" }

// Name implements FieldType.
func (multiPicklistType) Name() string { return "multi_picklist" }

// Kind implements FieldType.
func (multiPicklistType) Kind() Kind { return KindStringList }

// Column implements FieldType.
func (multiPicklistType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (multiPicklistType) Check(f *Field) []Problem { return checkOptions(f) }

// Normalize accepts a list of option values and stores it as sorted JSON.
func (multiPicklistType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var values []string
	switch x := v.(type) {
	case []string:
		values = append(values, x...)
	case []any:
		for _, e := range x {
			s, err := asString(e)
			if err != nil {
				return nil, err
			}
			values = append(values, s)
		}
	case string:
		if err := json.Unmarshal([]byte(x), &values); err != nil {
			return nil, fmt.Errorf("expected a list of options, got %q", x)
		}
	default:
		return nil, fmt.Errorf("expected a list of options, got %s", describe(v))
	}
	if len(values) == 0 {
		return nil, nil
	}
	sort.Strings(values)
	out := values[:0]
	for i, s := range values {
		if _, ok := f.Option(s); !ok {
			return nil, fmt.Errorf("%q is not one of the options", s)
		}
		if i == 0 || values[i-1] != s {
			out = append(out, s)
		}
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

// Output implements FieldType.
func (multiPicklistType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	var values []string
	if err := json.Unmarshal([]byte(s), &values); err != nil {
		return nil, fmt.Errorf("stored value %q is not a list: %w", s, err)
	}
	return values, nil
}

// OptionsFor implements Cascader.
func (multiPicklistType) OptionsFor(f *Field, controllingValue string) []Option {
	return optionsFor(f, controllingValue)
}

// CheckRecord implements RecordChecker: the cascade check of every value.
func (multiPicklistType) CheckRecord(o *Object, f *Field, v any, rec map[string]any) []Violation {
	var values []string
	if s, ok := v.(string); ok {
		_ = json.Unmarshal([]byte(s), &values)
	}
	return checkCascade(o, f, values, rec)
}

// ContainsSQL implements Container: the JSON-quoted value is searched in
// the stored array, case-sensitive and without wildcards.
func (multiPicklistType) ContainsSQL(dialect, col, value string) (string, any) {
	q, _ := json.Marshal(value)
	return sqlType(dialect, "instr", "strpos") + "(" + col + ", ?) > 0", string(q)
}

// optionAllowed reports whether option o may be chosen while the
// controlling field has the value cv.
func optionAllowed(o *Option, cv string) bool {
	return len(o.When) == 0 || slices.Contains(o.When, cv)
}

// optionsFor returns the options of f allowed while its controlling field
// has the value cv.
func optionsFor(f *Field, cv string) []Option {
	if f.DependsOn == "" {
		return f.Options
	}
	var out []Option
	for i := range f.Options {
		if optionAllowed(&f.Options[i], cv) {
			out = append(out, f.Options[i])
		}
	}
	return out
}

// checkCascade checks the chosen option values of a dependent picklist
// against the value its controlling field has in rec.
func checkCascade(o *Object, f *Field, values []string, rec map[string]any) []Violation {
	if f.DependsOn == "" {
		return nil
	}
	cv := ""
	if ctrl, ok := o.Field(f.DependsOn); ok {
		if c, ok := TypeOf(ctrl).(Controller); ok {
			cv = c.ControlValue(ctrl, rec[ctrl.Name])
		}
	}
	var out []Violation
	for _, val := range values {
		opt, ok := f.Option(val)
		if !ok || optionAllowed(opt, cv) {
			continue
		}
		if cv == "" {
			out = append(out, Violation{Code: "cascade", Message: fmt.Sprintf("%q needs %s to be set first", val, f.DependsOn)})
		} else {
			out = append(out, Violation{Code: "cascade", Message: fmt.Sprintf("%q is not allowed when %s is %q", val, f.DependsOn, cv)})
		}
	}
	return out
}

// checkOptions requires at least one option and unique values.
func checkOptions(f *Field) []Problem {
	if len(f.Options) == 0 {
		return []Problem{Problemf("/options", "a %s needs at least one option", f.Type)}
	}
	var ps []Problem
	seen := map[string]bool{}
	for i, o := range f.Options {
		if o.Value == "" {
			ps = append(ps, Problemf(pointer("options", i, "value"), "an option needs a value"))
		}
		if seen[o.Value] {
			ps = append(ps, Problemf(pointer("options", i, "value"), "duplicate option value %q", o.Value))
		}
		seen[o.Value] = true
	}
	return ps
}

// Compile-time checks that the types implement FieldType and their
// optional abilities.
var (
	_ FieldType     = picklistType{}
	_ Cascader      = picklistType{}
	_ RecordChecker = picklistType{}
	_ Controller    = picklistType{}
	_ Inputter      = picklistType{}
	_ Widener       = picklistType{}
	_ FieldType     = multiPicklistType{}
	_ Cascader      = multiPicklistType{}
	_ RecordChecker = multiPicklistType{}
	_ Container     = multiPicklistType{}
)
