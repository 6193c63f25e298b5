package access

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"golang.org/x/crypto/bcrypt"
)

// ConditionCompiler turns the condition of a sharing rule (a filter
// expression over the fields of obj, in schema sc) into a SQL predicate
// over the object's table with "?" placeholders and driver-form
// arguments. The default compiles with engine/query.CompileFilter.
type ConditionCompiler func(condition string, obj *metadata.Object, sc *metadata.Schema) (sql string, args []any, err error)

// Service keeps users, tokens, roles, policies and manual shares in the
// database and makes every permission decision through Decide. It is safe
// for concurrent use. What it keeps in memory follows the database: its
// decisions are built from the metadata version the engine loaded, and
// the tokens it trusted are forgotten on every change of users or tokens
// (at once on the server that made it, on the others when told or after
// the cache's time to live: WithTokenCache, Watch).
type Service struct {
	db         *store.DB
	sessionTTL time.Duration
	bcryptCost int
	compiler   ConditionCompiler
	now        func() time.Time

	dummyOnce sync.Once
	dummyHash []byte

	mu      sync.Mutex // serialises building deciders
	current atomic.Pointer[Decider]

	// tokens are the tokens Authenticate trusts for tokenTTL without
	// reading them again (tokencache.go).
	tokens   atomic.Pointer[tokenCache]
	tokenTTL time.Duration

	// userChanged runs in the transaction of a user update (OnUserChange).
	userChanged UserChangeHook
}

// UserChangeHook runs inside the transaction that updates a user, after
// the user's row changed: fields names the user fields formulas read
// (name, manager, email) that the update set. An error rolls the update
// back.
type UserChangeHook func(ctx context.Context, tx *sql.Tx, userID string, fields []string) error

// OnUserChange sets the hook every user update runs in its transaction
// (the engine recomputes the stored formulas that read the user). Call it
// while wiring, before the service is used.
func (s *Service) OnUserChange(h UserChangeHook) { s.userChanged = h }

// Option configures a Service.
type Option func(*Service)

// WithSessionTTL sets how long a login session token lasts (12h by default).
func WithSessionTTL(d time.Duration) Option { return func(s *Service) { s.sessionTTL = d } }

// WithBcryptCost sets the bcrypt cost of password hashes (bcrypt.DefaultCost
// by default; tests use bcrypt.MinCost).
func WithBcryptCost(cost int) Option { return func(s *Service) { s.bcryptCost = cost } }

// WithTokenCache sets how long Authenticate trusts a token it read before
// reading it again (DefaultTokenCacheTTL by default; 0 reads it on every
// request). A change of users or tokens through this service holds on its
// next request whatever the setting; one made elsewhere holds once this
// server is told (Watch, on PostgreSQL) or the time to live has passed.
func WithTokenCache(ttl time.Duration) Option { return func(s *Service) { s.tokenTTL = ttl } }

// WithClock sets the clock used for token expiry (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a Service over db. Call Migrate once before use.
func New(db *store.DB, opts ...Option) *Service {
	s := &Service{
		db:         db,
		sessionTTL: 12 * time.Hour,
		bcryptCost: bcrypt.DefaultCost,
		now:        time.Now,
		tokenTTL:   DefaultTokenCacheTTL,
	}
	s.tokens.Store(&tokenCache{})
	s.compiler = func(cond string, obj *metadata.Object, sc *metadata.Schema) (string, []any, error) {
		p, err := query.CompileFilter(cond, obj, query.Options{Dialect: db.Dialect, Schema: sc, Now: s.now().UTC(), NoReader: true})
		return p.SQL, p.Args, err
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// DB returns the database the service works on.
func (s *Service) DB() *store.DB { return s.db }
