package api

import (
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/gofiber/fiber/v2"
)

// Registrar mounts the routes of another part of the server (the UI, web
// forms, workflows) on the application, through Config.Registrars. It is
// called once, before the API's own routes and the fallback that answers
// 404 for unknown routes, with the root router and the Server.
//
// Its routes get what every request gets: a request id, a context that
// ends with the client or the request deadline (c.UserContext(); pass it
// to every database call), the request's language and time zone, and
// errors answered as the API answers them (an engine error becomes its
// status and documented code). Nothing more is implied: a route that
// needs a signed-in user puts s.Authenticate in front of its handler, one
// that takes a JSON body puts s.RequireJSON (which reads it within
// MaxJSONBody), one for administrators only s.RequireAdmin. Bodies arrive
// as streams: a route taking another type reads
// c.Context().RequestBodyStream() within its own limit rather than
// c.Body(), which would read a body of any size; whatever it leaves
// unread is discarded after it answers.
//
//	api.Config{Registrars: []api.Registrar{func(r fiber.Router, s *api.Server) {
//		r.Get("/ui", page)                        // public
//		r.Post("/ui/notes", s.Authenticate, s.RequireJSON, saveNote)
//	}}}
type Registrar func(r fiber.Router, s *Server)

// RequireAdmin is the middleware of routes only administrators may use
// (put it after Authenticate): anyone else gets 403 forbidden. An
// administrator is a user whose roles hold every right on every object
// (access.Decider.CanAdminister).
func (s *Server) RequireAdmin(c *fiber.Ctx) error {
	admin, err := s.isAdmin(c)
	if err != nil {
		return err
	}
	if !admin {
		return &apiError{status: fiber.StatusForbidden, code: "forbidden", message: "only an administrator may " + c.Method() + " " + c.Path()}
	}
	return c.Next()
}

// Engine returns the engine the routes work on.
func (s *Server) Engine() *engine.Engine { return s.eng }

// Access returns the access service (users, tokens, decisions).
func (s *Server) Access() *access.Service { return s.access }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }
