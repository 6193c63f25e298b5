package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// Detail is one item of an error's details: a field or a path, and why.
type Detail struct {
	Field    string `json:"field,omitempty"`
	Path     string `json:"path,omitempty"`
	File     string `json:"file,omitempty"`
	Code     string `json:"code,omitempty"`
	Position int    `json:"position,omitempty"`
	// ID and Record name an existing record the request collides with
	// (a duplicate): its id and title fields.
	ID      string         `json:"id,omitempty"`
	Record  map[string]any `json:"record,omitempty"`
	Message string         `json:"message"`
}

// ErrorBody is the JSON form of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Details []Detail `json:"details,omitempty"`
	} `json:"error"`
}

// apiError is an error with its status already decided by a handler.
type apiError struct {
	status  int
	code    string
	message string
	details []Detail
}

// Error returns the message.
func (e *apiError) Error() string { return e.message }

// badRequest builds a 400 answer.
func badRequest(code, message string, details ...Detail) error {
	return &apiError{status: fiber.StatusBadRequest, code: code, message: message, details: details}
}

// Classify returns the HTTP status, the documented error code and the
// details the API answers an error with. Other parts of the server that
// answer in another form (the web UI's pages) call it, so an error means
// the same status everywhere.
func Classify(err error) (status int, code string, details []Detail) { return classify(err) }

// classify maps an error to status, code and details. It is the only place
// that knows which engine error is which HTTP status.
func classify(err error) (int, string, []Detail) {
	var ae *apiError
	var ve *engine.ValidationError
	var re *engine.RequestError
	var qe *query.Error
	var ps metadata.Problems
	var fe *fiber.Error
	var afe *access.FieldError
	var be *engine.BatchError
	var de *engine.DuplicateError
	switch {
	case errors.As(err, &be):
		// The failing record of a batch: its own answer, pointed at it.
		status, code, ds := classify(be.Err)
		path := fmt.Sprintf("/records/%d", be.Index)
		if be.ID != "" {
			path = fmt.Sprintf("/ids/%d", be.Index)
		}
		if len(ds) == 0 {
			ds = []Detail{{Message: be.Err.Error()}}
		}
		for i := range ds {
			ds[i].Path = path + ds[i].Path
			if be.ID != "" {
				ds[i].ID = be.ID
			}
		}
		return status, code, ds
	case errors.As(err, &ae):
		return ae.status, ae.code, ae.details
	case store.Unavailable(err):
		return fiber.StatusServiceUnavailable, "unavailable", nil
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusGatewayTimeout, "timeout", nil
	case errors.Is(err, context.Canceled):
		return fiber.StatusRequestTimeout, "timeout", nil
	case errors.As(err, &afe):
		return fiber.StatusForbidden, "forbidden", []Detail{{Field: afe.Field, Code: string(afe.Level), Message: afe.Error()}}
	case errors.As(err, &de):
		ds := make([]Detail, len(de.Matches))
		for i, m := range de.Matches {
			ds[i] = Detail{ID: m.ID, Record: m.Title, Code: de.Rule, Message: m.Message}
		}
		return fiber.StatusConflict, "duplicate", ds
	case errors.As(err, &ve):
		ds := make([]Detail, len(ve.Errors))
		for i, e := range ve.Errors {
			ds[i] = Detail{Field: e.Field, Code: e.Code, Message: e.Message}
		}
		code := "invalid_record"
		if ve.Code != "" {
			code = ve.Code
		}
		return fiber.StatusUnprocessableEntity, code, ds
	case errors.As(err, &re):
		ds := make([]Detail, len(re.Details))
		for i, e := range re.Details {
			ds[i] = Detail{Field: e.Field, Code: e.Code, Message: e.Message}
		}
		return fiber.StatusBadRequest, "bad_request", ds
	case errors.As(err, &qe):
		return fiber.StatusBadRequest, "bad_query", []Detail{{Field: qe.Field, Position: qe.Pos, Message: qe.Message}}
	case errors.As(err, &ps):
		ds := make([]Detail, len(ps))
		for i, p := range ps {
			ds[i] = Detail{Path: p.Path, File: p.File, Message: p.Message}
		}
		return fiber.StatusUnprocessableEntity, "invalid_metadata", ds
	case errors.As(err, &fe):
		return fe.Code, statusCode(fe.Code), nil
	case errors.Is(err, engine.ErrUnauthenticated), errors.Is(err, access.ErrUnauthenticated), errors.Is(err, access.ErrInvalidCredentials):
		return fiber.StatusUnauthorized, "unauthenticated", nil
	case errors.Is(err, engine.ErrForbidden), errors.Is(err, access.ErrDenied):
		return fiber.StatusForbidden, "forbidden", nil
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, access.ErrUserNotFound), errors.Is(err, access.ErrTokenNotFound):
		return fiber.StatusNotFound, "not_found", nil
	case errors.Is(err, engine.ErrConflict), errors.Is(err, access.ErrUserExists), errors.Is(err, store.ErrVersionConflict), errors.Is(err, access.ErrRoleInUse), errors.Is(err, access.ErrLastAdmin):
		return fiber.StatusConflict, "conflict", nil
	case errors.Is(err, engine.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "too_large", nil
	case errors.Is(err, engine.ErrBadRequest):
		return fiber.StatusBadRequest, "bad_request", nil
	case errors.Is(err, access.ErrInvalid), errors.Is(err, access.ErrUnknownRole), errors.Is(err, access.ErrWeakPassword):
		return fiber.StatusUnprocessableEntity, "invalid", nil
	}
	return fiber.StatusInternalServerError, "internal", nil
}

// statusCode names the code of an answer that has only an HTTP status
// (fiber's own errors: a request line too long, a body over the limit).
// Every code it returns is listed in docs/api.md.
func statusCode(status int) string {
	switch status {
	case fiber.StatusBadRequest:
		return "bad_request"
	case fiber.StatusUnauthorized:
		return "unauthenticated"
	case fiber.StatusForbidden:
		return "forbidden"
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestTimeout, fiber.StatusGatewayTimeout:
		return "timeout"
	case fiber.StatusRequestEntityTooLarge, fiber.StatusRequestHeaderFieldsTooLarge:
		return "too_large"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case fiber.StatusTooManyRequests:
		return "throttled"
	case fiber.StatusServiceUnavailable:
		return "unavailable"
	}
	if status < fiber.StatusInternalServerError {
		return "bad_request"
	}
	return "internal"
}

// statusMessage is the message of an answer that has only an HTTP status:
// fiber's own texts can carry the inner workings of the HTTP server.
func statusMessage(status int) string {
	switch status {
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request line and headers are over %d bytes: send a long list query as POST /api/records/{object}/query", MaxHeaderBytes)
	case fiber.StatusRequestEntityTooLarge:
		return fmt.Sprintf("the body is over %d bytes", MaxUploadBody)
	case fiber.StatusRequestTimeout:
		return "the request did not arrive in time"
	case fiber.StatusBadRequest:
		return "the request is not valid HTTP"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "error"
}

// errorHandler writes every error as ErrorBody with its status; internal
// errors are logged and their text not shown.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, code, details := classify(err)
		var body ErrorBody
		body.Error.Code, body.Error.Details = code, details
		body.Error.Message = err.Error()
		var fe *fiber.Error
		var ae *apiError
		id := c.GetRespHeader(fiber.HeaderXRequestID)
		switch {
		case errors.As(err, &ae):
		case status == fiber.StatusInternalServerError:
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", id, "err", err)
			body.Error.Message = "internal error; see the server log for request " + id
		case status == fiber.StatusServiceUnavailable:
			log.Warn("database unavailable", "method", c.Method(), "path", c.Path(), "request_id", id, "err", err)
			body.Error.Message = "the database cannot be reached; try again shortly"
			c.Set(fiber.HeaderRetryAfter, "5")
		case status == fiber.StatusGatewayTimeout || status == fiber.StatusRequestTimeout && !errors.As(err, &fe):
			log.Warn("request ended before its answer", "method", c.Method(), "path", c.Path(), "request_id", id, "err", err)
			body.Error.Message = "the request was not done within its time limit, or its client left"
		case errors.As(err, &fe):
			log.Debug("request refused", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
			body.Error.Message = statusMessage(status)
		}
		return c.Status(status).JSON(body)
	}
}
