package metadata

import (
	"time"
)

// A field type implements FieldType and, beside it, any of the optional
// interfaces below, found by type assertion as database/sql/driver finds
// a driver's Pinger. The engine, the store and the filter compiler ask a
// field's type through the helper functions of this file and never test
// the type's name, so a new field type is one file: its FieldType and the
// abilities it has. A type without an ability gets the behaviour its Kind
// implies.

// Referencer is the optional ability of a field type whose values are ids
// of records of another object (lookup, many_to_many). A referencer kept
// in a column (a lookup) is a many-to-one reference: the store indexes it
// and gives it a foreign key in PostgreSQL, the engine applies its
// on_delete rule, and filters and formulas may follow it with a dot
// (account.industry).
type Referencer interface {
	FieldType
	// References returns the object whose records the values of f point
	// at.
	References(f *Field) string
}

// Linker is the optional ability of a field type whose values are kept in
// a link table (one row per source_id and target_id) instead of a column
// of the object's table. Its Column is "", and its storage form is the
// list of linked ids.
type Linker interface {
	Referencer
	// InLinkTable reports whether the values of f are kept in a link
	// table.
	InLinkTable(f *Field) bool
}

// Assigner is the optional ability of a field type whose values the
// system assigns when a record is inserted (auto numbers). Users cannot
// write such a field, a required one needs no value from them, it cannot
// have a formula, and records that exist when the field is added get
// their values in order of creation.
type Assigner interface {
	FieldType
	// Assign returns the storage value of f for a record created at
	// created. next returns the next number of a gap-free counter named by
	// key (the counter belongs to the object and field), inside the
	// write's transaction.
	Assign(f *Field, created time.Time, next func(key string) (int64, error)) (any, error)
}

// Violation is a problem of one value of a record: a stable code and a
// message for people.
type Violation struct {
	Code    string
	Message string
}

// RecordChecker is the optional ability of a field type to check a value
// against the rest of its record, after every value of the write was
// converted and merged with the stored record.
type RecordChecker interface {
	FieldType
	// CheckRecord returns the problems of v, the storage value of field f
	// of object o (never nil), in rec, the whole record in storage form.
	CheckRecord(o *Object, f *Field, v any, rec map[string]any) []Violation
}

// Cascader is the optional ability of a field type whose values are
// options of the field that may depend on a controlling field (depends_on
// on the field, when on its options).
type Cascader interface {
	FieldType
	// OptionsFor returns the options of f allowed while its controlling
	// field has the value controllingValue ("" when it has none): those
	// without a when list and those whose when list names the value.
	OptionsFor(f *Field, controllingValue string) []Option
}

// Controller is the optional ability of a field type to control a
// dependent picklist: the when lists of the dependent's options name its
// values as text.
type Controller interface {
	FieldType
	// ControlValues lists the values a field of the type can take, as a
	// when list names them.
	ControlValues(f *Field) []string
	// ControlValue names a storage value of f as a when list would ("" for
	// none).
	ControlValue(f *Field, v any) string
}

// Filer is the optional ability of a field type whose values are files
// kept in the engine's file store: uploads are checked against it, and the
// record holds a FileRef.
type Filer interface {
	FieldType
	// Accepts reports whether content of contentType may be stored in f.
	Accepts(f *Field, contentType string) bool
	// MaxSize is the largest upload f takes, in bytes.
	MaxSize(f *Field) int64
	// FileRef returns the reference a storage value of f holds.
	FileRef(f *Field, v any) (FileRef, error)
}

// FilterOp is a family of filter operators a field may support.
type FilterOp string

// The filter operator families.
const (
	// FilterEqual is ==, != and in with values, and == and != with another
	// field of the same kind.
	FilterEqual FilterOp = "equal"
	// FilterOrder is <, <=, > and >=.
	FilterOrder FilterOp = "order"
	// FilterText is contains, startsWith and endsWith on text.
	FilterText FilterOp = "text"
	// FilterContains is "tags contains value" and "value in tags" on a
	// field holding several values.
	FilterContains FilterOp = "contains"
	// FilterEmpty is is_empty, is_not_empty and == nil.
	FilterEmpty FilterOp = "empty"
	// FilterDateRange is the date ranges: this_week(x), next_n_days(x, 7) …
	FilterDateRange FilterOp = "date_range"
)

// Filterer is the optional ability of a field type to choose the filter
// operators its fields support; without it they follow its Kind (see
// DefaultFilterOps).
type Filterer interface {
	FieldType
	// FilterOps lists the operator families f supports.
	FilterOps(f *Field) []FilterOp
}

// Sorter is the optional ability of a field type to say whether its fields
// can be sorted on; without it every field with a column can, except
// files.
type Sorter interface {
	FieldType
	// Sortable reports whether lists can be sorted on f.
	Sortable(f *Field) bool
}

// Container is the optional ability of a field type whose column holds
// several values (a multi-picklist's JSON array): filters use it for
// contains, and schema changes to find the records still holding an
// option being removed.
type Container interface {
	FieldType
	// ContainsSQL returns a condition on the quoted column col, in
	// dialect, that holds when the stored list has value, with the
	// argument of its one placeholder.
	ContainsSQL(dialect, col, value string) (cond string, arg any)
}

// Widener is the optional ability of a field type to say which type
// changes keep every value. Changing a field to a type it widens to is
// made without force: in place when both have the same column, otherwise
// by converting every value into a new column. Any other change of type
// may lose values and needs force.
type Widener interface {
	FieldType
	// WidensTo reports whether changing a field of this type to type to
	// keeps every value.
	WidensTo(to string) bool
}

// Bucket is a report grouping of date values.
type Bucket string

// The date buckets and the keys their groups have.
const (
	// BucketDay groups by day: "2026-03-09".
	BucketDay Bucket = "day"
	// BucketWeek groups by ISO week, starting on Monday, keyed by that
	// Monday: "2026-03-09".
	BucketWeek Bucket = "week"
	// BucketMonth groups by month: "2026-03".
	BucketMonth Bucket = "month"
	// BucketQuarter groups by quarter: "2026-Q1".
	BucketQuarter Bucket = "quarter"
	// BucketYear groups by year: "2026".
	BucketYear Bucket = "year"
)

// Grouper is the optional ability of a field type to group report rows
// by buckets of its values (dates by day, week, month …); without it a
// field with a column groups by its value.
type Grouper interface {
	FieldType
	// Buckets lists the buckets f can be grouped by.
	Buckets(f *Field) []Bucket
	// GroupSQL returns a SQL expression over the quoted column col giving
	// the text key of the bucket b of each value, in dialect. Instants are
	// taken at offset from UTC (the user's time zone; whole minutes). The
	// expression has no placeholders, so it can appear both in the SELECT
	// list and in GROUP BY.
	GroupSQL(dialect string, f *Field, col string, b Bucket, offset time.Duration) (string, error)
}

// Inputter is the optional ability of a field type to say which input a
// generated form shows for its fields; without it the input follows the
// type's Kind (see FormInput).
type Inputter interface {
	FieldType
	// Input describes the form input of f.
	Input(f *Field) Input
}
