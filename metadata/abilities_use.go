package metadata

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrUnsupported is wrapped by the errors of abilities a field's type does
// not have (grouping a text field by month, say).
var ErrUnsupported = errors.New("metadata: not supported by the field type")

// ReferenceTarget returns the object the values of f point at, when its
// type is a Referencer.
func ReferenceTarget(f *Field) (string, bool) {
	r, ok := TypeOf(f).(Referencer)
	if !ok {
		return "", false
	}
	return r.References(f), true
}

// LookupTarget returns the target of a many-to-one reference kept in a
// column (a lookup): a Referencer that is not in a link table.
func LookupTarget(f *Field) (string, bool) {
	if Linked(f) {
		return "", false
	}
	return ReferenceTarget(f)
}

// MasterOf returns the object f makes its record a detail of: the target
// of a required lookup whose deletion cascades to the record (a quote's
// lines are details of the quote). A detail belongs to its master: it is
// part of what an approval of the master judges.
func MasterOf(f *Field) (string, bool) {
	if !f.Required || OnDeleteOf(f) != OnDeleteCascade {
		return "", false
	}
	return LookupTarget(f)
}

// Linked reports whether the values of f are kept in a link table rather
// than in a column (see Linker).
func Linked(f *Field) bool {
	l, ok := TypeOf(f).(Linker)
	return ok && l.InLinkTable(f)
}

// Computed reports whether the system gives f its values: a formula, or a
// type that assigns them (see Assigner). Users cannot write such a field,
// and a required one needs no value from them.
func Computed(f *Field) bool {
	if f.Formula != "" {
		return true
	}
	_, ok := TypeOf(f).(Assigner)
	return ok
}

// CheckRecordValue runs the record check of f's type (see RecordChecker)
// on v, f's storage value in rec; nil values are not checked.
func CheckRecordValue(o *Object, f *Field, v any, rec map[string]any) []Violation {
	if v == nil {
		return nil // before the type's lookup: most fields of a record are empty
	}
	rc, ok := TypeOf(f).(RecordChecker)
	if !ok {
		return nil
	}
	return rc.CheckRecord(o, f, v, rec)
}

// OptionsFor returns the options of f a form should offer while its
// controlling field (depends_on) has the value controllingValue, as the
// record check will allow them; a field whose type has no cascade (see
// Cascader) offers all its options.
func (f *Field) OptionsFor(controllingValue string) []Option {
	if c, ok := TypeOf(f).(Cascader); ok {
		return c.OptionsFor(f, controllingValue)
	}
	return f.Options
}

// SingleOption reports whether f holds one of its options (a picklist):
// a Cascader of kind text. Formulas read the attributes and labels of its
// option (option(), label()).
func SingleOption(f *Field) bool {
	t := TypeOf(f)
	_, ok := t.(Cascader)
	return ok && t.Kind() == KindString
}

// IsFile reports whether f holds files (see Filer).
func IsFile(f *Field) bool {
	_, ok := TypeOf(f).(Filer)
	return ok
}

// MaxSizeOf returns the upload limit of a file field (0 for a field that
// holds no files).
func MaxSizeOf(f *Field) int64 {
	if fl, ok := TypeOf(f).(Filer); ok {
		return fl.MaxSize(f)
	}
	return 0
}

// AcceptsContent reports whether field f holds files and accepts content
// of the given type.
func AcceptsContent(f *Field, contentType string) bool {
	fl, ok := TypeOf(f).(Filer)
	return ok && fl.Accepts(f, contentType)
}

// DefaultFilterOps returns the operator families of a field type of kind
// k that does not choose its own (see Filterer).
func DefaultFilterOps(k Kind) []FilterOp {
	switch k {
	case KindString:
		return []FilterOp{FilterEqual, FilterOrder, FilterText, FilterEmpty}
	case KindInt, KindFloat, KindMoney:
		return []FilterOp{FilterEqual, FilterOrder, FilterEmpty}
	case KindDate, KindDateTime:
		return []FilterOp{FilterEqual, FilterOrder, FilterEmpty, FilterDateRange}
	case KindBool, KindRef:
		return []FilterOp{FilterEqual, FilterEmpty}
	case KindStringList, KindRefList:
		return []FilterOp{FilterContains, FilterEmpty}
	}
	return []FilterOp{FilterEmpty}
}

// SupportsFilter reports whether filters may use the operator family op
// on f.
func SupportsFilter(f *Field, op FilterOp) bool {
	t := TypeOf(f)
	if fl, ok := t.(Filterer); ok {
		return slices.Contains(fl.FilterOps(f), op)
	}
	return slices.Contains(DefaultFilterOps(t.Kind()), op)
}

// Sortable reports whether lists can be sorted on f: as its type says
// (see Sorter), or else when f has a column and holds no files.
func Sortable(f *Field) bool {
	t := TypeOf(f)
	if s, ok := t.(Sorter); ok {
		return s.Sortable(f)
	}
	return !Linked(f) && t.Kind() != KindFile
}

// Widens reports whether changing a field from type from to type to keeps
// every value (see Widener).
func Widens(from, to string) bool {
	t, ok := LookupFieldType(from)
	if !ok {
		return false
	}
	w, ok := t.(Widener)
	return ok && w.WidensTo(to)
}

// Buckets lists the report buckets f can be grouped by besides its value
// (see Grouper).
func Buckets(f *Field) []Bucket {
	if g, ok := TypeOf(f).(Grouper); ok {
		return g.Buckets(f)
	}
	return nil
}

// GroupSQL returns the SQL expression a report groups f's column col by:
// the column itself for bucket "", otherwise the bucket expression of f's
// type (see Grouper). Fields in link tables and files cannot be grouped.
func GroupSQL(dialect string, f *Field, col string, b Bucket, offset time.Duration) (string, error) {
	t := TypeOf(f)
	if Linked(f) || IsFile(f) {
		return "", fmt.Errorf("%w: %s (a %s field) cannot be grouped", ErrUnsupported, f.Name, f.Type)
	}
	if b == "" {
		return col, nil
	}
	g, ok := t.(Grouper)
	if !ok || !slices.Contains(g.Buckets(f), b) {
		return "", fmt.Errorf("%w: %s (a %s field) cannot be grouped by %s", ErrUnsupported, f.Name, f.Type, b)
	}
	return g.GroupSQL(dialect, f, col, b, offset)
}

// InputKind names the input a generated form shows for a field.
type InputKind string

// The form inputs.
const (
	InputText        InputKind = "text"
	InputTextarea    InputKind = "textarea"
	InputEmail       InputKind = "email"
	InputTel         InputKind = "tel"
	InputURL         InputKind = "url"
	InputNumber      InputKind = "number"
	InputCurrency    InputKind = "currency"
	InputDate        InputKind = "date"
	InputDateTime    InputKind = "datetime"
	InputCheckbox    InputKind = "checkbox"
	InputSelect      InputKind = "select"
	InputMultiSelect InputKind = "multiselect"
	InputLookup      InputKind = "lookup"
	InputFile        InputKind = "file"
)

// Input describes the form input of a field.
type Input struct {
	Kind InputKind `json:"kind"`
	// Step is the increment of a number or currency input ("1", "0.01");
	// "any" when the number has no fixed scale.
	Step string `json:"step,omitempty"`
	// Scale is the number of decimals a number or currency input keeps.
	Scale *int `json:"scale,omitempty"`
	// MaxLength is the longest text accepted, in characters.
	MaxLength int `json:"max_length,omitempty"`
	// Multiple is set when the input takes several values.
	Multiple bool `json:"multiple,omitempty"`
	// Options are the choices of a select or multiselect; with a cascade
	// (depends_on) a form narrows them with Field.OptionsFor.
	Options []Option `json:"options,omitempty"`
	// Target is the object a lookup input searches.
	Target string `json:"target,omitempty"`
	// Accept lists the content types a file input takes.
	Accept []string `json:"accept,omitempty"`
	// ReadOnly is set for fields the system fills (formulas, auto numbers).
	ReadOnly bool `json:"read_only,omitempty"`
}

// FormInput returns the input a generated form shows for f: as its type
// says (see Inputter), or else as its Kind implies.
func FormInput(f *Field) Input {
	t := TypeOf(f)
	var in Input
	if it, ok := t.(Inputter); ok {
		in = it.Input(f)
	} else {
		in = kindInput(t.Kind(), f)
	}
	in.ReadOnly = in.ReadOnly || Computed(f)
	return in
}

// kindInput is the form input of a field whose type does not choose one.
func kindInput(k Kind, f *Field) Input {
	switch k {
	case KindInt:
		return Input{Kind: InputNumber, Step: "1", Scale: ptrTo(0)}
	case KindFloat:
		in := Input{Kind: InputNumber, Step: "any", Scale: f.Scale}
		if f.Scale != nil {
			in.Step = stepOf(*f.Scale)
		}
		return in
	case KindMoney:
		s := f.ScaleOr(DefaultCurrencyScale)
		return Input{Kind: InputCurrency, Step: stepOf(s), Scale: &s}
	case KindBool:
		return Input{Kind: InputCheckbox}
	case KindDate:
		return Input{Kind: InputDate}
	case KindDateTime:
		return Input{Kind: InputDateTime}
	case KindStringList:
		return Input{Kind: InputMultiSelect, Multiple: true, Options: f.Options}
	case KindRef:
		t, _ := ReferenceTarget(f)
		return Input{Kind: InputLookup, Target: t}
	case KindRefList:
		t, _ := ReferenceTarget(f)
		return Input{Kind: InputLookup, Multiple: true, Target: t}
	case KindFile:
		return Input{Kind: InputFile, Accept: f.Accept}
	}
	return Input{Kind: InputText, MaxLength: f.MaxLength}
}

// stepOf is the step of a number input keeping scale decimals.
func stepOf(scale int) string {
	if scale <= 0 {
		return "1"
	}
	return fmt.Sprintf("0.%0*d", scale, 1)
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }
