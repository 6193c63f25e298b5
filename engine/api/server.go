package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// Limits of requests.
const (
	// MaxJSONBody is the largest JSON body accepted.
	MaxJSONBody = 1 << 20
	// MaxUploadBody is the largest request body: an upload of the
	// largest file (metadata.MaxFileSize) with room for its multipart
	// headers.
	MaxUploadBody = metadata.MaxFileSize + 64<<10
	// MaxHeaderBytes is the largest request line and headers together
	// (431 above): room for a URL with a filter of about 700 record ids.
	MaxHeaderBytes = 32 << 10
)

// Config wires the API.
type Config struct {
	Engine *engine.Engine
	Access *access.Service
	Logger *slog.Logger
	// RequestTimeout bounds the work of one request: its context ends
	// then, and a handler still waiting on the database answers 504
	// (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
	// Registrars mount other parts of the server (the UI, web forms,
	// workflows) before the fallback answer for unknown routes.
	Registrars []Registrar
	// TrustedProxies are the proxies whose X-Forwarded-For header names
	// the client (see ParseTrustedProxies); with none, the header is
	// ignored and the client is the connection's peer.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is the bearer token GET /metrics asks for;
	// without one, only clients on the loopback interface that came
	// through no proxy may read the metrics.
	MetricsToken string
}

// DefaultRequestTimeout is the request deadline when Config names none.
const DefaultRequestTimeout = 30 * time.Second

// Server holds the routes' dependencies.
type Server struct {
	eng     *engine.Engine
	access  *access.Service
	log     *slog.Logger
	timeout time.Duration
	proxies []netip.Prefix
	signIns *throttle
	metrics *metrics
	// metricsToken is Config.MetricsToken.
	metricsToken string
	// routes are the application's routes, "GET /api/reports/:name/run",
	// for the OpenAPI document.
	routes map[string]bool
}

// New builds the fiber application with every route: the API's own,
// then those of cfg.Registrars, then the 404 answer for any other route.
func New(cfg Config) *fiber.App {
	s := &Server{eng: cfg.Engine, access: cfg.Access, log: cfg.Logger, timeout: cfg.RequestTimeout, proxies: cfg.TrustedProxies, signIns: newThrottle(),
		metrics: newMetrics(cfg.Engine), metricsToken: cfg.MetricsToken}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	app := fiber.New(fiber.Config{
		Immutable:      true,
		BodyLimit:      MaxUploadBody,
		ReadBufferSize: MaxHeaderBytes,
		// Bodies are read by the routes, each within its limit: uploads are
		// streamed to disk up to their field's max_size, JSON bodies read
		// up to MaxJSONBody (see RequireJSON and limitBody).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		DisableStartupMessage:        true,
		ErrorHandler:                 errorHandler(s.log),
		JSONEncoder:                  encodeJSON,
	})
	app.Use(s.observe, recover.New(), requestid.New(), limitBody, s.requestContext, checkURL, language)
	s.metricsRoute(app)
	// Registrars come first, so the routes they mount under /api choose
	// their own middleware (probes are public).
	for _, reg := range append([]Registrar{probes}, cfg.Registrars...) {
		reg(app, s)
	}
	api := app.Group("/api")
	api.Post("/auth/login", s.RequireJSON, s.login)
	api.Use(s.Authenticate)
	api.Post("/files/:object/:field", s.upload) // multipart/form-data
	api.Use(s.RequireJSON)                      // every route below takes JSON bodies
	api.Post("/auth/logout", s.logout)
	api.Get("/auth/me", s.me)
	api.Get("/openapi.json", s.openapi)
	s.metaRoutes(api.Group("/meta"))
	s.recordRoutes(api.Group("/records"))
	s.accessRoutes(api)
	app.Use(func(c *fiber.Ctx) error {
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no route " + c.Method() + " " + c.Path()}
	})
	s.routes = map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		s.routes[r.Method+" "+strings.TrimSuffix(r.Path, "/")] = true
	}
	return app
}

// encodeJSON is the answers' JSON encoder: records and list pages, most of
// what the API writes, encode themselves (engine.Record.MarshalJSON, the
// same bytes as encoding/json) and are written as they come, without
// encoding/json's second pass that checks and compacts what a MarshalJSON
// method returns; anything else goes through encoding/json.
func encodeJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case engine.Record:
		return x.MarshalJSON()
	case *engine.ListResult:
		return x.MarshalJSON()
	}
	return json.Marshal(v)
}

// language carries the request's Accept-Language into its context, so
// rule messages come in the user's language, and its X-Timezone (an IANA
// name), so "today" and "this week" in filters are the user's.
func language(c *fiber.Ctx) error {
	if lang := engine.ParseAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage)); lang != "" {
		c.SetUserContext(engine.WithLanguage(c.UserContext(), lang))
	}
	if tz := c.Get("X-Timezone"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return badRequest("bad_request", "X-Timezone must be an IANA time zone such as Asia/Shanghai", Detail{Field: "X-Timezone", Message: tz})
		}
		c.SetUserContext(engine.WithLocation(c.UserContext(), loc))
	}
	return c.Next()
}

// Authenticate is the middleware of every route that needs a signed-in
// user: it turns the bearer token into a principal in the request's
// context (see access.FromContext), or answers 401 for a missing,
// unknown, expired or revoked token, and 503 when the database that would
// tell cannot be reached.
func (s *Server) Authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return &apiError{status: fiber.StatusUnauthorized, code: "unauthenticated", message: "send Authorization: Bearer <token>; get a token from POST /api/auth/login"}
	}
	p, err := s.access.Authenticate(c.UserContext(), token)
	if errors.Is(err, access.ErrUnauthenticated) {
		return &apiError{status: fiber.StatusUnauthorized, code: "unauthenticated", message: "the token is unknown, expired or revoked"}
	}
	if err != nil {
		return err
	}
	c.SetUserContext(engine.WithRequest(access.WithPrincipal(c.UserContext(), p)))
	return c.Next()
}

// principal returns the request's principal.
func principal(c *fiber.Ctx) *access.Principal {
	p, _ := access.FromContext(c.UserContext())
	return p
}

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login exchanges a username and password for a session token.
func (s *Server) login(c *fiber.Ctx) error {
	var b loginBody
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	if b.Username == "" || b.Password == "" {
		return &apiError{status: fiber.StatusUnprocessableEntity, code: "invalid", message: "username and password are required",
			details: []Detail{{Field: "username", Message: "required"}, {Field: "password", Message: "required"}}}
	}
	var token string
	var p *access.Principal
	err := s.throttledCheck(c, b.Username, func() (err error) {
		token, p, err = s.access.Login(c.UserContext(), b.Username, b.Password)
		return err
	})
	if errors.Is(err, access.ErrInvalidCredentials) {
		return &apiError{status: fiber.StatusUnauthorized, code: "invalid_credentials", message: "unknown username or wrong password"}
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"token": token, "user": p})
}

// logout revokes the token the request came with.
func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.access.RevokeToken(c.UserContext(), principal(c).TokenID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// me returns the signed-in user.
func (s *Server) me(c *fiber.Ctx) error { return c.JSON(principal(c)) }
