package query

import "fmt"

// Error is a problem with a filter, sort or cursor given by the client: an
// unknown field, a type mismatch, an operator the field does not support,
// a malformed cursor. Pos is the character (rune) offset in the source
// where the problem is, Field the field involved, if any.
type Error struct {
	Pos     int
	Field   string
	Message string
}

// Error formats the problem with its position.
func (e *Error) Error() string {
	return fmt.Sprintf("query: at position %d: %s", e.Pos, e.Message)
}

// errorf returns an *Error at pos about field.
func errorf(pos int, field, format string, args ...any) *Error {
	return &Error{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...)}
}
