package workflows

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/crmplatform/crm/workflows/internal/systable"
	"github.com/gofiber/fiber/v2"
)

// Config wires the workflows onto a platform.
type Config struct {
	Engine *engine.Engine
	Access *access.Service
	Logger *slog.Logger
	// Notifier sends automations' notifications (workflows/reminders).
	Notifier Notifier
}

// Notifier sends a notification of an automation about a record (rec in
// storage form) from inside the write's unit of work.
type Notifier interface {
	Notify(ctx context.Context, w *engine.Writer, source, object, id string, rec map[string]any, n *definition.CompiledNotification) error
}

// Workflows is the wired runtime of the workflow metadata.
type Workflows struct {
	eng    *engine.Engine
	acc    *access.Service
	log    *slog.Logger
	notify Notifier
	// t reaches the approval tables.
	t systable.Tables
}

// Wire creates the workflows' tables and attaches state transitions,
// approvals and automations to the engine (hooks and actions); mount
// Routes on the API and give UI to the web pages.
func Wire(ctx context.Context, cfg Config) (*Workflows, error) {
	if cfg.Engine == nil || cfg.Access == nil {
		return nil, fmt.Errorf("workflows: an engine and an access service are required")
	}
	wf := &Workflows{eng: cfg.Engine, acc: cfg.Access, log: cfg.Logger, notify: cfg.Notifier, t: systable.New(cfg.Engine.DB(), cfg.Engine.Now)}
	if wf.log == nil {
		wf.log = slog.Default()
	}
	if err := wf.migrate(ctx); err != nil {
		return nil, err
	}
	wf.eng.OnAfter(engine.OpUpdate, "*", wf.checkTransition)
	wf.registerApprovals()
	wf.eng.OnAfter(engine.OpCreate, "*", wf.automate)
	wf.eng.OnAfter(engine.OpUpdate, "*", wf.automate)
	return wf, nil
}

// Routes mounts the workflow routes (an api.Registrar).
func (wf *Workflows) Routes(r fiber.Router, s *api.Server) {
	r.Get("/api/records/:object/:id/transitions", s.Authenticate, wf.transitionsRoute)
	r.Get("/api/records/:object/:id/approvals", s.Authenticate, wf.recordApprovalsRoute)
	r.Get("/api/approvals", s.Authenticate, wf.assignedRoute)
}

// effectiveRoles returns the roles of p with those below them in the
// hierarchy (a parent role holds every right of its children).
func (wf *Workflows) effectiveRoles(ctx context.Context, s *metadata.Schema, p *access.Principal) ([]string, error) {
	d, err := wf.acc.Decide(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("workflows: roles of %s: %w", p.Username, err)
	}
	return d.EffectiveRoles(p), nil
}
