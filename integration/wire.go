package integration

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
)

// Defaults of Config.
const (
	DefaultBackoff  = 30 * time.Second
	DefaultRetryFor = 24 * time.Hour
	DefaultTimeout  = 10 * time.Second
	// DefaultRetention is how long delivered and failed deliveries are
	// listed before PurgeKind deletes them.
	DefaultRetention = 30 * 24 * time.Hour
)

// deliverAttempts bounds the runs of one delivery job that end in an
// error (a database outage, not a target's answer, which the job records
// and schedules itself): about fourteen hours of back-off.
const deliverAttempts = 20

// Config wires the integration onto a platform.
type Config struct {
	Engine *engine.Engine
	Logger *slog.Logger
	// Backoff is the wait after a delivery's first failed attempt,
	// doubled after each further one up to an hour (DefaultBackoff).
	Backoff time.Duration
	// RetryFor is how long after its first attempt (after a re-send:
	// its first attempt since) a delivery is retried before it is failed
	// (DefaultRetryFor).
	RetryFor time.Duration
	// Timeout bounds connecting to a target and getting its answer
	// (DefaultTimeout).
	Timeout time.Duration
	// Retention is how long delivered and failed deliveries are kept
	// (DefaultRetention).
	Retention time.Duration
}

// Integration is the wired runtime of webhooks and custom links.
type Integration struct {
	eng  *engine.Engine
	db   *store.DB
	jobs *jobs.Runner
	log  *slog.Logger
	opt  Config
	// pauses are the webhooks whose target timed out lately.
	pauses pauses
}

// Wire creates the outbox tables, checks webhook targets on every
// metadata change, subscribes to domain events (and to deletes, which it
// queues before the row goes) and registers the job kinds of delivery and
// purge. Mount its Routes on the API.
func Wire(ctx context.Context, cfg Config) (*Integration, error) {
	if cfg.Engine == nil {
		return nil, errors.New("integration: an engine is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Backoff = positive(cfg.Backoff, DefaultBackoff)
	cfg.RetryFor = positive(cfg.RetryFor, DefaultRetryFor)
	cfg.Timeout = positive(cfg.Timeout, DefaultTimeout)
	cfg.Retention = positive(cfg.Retention, DefaultRetention)
	x := &Integration{eng: cfg.Engine, db: cfg.Engine.DB(), jobs: cfg.Engine.Jobs(), log: cfg.Logger, opt: cfg}
	if err := x.migrate(ctx); err != nil {
		return nil, err
	}
	x.eng.CheckChanges(checkTargets)
	x.eng.Subscribe(x.onEvent)
	x.eng.OnBefore(engine.OpDelete, "*", x.beforeDelete)
	x.jobs.Register(jobs.Kind{Name: DeliverKind, Step: x.step, MaxAttempts: deliverAttempts})
	x.jobs.Register(jobs.Kind{Name: PurgeKind, Step: x.purge, Every: purgeEvery})
	return x, nil
}

// positive returns d, or def when d is not above zero.
func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
