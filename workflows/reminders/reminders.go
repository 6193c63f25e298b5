package reminders

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/workflows/internal/systable"
	"github.com/gofiber/fiber/v2"
)

// Job kinds of reminders and notifications (crm jobs lists them).
const (
	// KindScan delivers the reminders that are due; it runs every
	// Config.Interval.
	KindScan = "reminders.scan"
	// KindPlan plans a reminder for every record of its object, after the
	// reminder was added or changed.
	KindPlan = "reminders.plan"
	// KindEmail, KindSMS and KindWebhook send one message each, retried
	// with back-off.
	KindEmail   = "notify.email"
	KindSMS     = "notify.sms"
	KindWebhook = "notify.webhook"
)

// DefaultInterval is how often due reminders are looked for when
// CRM_SCHEDULER_INTERVAL is not set.
const DefaultInterval = 30 * time.Second

// sendTimeout bounds one post or one SMTP session.
const sendTimeout = 15 * time.Second

// sendAttempts bounds the attempts of one send; the back-off doubles from
// sendBackoff.
const (
	sendAttempts = 8
	sendBackoff  = 30 * time.Second
)

// Config wires reminders and notifications.
type Config struct {
	Engine *engine.Engine
	Access *access.Service
	Logger *slog.Logger
	// Interval is how often due reminders are looked for
	// (CRM_SCHEDULER_INTERVAL; DefaultInterval when zero).
	Interval time.Duration
	// SMTPURL is the mail server (CRM_SMTP_URL):
	// smtp://user:pass@host:587 (STARTTLS when the server offers it),
	// smtps://… for TLS from the start; ?from=address sets the sender.
	// Empty: no e-mail is sent.
	SMTPURL string
	// SMSWebhookURL receives a JSON POST per SMS (CRM_SMS_WEBHOOK_URL).
	// Empty: no SMS is sent.
	SMSWebhookURL string
	// HTTPClient posts SMS (a client with a 15 s timeout when nil).
	HTTPClient *http.Client
	// WebhookAllow is the operator's allow-list of the hosts automations'
	// webhook notifications may post to (CRM_WEBHOOK_ALLOW, shared with
	// integration's webhooks); nil allows none.
	WebhookAllow *integration.AllowList
}

// ConfigFromEnv fills the settings of Config from CRM_SCHEDULER_INTERVAL,
// CRM_SMTP_URL, CRM_SMS_WEBHOOK_URL and CRM_WEBHOOK_ALLOW.
func ConfigFromEnv() (Config, error) {
	var c Config
	if v := os.Getenv("CRM_SCHEDULER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("CRM_SCHEDULER_INTERVAL=%q: give a positive duration such as 30s or 1m", v)
		}
		c.Interval = d
	}
	c.SMTPURL = os.Getenv("CRM_SMTP_URL")
	c.SMSWebhookURL = os.Getenv("CRM_SMS_WEBHOOK_URL")
	allow, err := integration.AllowListFromEnv()
	if err != nil {
		return c, err
	}
	c.WebhookAllow = allow
	return c, nil
}

// Reminders is the wired runtime of reminders and notifications.
type Reminders struct {
	eng    *engine.Engine
	acc    *access.Service
	log    *slog.Logger
	cfg    Config
	mailer *mailer
	// t reaches the tables of reminders and notifications.
	t systable.Tables
	// http posts SMS; hooks posts automations' webhooks (allow-listed).
	http, hooks *http.Client
}

// Wire creates the tables, attaches the planning hooks, registers the job
// kinds on the engine's runner and returns the reminders with the routes
// of notifications.
func Wire(ctx context.Context, cfg Config) (*Reminders, api.Registrar, error) {
	if cfg.Engine == nil || cfg.Access == nil {
		return nil, nil, fmt.Errorf("reminders: an engine and an access service are required")
	}
	rm := &Reminders{eng: cfg.Engine, acc: cfg.Access, log: cfg.Logger, cfg: cfg, http: cfg.HTTPClient, t: systable.New(cfg.Engine.DB(), cfg.Engine.Now)}
	if rm.log == nil {
		rm.log = slog.Default()
	}
	if rm.cfg.Interval <= 0 {
		rm.cfg.Interval = DefaultInterval
	}
	if rm.http == nil {
		rm.http = &http.Client{Timeout: sendTimeout}
	}
	if rm.cfg.WebhookAllow == nil {
		rm.cfg.WebhookAllow = &integration.AllowList{}
	}
	rm.hooks = rm.cfg.WebhookAllow.Client(sendTimeout)
	if cfg.SMTPURL != "" {
		m, err := newMailer(cfg.SMTPURL)
		if err != nil {
			return nil, nil, err
		}
		rm.mailer = m
	}
	if cfg.SMSWebhookURL != "" {
		if u, err := url.Parse(cfg.SMSWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("reminders: CRM_SMS_WEBHOOK_URL %q is not an http(s) URL", cfg.SMSWebhookURL)
		}
	}
	if err := rm.migrate(ctx); err != nil {
		return nil, nil, err
	}
	rm.eng.OnAfter(engine.OpCreate, "*", rm.planHook)
	rm.eng.OnAfter(engine.OpUpdate, "*", rm.planHook)
	rm.eng.OnAfter(engine.OpDelete, "*", rm.cancelHook)
	rm.eng.OnSchemaApplied(rm.replan)
	rm.eng.CheckChanges(rm.checkWebhooks)
	r := rm.eng.Jobs()
	r.Register(jobs.Kind{Name: KindScan, Every: rm.cfg.Interval, Step: rm.scanStep})
	r.Register(jobs.Kind{Name: KindPlan, Step: rm.planStep})
	r.Register(jobs.Kind{Name: KindEmail, MaxAttempts: sendAttempts, Backoff: sendBackoff, Step: rm.emailStep})
	r.Register(jobs.Kind{Name: KindSMS, MaxAttempts: sendAttempts, Backoff: sendBackoff, Step: rm.smsStep})
	r.Register(jobs.Kind{Name: KindWebhook, MaxAttempts: sendAttempts, Backoff: sendBackoff, Step: rm.webhookStep})
	return rm, rm.routes, nil
}

// routes mounts the notification routes.
func (rm *Reminders) routes(r fiber.Router, s *api.Server) {
	r.Get("/api/notifications", s.Authenticate, rm.listRoute)
	r.Post("/api/notifications/read-all", s.Authenticate, s.RequireJSON, rm.readAllRoute)
	r.Post("/api/notifications/:id/read", s.Authenticate, s.RequireJSON, rm.readRoute)
}
