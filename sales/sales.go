package sales

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/sales/imports"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// Sales holds what the sales rules run on.
type Sales struct {
	eng     *engine.Engine
	access  *access.Service
	db      *store.DB
	log     *slog.Logger
	forms   *limiter
	imports *imports.Queue
}

// Config wires the sales rules.
type Config struct {
	Engine *engine.Engine
	Access *access.Service
	Logger *slog.Logger
}

// Wire creates the sales system tables, brings the duplicate key columns
// in line with the current metadata, registers the job kind of imports,
// attaches the hooks (duplicate and assignment rules on every create),
// the convert action and the schema hook that keeps the key columns in
// step with metadata changes, and returns the routes to mount (imports,
// web forms).
func Wire(ctx context.Context, cfg Config) (*Sales, error) {
	s := &Sales{eng: cfg.Engine, access: cfg.Access, db: cfg.Engine.DB(), log: cfg.Logger, forms: newLimiter()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := s.syncKeysNow(ctx); err != nil {
		return nil, err
	}
	q, err := imports.NewQueue(ctx, s.eng, s.access)
	if err != nil {
		return nil, err
	}
	s.imports = q
	s.eng.OnSchemaApplied(func(ctx context.Context, tx bun.Tx, sc *metadata.Schema) error {
		return s.syncKeys(ctx, tx.Tx, sc)
	})
	s.eng.OnBefore(engine.OpCreate, "*", s.assign)
	s.eng.OnBefore(engine.OpCreate, "*", s.checkDuplicates)
	s.eng.OnAfter(engine.OpCreate, "*", s.storeKeys)
	s.eng.OnAfter(engine.OpUpdate, "*", s.storeKeys)
	s.eng.RegisterAction(engine.Action{Name: metadata.ActionConvert, Run: s.convert})
	return s, nil
}

// Routes mounts the sales routes: imports (POST /api/import/{object}),
// web forms (GET and POST /f/{name}, GET
// /api/meta/web_forms/{name}/snippet) and ?allow_duplicate=true on
// record creates.
func (s *Sales) Routes(r fiber.Router, srv *api.Server) {
	s.importRoutes(r, srv)
	s.formRoutes(r, srv)
	r.Use("/api/records", allowDuplicateParam)
}

// allowDuplicateParam carries ?allow_duplicate=true of a record request
// into its context.
func allowDuplicateParam(c *fiber.Ctx) error {
	switch v := c.Query("allow_duplicate"); v {
	case "":
	case "true", "1":
		c.SetUserContext(WithAllowDuplicates(c.UserContext()))
	case "false", "0":
	default:
		return &engine.RequestError{Message: "allow_duplicate must be true or false", Details: []engine.FieldError{{Field: "allow_duplicate", Code: "invalid", Message: "not true or false: " + v}}}
	}
	return c.Next()
}

// allowKey marks a context whose creates may duplicate records under
// rules that only warn.
type allowKey struct{}

// WithAllowDuplicates returns a context in which creates go through
// duplicate rules whose action is warn.
func WithAllowDuplicates(ctx context.Context) context.Context {
	return context.WithValue(ctx, allowKey{}, true)
}

// AllowDuplicates reports whether ctx allows duplicates under warning
// rules.
func AllowDuplicates(ctx context.Context) bool {
	b, _ := ctx.Value(allowKey{}).(bool)
	return b
}

// migrate creates the sales system tables: the duplicate key columns
// kept, the round-robin counters and the web forms' daily counts.
func (s *Sales) migrate(ctx context.Context) error {
	big := "BIGINT"
	if s.db.Dialect == metadata.DialectSQLite {
		big = "INTEGER"
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS crm_sales_dup_keys ("object" TEXT NOT NULL, "rule" TEXT NOT NULL, "signature" TEXT NOT NULL, PRIMARY KEY ("object", "rule"))`,
		`CREATE TABLE IF NOT EXISTS crm_sales_round_robin ("counter" TEXT PRIMARY KEY, "position" ` + big + ` NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS crm_sales_form_days ("form" TEXT NOT NULL, "day" TEXT NOT NULL, "count" ` + big + ` NOT NULL, PRIMARY KEY ("form", "day"))`,
	} {
		if _, err := s.db.SQL().ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sales: create tables: %w", err)
		}
	}
	return nil
}
