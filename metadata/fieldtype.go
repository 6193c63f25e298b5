package metadata

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
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

var (
	registryMu sync.RWMutex
	registry   = map[string]FieldType{}
)

// RegisterFieldType makes a field type available under its name. It panics
// when the name is taken, as database/sql.Register does.
func RegisterFieldType(t FieldType) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[t.Name()]; dup {
		panic("metadata: field type registered twice: " + t.Name())
	}
	registry[t.Name()] = t
}

// LookupFieldType returns the field type registered under name.
func LookupFieldType(name string) (FieldType, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	t, ok := registry[name]
	return t, ok
}

// FieldTypeNames lists the registered field types in order.
func FieldTypeNames() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
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
