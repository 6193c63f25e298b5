package api

import (
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/gofiber/fiber/v2"
)

// PingTimeout bounds the database check of /api/health and /api/ready.
const PingTimeout = 2 * time.Second

// probes is the Registrar of the public health and readiness routes.
func probes(r fiber.Router, s *Server) {
	r.Get("/api/health", s.health)
	r.Get("/api/ready", s.ready)
}

// health answers GET /api/health without authentication: 200 when the
// process runs and its database answers a ping within PingTimeout, 503
// unavailable otherwise.
func (s *Server) health(c *fiber.Ctx) error {
	if err := s.eng.DB().Ping(c.UserContext(), PingTimeout); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "ok", "database": "ok", "metadata_version": s.eng.Snapshot().Version})
}

// ready answers GET /api/ready without authentication: 200 when the
// server can serve requests (the database answers, metadata is installed
// and the permission decision can be made), 503 unavailable otherwise,
// for load balancers to send traffic elsewhere meanwhile.
func (s *Server) ready(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := s.eng.DB().Ping(ctx, PingTimeout); err != nil {
		return err
	}
	snap := s.eng.Snapshot()
	if snap.Version == 0 {
		return &apiError{status: fiber.StatusServiceUnavailable, code: "unavailable", message: "no metadata is installed yet"}
	}
	if _, err := s.access.Decide(ctx, snap.Schema); err != nil {
		return fmt.Errorf("%w: permissions: %v", store.ErrUnavailable, err)
	}
	return c.JSON(fiber.Map{"status": "ready", "metadata_version": snap.Version})
}
