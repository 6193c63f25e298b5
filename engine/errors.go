package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the engine; engine/api maps them to HTTP statuses.
var (
	ErrNotFound        = errors.New("engine: not found")
	ErrConflict        = errors.New("engine: conflict")
	ErrBadRequest      = errors.New("engine: bad request")
	ErrUnauthenticated = errors.New("engine: not signed in")
	ErrTooLarge        = errors.New("engine: too large")
	// ErrForbidden is returned when the principal may not do what it
	// asked; the message names the object, field or action.
	ErrForbidden = errors.New("engine: forbidden")
)

// FieldError is one problem with one field of a record.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError carries every problem found with a record; the write
// changed nothing.
type ValidationError struct {
	Object string
	// Code is the error code of the answer; "invalid_record" when empty
	// (reports use "invalid_report").
	Code   string
	Errors []FieldError
}

// Error lists the problems.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		if fe.Field != "" {
			parts[i] = fe.Field + ": " + fe.Message
		} else {
			parts[i] = fe.Message
		}
	}
	return fmt.Sprintf("invalid %s: %s", e.Object, strings.Join(parts, "; "))
}

// add records a problem.
func (e *ValidationError) add(field, code, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// has reports whether a problem with field is recorded.
func (e *ValidationError) has(field string) bool {
	for _, fe := range e.Errors {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// err returns e when it holds problems.
func (e *ValidationError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// RequestError is a malformed request (unknown fields, a bad parameter):
// the details say where.
type RequestError struct {
	Message string
	Details []FieldError
}

// Error describes the request problem.
func (e *RequestError) Error() string { return e.Message }

// Unwrap lets errors.Is(err, ErrBadRequest) match.
func (e *RequestError) Unwrap() error { return ErrBadRequest }

// notFound builds a not-found error for an object or record.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, args...))
}

// conflict builds a conflict error.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

// DuplicateError refuses a new record that matches existing ones under a
// duplicate rule (409 with code duplicate). Matches lists those found:
// the ones the principal may read with their id and title, the others
// only as "a record you cannot see".
type DuplicateError struct {
	Object string
	Rule   string
	// Allowed reports whether the caller may create the record anyway
	// (?allow_duplicate=true): the rule only warns.
	Allowed bool
	Matches []DuplicateMatch
}

// DuplicateMatch is one existing record a new one duplicates; ID and
// Title are empty for a record the principal may not read.
type DuplicateMatch struct {
	ID      string         `json:"id,omitempty"`
	Title   map[string]any `json:"title,omitempty"`
	Message string         `json:"message"`
}

// Error names the rule and how many records match.
func (e *DuplicateError) Error() string {
	msg := fmt.Sprintf("this %s duplicates %d existing record(s) under rule %s", e.Object, len(e.Matches), e.Rule)
	if e.Allowed {
		msg += "; send ?allow_duplicate=true to create it anyway"
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *DuplicateError) Unwrap() error { return ErrConflict }
