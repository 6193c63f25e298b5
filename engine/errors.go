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
