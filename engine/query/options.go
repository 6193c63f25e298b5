package query

import (
	"time"

	"github.com/crmplatform/crm/metadata"
)

// Limits on what a client may send.
const (
	// MaxFilterLength is the longest filter source accepted, in bytes.
	MaxFilterLength = 64 << 10
	// MaxFilterNodes is the largest filter accepted, in expr AST nodes.
	MaxFilterNodes = 2000
	// MaxInList is the longest list accepted on the right of "in".
	MaxInList = 1000
	// MaxPathDepth is the number of lookups a filter may traverse in one
	// path (account.parent.industry is two).
	MaxPathDepth = 3
	// MaxSortKeys is the number of sort fields accepted, before the id.
	MaxSortKeys = 8
	// MaxCursorLength is the longest cursor accepted, in bytes.
	MaxCursorLength = 4 << 10
)

// Options is the per-request context of a compilation.
type Options struct {
	// Dialect is metadata.DialectSQLite or metadata.DialectPostgres; it
	// decides the form of some arguments (datetimes) and functions.
	Dialect string
	// Now is the time today(), now() and the date ranges (this_week(x) …)
	// are computed from, once per request; its location is the user's time
	// zone for day boundaries. The zero value means time.Now().
	Now time.Time
	// User is the id of the user reading, the value of me() (owner_id ==
	// me()). It is empty where a filter is only checked (a report, a list
	// view), and me() then compiles to a value no record holds.
	User string
	// NoReader says no one reads through the filter (a sharing rule,
	// decided for every user at once): me() is refused.
	NoReader bool
	// Schema resolves lookup targets for paths such as account.industry;
	// without it only the object's own fields can be named.
	Schema *metadata.Schema
	// CheckField is called for every field a filter or sort names, on the
	// object that holds it (object, field); a non-nil error (a field hidden
	// from this user) makes the compilation fail with that error. Answer
	// with an *Error without Pos and Field (say, "unknown field") to have
	// them filled in from the source and the refusal reported as a 400
	// like any other mistake. Nil allows every field.
	CheckField func(object, field string) error
	// RecordRule, when set, returns the record-level access predicate of
	// an object that a filter reaches through a lookup (the account of
	// account.industry), with columns unqualified or qualified by that
	// object's table name. The lookup's subquery then only considers
	// target records the user may read, so a filter cannot probe fields of
	// records hidden from them. An empty Predicate allows all records; an
	// error fails the compilation with that error. It is called once per
	// object and compilation.
	RecordRule func(object string) (Predicate, error)
}

// now returns the reference time of the request.
func (o *Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// check calls CheckField if it is set. When CheckField answers with an
// *Error, the position and field of the name in the source are filled in
// (on a copy) if it left them unset, so a hidden field can be reported
// exactly like an unknown one.
func (o *Options) check(object, field string, pos int) error {
	if o.CheckField == nil {
		return nil
	}
	err := o.CheckField(object, field)
	if qe, ok := err.(*Error); ok && qe.Pos == 0 && qe.Field == "" {
		return &Error{Pos: pos, Field: field, Message: qe.Message}
	}
	return err
}

// Predicate is a SQL boolean expression with "?" placeholders (turn them
// into the dialect's form with store.Rebind) and its arguments, already in
// driver form for the dialect. Columns are quoted with store.Ident and
// qualified by the table name, so the predicate expects the object's table
// under its own name (no alias) in the FROM clause.
type Predicate struct {
	SQL  string
	Args []any
}

// Empty reports whether the predicate has no condition (an empty filter).
func (p Predicate) Empty() bool { return p.SQL == "" }
