package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/gofiber/fiber/v2"
)

// TestRegistrar mounts routes through a Registrar: a public one, one
// behind the API's authentication and JSON check, one for administrators
// only, and one whose handler reports an engine error; unknown routes
// still answer 404.
func TestRegistrar(t *testing.T) {
	t.Parallel()
	ext := func(r fiber.Router, s *Server) {
		r.Get("/ext/hello", func(c *fiber.Ctx) error { return c.SendString("hello") })
		r.Post("/ext/notes", s.Authenticate, s.RequireJSON, func(c *fiber.Ctx) error {
			p, _ := access.FromContext(c.UserContext())
			var note struct{ Text string }
			if err := decodeStrict(c, &note); err != nil {
				return err
			}
			return c.JSON(fiber.Map{"by": p.Username, "text": note.Text})
		})
		r.Get("/ext/admin", s.Authenticate, s.RequireAdmin, func(c *fiber.Ctx) error { return c.SendString("for administrators") })
		r.Get("/ext/objects/:name", s.Authenticate, func(c *fiber.Ctx) error {
			_, err := s.Engine().Snapshot().Object(c.Params("name"))
			if err != nil {
				return err
			}
			return c.SendString("exists")
		})
	}
	f := newFixtureWith(t, storetest.SQLiteFrom(t, fixtureSeed), platform.Config{}, Config{Registrars: []Registrar{ext}})
	f.run(t, []scenario{
		{name: "a public route", method: "GET", path: "/ext/hello", status: 200, contains: []string{"hello"}},
		{name: "an authenticated route without a token", method: "POST", path: "/ext/notes", body: `{"text": "x"}`, status: 401, code: "unauthenticated"},
		{name: "an authenticated route", method: "POST", path: "/ext/notes", user: "rep1", body: `{"text": "call back"}`, status: 200, contains: []string{`"by":"rep1"`, "call back"}},
		{name: "its JSON is checked", method: "POST", path: "/ext/notes", user: "rep1", body: `{"text": "a", "text": "b"}`, status: 400, code: "malformed_body"},
		{name: "an administrators' route refuses others", method: "GET", path: "/ext/admin", user: "rep1", status: 403, code: "forbidden", notContain: []string{"for administrators"}},
		{name: "an administrators' route without a token", method: "GET", path: "/ext/admin", status: 401, code: "unauthenticated"},
		{name: "an administrators' route", method: "GET", path: "/ext/admin", user: "admin", status: 200, contains: []string{"for administrators"}},
		{name: "an engine error keeps its status", method: "GET", path: "/ext/objects/spaceship", user: "rep1", status: 404, code: "not_found"},
		{name: "the engine behind it", method: "GET", path: "/ext/objects/account", user: "rep1", status: 200, contains: []string{"exists"}},
		{name: "the API is still there", method: "GET", path: "/api/auth/me", user: "rep1", status: 200, contains: []string{`"username":"rep1"`}},
		{name: "an unknown route", method: "GET", path: "/ext/nothing", status: 404, code: "not_found"},
		{name: "an unknown API route", method: "GET", path: "/api/nothing", user: "rep1", status: 404, code: "not_found"},
	})
}

// TestRequestContextDeadline: a handler's context ends at the request
// deadline, and a handler that returns its error answers 504 timeout.
func TestRequestContextDeadline(t *testing.T) {
	t.Parallel()
	wait := func(r fiber.Router, s *Server) {
		r.Get("/ext/wait", func(c *fiber.Ctx) error {
			<-c.UserContext().Done()
			return fmt.Errorf("waiting: %w", c.UserContext().Err())
		})
	}
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	f.app = New(Config{Engine: f.eng, Access: f.access, RequestTimeout: 20 * time.Millisecond, Registrars: []Registrar{wait}})
	f.run(t, []scenario{
		{name: "the deadline ends the context", method: "GET", path: "/ext/wait", status: 504, code: "timeout", notContain: []string{"deadline exceeded"}},
	})
}

// TestRequestContextClientGone: when the client closes its connection,
// the context of its running request ends.
func TestRequestContextClientGone(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	started := make(chan struct{})
	wait := func(r fiber.Router, s *Server) {
		r.Get("/ext/wait", func(c *fiber.Ctx) error {
			close(started)
			ctx := c.UserContext()
			<-ctx.Done()
			ended <- ctx.Err()
			return ctx.Err()
		})
	}
	f := newFixtureWith(t, storetest.SQLiteFrom(t, fixtureSeed), platform.Config{}, Config{RequestTimeout: time.Minute, Registrars: []Registrar{wait}})
	base := f.listen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /ext/wait HTTP/1.1\r\nHost: test\r\n\r\n")
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the request never reached its handler")
	}
	conn.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the context ended with %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the context did not end when the client left")
	}
}
