package metadata

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Kind is the value class of a field type, used by formulas and filters to
// type-check expressions.
type Kind int

// The value kinds.
const (
	KindString Kind = iota + 1
	KindInt
	KindFloat
	KindMoney
	KindBool
	KindDate
	KindDateTime
	KindStringList
	KindRef
	KindRefList
	KindFile
)

var kindNames = map[Kind]string{
	KindString: "text", KindInt: "integer", KindFloat: "number", KindMoney: "money",
	KindBool: "boolean", KindDate: "date", KindDateTime: "datetime",
	KindStringList: "list of text", KindRef: "reference", KindRefList: "list of references",
	KindFile: "file",
}

// String names the kind for error messages.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Numeric reports whether values of the kind are numbers.
func (k Kind) Numeric() bool { return k == KindInt || k == KindFloat || k == KindMoney }

// Temporal reports whether values of the kind are dates or instants.
func (k Kind) Temporal() bool { return k == KindDate || k == KindDateTime }

// Dialect names of the SQL databases the engine supports.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "pg"
)

// FieldType is the implementation of one field type ("text", "currency" …).
// Values move through three forms: the JSON form of the API (what
// encoding/json decodes with UseNumber, or a literal of a filter), the
// storage form handed to the database driver, and back.
type FieldType interface {
	// Name is the "type" key of the field in metadata.
	Name() string
	// Kind is the value class used for type checking.
	Kind() Kind
	// Column is the SQL column type in dialect; "" means the type has no
	// column of its own (a many-to-many link table).
	Column(dialect string, f *Field) string
	// Check returns problems with the definition of f (options that do not
	// apply, a missing target …) as messages relative to the field.
	Check(f *Field) []Problem
	// Normalize converts an input value into its storage form, checking it
	// against the field's options. nil stays nil.
	Normalize(f *Field, v any) (any, error)
	// Output converts a storage value (as the driver returns it) into its
	// JSON form.
	Output(f *Field, v any) (any, error)
}

// registry maps the names of the registered field types to them. It is
// copied on each registration (done at init) and read without a lock:
// TypeOf runs for every field of every record read or written.
var (
	registryMu sync.Mutex
	registry   atomic.Pointer[map[string]FieldType]
)

// RegisterFieldType makes a field type available under its name. It panics
// when the name is taken, as database/sql.Register does.
func RegisterFieldType(t FieldType) {
	registryMu.Lock()
	defer registryMu.Unlock()
	old := types()
	if _, dup := old[t.Name()]; dup {
		panic("metadata: field type registered twice: " + t.Name())
	}
	next := maps.Clone(old)
	if next == nil {
		next = map[string]FieldType{}
	}
	next[t.Name()] = t
	registry.Store(&next)
}

// types returns the registered field types by name.
func types() map[string]FieldType {
	if m := registry.Load(); m != nil {
		return *m
	}
	return nil
}

// LookupFieldType returns the field type registered under name.
func LookupFieldType(name string) (FieldType, bool) {
	t, ok := types()[name]
	return t, ok
}

// FieldTypeNames lists the registered field types in order.
func FieldTypeNames() []string {
	names := slices.AppendSeq(make([]string, 0, len(types())), maps.Keys(types()))
	slices.Sort(names)
	return names
}

// TypeOf returns the field type of f; it panics for a field that did not
// pass Validate.
func TypeOf(f *Field) FieldType {
	t, ok := LookupFieldType(f.Type)
	if !ok {
		panic("metadata: unknown field type " + f.Type)
	}
	return t
}

// withFieldTypes returns the metadata JSON Schema with the registered field
// types as the enum of a field's type, so a document naming an unknown type
// is refused with its other mistakes, and a type registered by another
// package is accepted.
func withFieldTypes(schema []byte) []byte {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		panic("metadata: embedded schema: " + err.Error())
	}
	defs, _ := doc["$defs"].(map[string]any)
	field, _ := defs["field"].(map[string]any)
	props, _ := field["properties"].(map[string]any)
	typ, _ := props["type"].(map[string]any)
	if typ == nil {
		panic("metadata: embedded schema has no field type")
	}
	typ["enum"] = FieldTypeNames()
	out, err := json.Marshal(doc)
	if err != nil {
		panic("metadata: embedded schema: " + err.Error())
	}
	return out
}
