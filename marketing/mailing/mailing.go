package mailing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/marketing"
)

// Job kinds of the package.
const (
	// SendKind sends the pending recipients of one mailing.
	SendKind = "mailings.send"
	// TestKind sends one test message to its sender.
	TestKind = "mailings.test"
)

// Defaults of Config.
const (
	// DefaultRate is the messages sent per minute (CRM_MAIL_RATE).
	DefaultRate = 600
	// DefaultBatch is the recipients one step of the send job handles.
	DefaultBatch = 50
	// DefaultMaxTries is how often a recipient the server deferred (a 4xx
	// answer, a connection that failed before the message went) is tried
	// before it is failed.
	DefaultMaxTries = 5
)

// Config wires mailings onto an engine.
type Config struct {
	Engine *engine.Engine
	Logger *slog.Logger
	// PublicURL is where recipients reach this server (CRM_PUBLIC_URL,
	// such as https://crm.example.com): the base of the unsubscribe,
	// pixel and click links. E-mail mailings need it.
	PublicURL string
	// SMTPURL is the mail server (CRM_SMTP_URL):
	// smtp://user:pass@host:587?from=address (STARTTLS when offered) or
	// smtps://…; e-mail cannot be sent without it.
	SMTPURL string
	// SMSWebhookURL receives each SMS as a JSON POST
	// (CRM_SMS_WEBHOOK_URL); SMS cannot be sent without it.
	SMSWebhookURL string
	// Rate is the messages sent per minute (CRM_MAIL_RATE; DefaultRate).
	Rate int
	// Batch is the recipients one step handles (DefaultBatch).
	Batch int
	// Email and SMS, when set, replace the transports built from
	// SMTPURL and SMSWebhookURL.
	Email, SMS Transport
	// RetryBackoff is the first delay before a failed step is retried
	// (the job runner's default when zero).
	RetryBackoff time.Duration
}

// ConfigFromEnv reads CRM_PUBLIC_URL, CRM_SMTP_URL, CRM_SMS_WEBHOOK_URL
// and CRM_MAIL_RATE.
func ConfigFromEnv() (Config, error) {
	c := Config{PublicURL: os.Getenv("CRM_PUBLIC_URL"), SMTPURL: os.Getenv("CRM_SMTP_URL"), SMSWebhookURL: os.Getenv("CRM_SMS_WEBHOOK_URL")}
	if r := os.Getenv("CRM_MAIL_RATE"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("mailing: CRM_MAIL_RATE must be a number of messages per minute above zero, not %q", r)
		}
		c.Rate = n
	}
	return c, nil
}

// Mailer is the wired runtime of mailings.
type Mailer struct {
	eng    *engine.Engine
	db     *store.DB
	jobs   *jobs.Runner
	log    *slog.Logger
	cfg    Config
	public string
	key    []byte
}

// Wire creates the mailing tables and the tracking key, registers the
// actions send_mailing, preview_mailing and test_mailing on campaigns and
// the job kinds, and returns the mailer; mount its Routes on the API.
func Wire(ctx context.Context, cfg Config) (*Mailer, error) {
	if cfg.Engine == nil {
		return nil, errors.New("mailing: an engine is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	m := &Mailer{eng: cfg.Engine, db: cfg.Engine.DB(), jobs: cfg.Engine.Jobs(), log: cfg.Logger, cfg: cfg,
		public: strings.TrimRight(cfg.PublicURL, "/")}
	if m.cfg.Email == nil && cfg.SMTPURL != "" {
		t, err := NewSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		m.cfg.Email = t
	}
	if m.cfg.SMS == nil && cfg.SMSWebhookURL != "" {
		m.cfg.SMS = NewSMSWebhook(cfg.SMSWebhookURL)
	}
	if err := m.migrate(ctx); err != nil {
		return nil, err
	}
	m.eng.RegisterAction(engine.Action{Name: marketing.ActionSendMailing, Objects: []string{"campaign"}, Run: m.sendAction})
	m.eng.RegisterAction(engine.Action{Name: ActionPreview, Right: marketing.ActionSendMailing, Objects: []string{"campaign"}, Run: m.previewAction})
	m.eng.RegisterAction(engine.Action{Name: ActionTest, Right: marketing.ActionSendMailing, Objects: []string{"campaign"}, Run: m.testAction})
	m.jobs.Register(jobs.Kind{Name: SendKind, Step: m.step, MaxAttempts: 20, Backoff: cfg.RetryBackoff})
	m.jobs.Register(jobs.Kind{Name: TestKind, Step: m.testStep, Backoff: cfg.RetryBackoff})
	return m, nil
}

// Names of the actions beside send_mailing.
const (
	ActionPreview = "preview_mailing"
	ActionTest    = "test_mailing"
)

// Tables of mailings.
const (
	TableMailings     = "crm_mailings"
	TableRecipients   = "crm_mailing_recipients"
	TableSuppressions = "crm_mailing_suppressions"
	TableKeys         = "crm_marketing_keys"
)

// migrate creates the tables if they do not exist and the signing key of
// tracking tokens once.
func (m *Mailer) migrate(ctx context.Context) error {
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + TableMailings + ` (
			id VARCHAR(36) PRIMARY KEY,
			campaign_id VARCHAR(36) NOT NULL,
			template TEXT NOT NULL,
			object TEXT NOT NULL,
			channel TEXT NOT NULL,
			language TEXT NOT NULL,
			filter TEXT NOT NULL DEFAULT '',
			sender TEXT NOT NULL,
			sender_id VARCHAR(36) NOT NULL,
			state TEXT NOT NULL,
			track BOOLEAN NOT NULL DEFAULT FALSE,
			links TEXT NOT NULL DEFAULT '[]',
			window_start TEXT NOT NULL DEFAULT '',
			window_sent INTEGER NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL,
			finished_at TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS crm_mailings_campaign_idx ON ` + TableMailings + ` (campaign_id, created_at)`,
		`CREATE TABLE IF NOT EXISTS ` + TableRecipients + ` (
			id VARCHAR(36) PRIMARY KEY,
			mailing_id VARCHAR(36) NOT NULL,
			seq INTEGER NOT NULL,
			object TEXT NOT NULL,
			record_id VARCHAR(36) NOT NULL,
			address TEXT NOT NULL DEFAULT '',
			state TEXT NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			tries INTEGER NOT NULL DEFAULT 0,
			claim TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '',
			sent_at TEXT NOT NULL DEFAULT '',
			opened_at TEXT NOT NULL DEFAULT '',
			opens INTEGER NOT NULL DEFAULT 0,
			clicked_at TEXT NOT NULL DEFAULT '',
			clicks INTEGER NOT NULL DEFAULT 0,
			unsubscribed_at TEXT NOT NULL DEFAULT '',
			updated_at TEXT NOT NULL,
			UNIQUE (mailing_id, seq)
		)`,
		`CREATE INDEX IF NOT EXISTS crm_mailing_recipients_state_idx ON ` + TableRecipients + ` (mailing_id, state, seq)`,
		`CREATE INDEX IF NOT EXISTS crm_mailing_recipients_record_idx ON ` + TableRecipients + ` (record_id)`,
		`CREATE TABLE IF NOT EXISTS ` + TableSuppressions + ` (
			channel TEXT NOT NULL,
			address TEXT NOT NULL,
			reason TEXT NOT NULL,
			created_at TEXT NOT NULL,
			PRIMARY KEY (channel, address)
		)`,
		`CREATE TABLE IF NOT EXISTS ` + TableKeys + ` (
			name TEXT PRIMARY KEY,
			secret TEXT NOT NULL
		)`,
	} {
		if _, err := m.db.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("mailing: migrate: %w", err)
		}
	}
	// The sender's time zone, added after the table: '' (older mailings)
	// writes datetimes in the server's.
	if err := m.db.AddColumn(ctx, TableMailings, "time_zone", "TEXT NOT NULL DEFAULT ''"); err != nil {
		return fmt.Errorf("mailing: migrate: %w", err)
	}
	// The first server to start creates the key; every server reads the
	// one that won.
	fresh := strings.ToLower(rand.Text() + rand.Text())
	if _, err := m.db.SQL().ExecContext(ctx, m.sql(`INSERT INTO `+TableKeys+` (name, secret) VALUES ('tracking', ?) ON CONFLICT (name) DO NOTHING`), fresh); err != nil {
		return fmt.Errorf("mailing: tracking key: %w", err)
	}
	var secret string
	if err := m.db.SQL().QueryRowContext(ctx, `SELECT secret FROM `+TableKeys+` WHERE name = 'tracking'`).Scan(&secret); err != nil {
		return fmt.Errorf("mailing: tracking key: %w", err)
	}
	m.key = []byte(secret)
	return nil
}

// Routes mounts the mailing API and the public tracking routes.
func (m *Mailer) Routes() api.Registrar { return m.register }

// timeLayout stores times as fixed-width UTC text, which sorts in time
// order in both dialects.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// stamp formats a time for the mailing tables.
func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// sql binds a query's placeholders for the dialect.
func (m *Mailer) sql(q string) string { return store.Rebind(m.db.Dialect, q) }
