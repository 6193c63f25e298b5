// Package apitest runs the whole server (platform, engine, API and every
// part internal/server mounts) over a fresh database for end-to-end tests of
// packages outside engine/api: sign in as a user of a small sales team,
// send requests, check answers as scenario tables.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/internal/server"
	"github.com/crmplatform/crm/templates"
	"github.com/gofiber/fiber/v2"
)

// Users are the users every Server has, each with the password
// "<name>-password": admin; manager (sales_manager) with rep1 and rep2
// (sales_rep) reporting to them; agent (service_agent); mkt (marketing).
var Users = []access.NewUser{
	{Username: "manager", Roles: []string{"sales_manager"}},
	{Username: "rep1", Roles: []string{"sales_rep"}, Manager: "manager"},
	{Username: "rep2", Roles: []string{"sales_rep"}, Manager: "manager"},
	{Username: "agent", Roles: []string{"service_agent"}},
	{Username: "mkt", Roles: []string{"marketing"}},
}

// Options change what New builds.
type Options struct {
	// Template is installed first; the built-in standard template when nil.
	Template fs.FS
	// Platform configures the platform (its DB is set by New).
	Platform platform.Config
	// API configures the API (its engine and access service are set by
	// New; Registrars given here are mounted after those of
	// internal/server).
	API api.Config
}

// Server is a running API over a fresh database.
type Server struct {
	t        testing.TB
	App      *fiber.App
	Platform *platform.Platform
	DB       *store.DB
	tokens   map[string]string
}

// New wires the platform over db, installs the template, creates the users
// and signs each in.
func New(t testing.TB, db *store.DB, opt Options) *Server {
	t.Helper()
	p, app := wire(t, db, opt, func(ctx context.Context, p *platform.Platform) error {
		return fill(ctx, p, opt.Template)
	})
	return signIn(t, p, app, db)
}

// Standard is the seed of the standard template with the users, with the
// platform's own clock, time zone and access options (the package's
// TestMain must call storetest.Main).
var Standard = NewSeed("apitest_standard", Options{})

// NewSeed declares a seed (in a package-level variable of the tests) of
// what New makes of opt before it wires the parts: the template installed
// and the users created by a platform configured by opt.Platform. Tests
// start from copies of it with storetest.DialectsFrom (SQLiteFrom,
// PostgresFrom) and Seeded. A test clock in opt.Platform must stand at
// the time the tests' own clocks start from.
func NewSeed(name string, opt Options) *storetest.Seed {
	return storetest.NewSeed(name, func(ctx context.Context, db *store.DB) error {
		p, err := platform.New(ctx, platformConfig(db, opt))
		if err != nil {
			return err
		}
		return fill(ctx, p, opt.Template)
	})
}

// Seeded is New over db, a copy of a seed made by NewSeed (such as
// Standard), which has the template and the users already: it wires the
// platform configured by opt over db and signs the users in
// (opt.Template is not used).
func Seeded(t testing.TB, db *store.DB, opt Options) *Server {
	t.Helper()
	p, app := wire(t, db, opt, nil)
	return signIn(t, p, app, db)
}

// Dialects runs fn with a whole server built with opt over a fresh SQLite
// database and, when CRM_TEST_POSTGRES is set, a fresh PostgreSQL database
// (as storetest.Dialects does). With the standard template and the
// platform's own clock, time zone and access options, the database starts
// as a copy of Standard (Seeded), which costs a fraction of New; otherwise
// New installs the template.
func Dialects(t *testing.T, opt Options, fn func(t *testing.T, s *Server)) {
	t.Helper()
	pc := opt.Platform
	if opt.Template != nil || pc.Now != nil || pc.Location != nil || len(pc.Access) > 0 {
		storetest.Dialects(t, func(t *testing.T, db *store.DB) { fn(t, New(t, db, opt)) })
		return
	}
	storetest.DialectsFrom(t, Standard, func(t *testing.T, db *store.DB) { fn(t, Seeded(t, db, opt)) })
}

// fill installs the template (the standard one when nil) and creates the
// users.
func fill(ctx context.Context, p *platform.Platform, fsys fs.FS) error {
	if fsys == nil {
		var err error
		if fsys, err = defaults.FS("standard"); err != nil {
			return err
		}
	}
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
		return err
	}
	if _, _, err := p.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		return err
	}
	for _, u := range Users {
		u.Password = u.Username + "-password"
		if _, err := p.Access.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// signIn makes the Server of a wired platform and signs every user in.
func signIn(t testing.TB, p *platform.Platform, app *fiber.App, db *store.DB) *Server {
	t.Helper()
	s := &Server{t: t, App: app, Platform: p, DB: db, tokens: map[string]string{}}
	s.Login("admin", "admin-password")
	for _, u := range Users {
		s.Login(u.Username, u.Username+"-password")
	}
	return s
}

// snapshots is the cache of compiled metadata versions that the
// platforms of a test binary share: most load the same version of the
// same template, which they then compile once.
var snapshots = engine.NewSnapshotCache()

// platformConfig is opt.Platform over db, with the lowest bcrypt cost
// (the tests do not measure hashing) unless opt asks for another, and the
// shared snapshots.
func platformConfig(db *store.DB, opt Options) platform.Config {
	pc := opt.Platform
	pc.DB = db
	if pc.Snapshots == nil {
		pc.Snapshots = snapshots
	}
	pc.Access = append([]access.Option{access.WithBcryptCost(4)}, pc.Access...)
	return pc
}

// wire builds the platform over db with every part of internal/server and
// the API; setup, if not nil, runs between the platform and the parts.
func wire(t testing.TB, db *store.DB, opt Options, setup func(ctx context.Context, p *platform.Platform) error) (*platform.Platform, *fiber.App) {
	t.Helper()
	ctx := context.Background()
	p, err := platform.New(ctx, platformConfig(db, opt))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		if err := setup(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	routes, err := server.Parts(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := opt.API
	cfg.Engine, cfg.Access = p.Engine, p.Access
	cfg.Registrars = append(routes, cfg.Registrars...)
	return p, api.New(cfg)
}

// RunJobs runs every due background job (recomputations, the parts' job
// kinds …) in the foreground until none is left, failing the test if a
// step fails.
func (s *Server) RunJobs() {
	s.t.Helper()
	if err := s.Platform.Engine.Jobs().Drain(context.Background(), jobs.DrainOptions{}); err != nil {
		s.t.Fatalf("background jobs: %v", err)
	}
}

// LoadSample loads the sample data of template fsys, installed on s, as
// admin (templates.LoadSample), runs the jobs it queued and returns what
// it created.
func (s *Server) LoadSample(fsys fs.FS) *templates.SampleResult {
	s.t.Helper()
	ctx := context.Background()
	u, err := s.Platform.Access.GetUser(ctx, "admin")
	if err != nil {
		s.t.Fatal(err)
	}
	res, err := templates.LoadSample(ctx, s.Platform.Engine, u.Principal(), fsys)
	if err != nil {
		s.t.Fatalf("sample data: %v", err)
	}
	s.RunJobs()
	return res
}

// Give gives the first n records of object (by id, as the administrator
// lists them) to users in turn, as the administrator transfers them, and
// returns the ids given to each. A record the transfer refuses (a lock, a
// state the record's rules keep) is left as it is.
func (s *Server) Give(object string, n int, users ...string) map[string][]string {
	s.t.Helper()
	_, list := s.Do("GET", "/api/records/"+object+"?limit="+strconv.Itoa(n)+"&sort=id", "admin", "")
	items, _ := list["items"].([]any)
	given := map[string][]string{}
	for i, it := range items {
		rec := it.(map[string]any)
		id, user := rec["id"].(string), users[i%len(users)]
		st, m := s.Do("PATCH", "/api/records/"+object+"/"+id, "admin", fmt.Sprintf(`{"version": %v, "owner_id": %q}`, rec["version"], s.UserID(user)))
		switch st {
		case 200:
			given[user] = append(given[user], id)
		case 403, 409, 422:
		default:
			s.t.Fatalf("give %s %s to %s: %d %v", object, id, user, st, m)
		}
	}
	return given
}

// EveryTemplate runs fn, in parallel subtests named by template, with a
// whole server on which each built-in template (its name and files) is
// installed: the standard template on both databases (as Dialects), the
// industry packs on SQLite.
func EveryTemplate(t *testing.T, fn func(t *testing.T, s *Server, template string, fsys fs.FS)) {
	t.Helper()
	for _, name := range defaults.Names() {
		fsys, err := defaults.FS(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "standard" {
				Dialects(t, Options{}, func(t *testing.T, s *Server) { fn(t, s, name, fsys) })
				return
			}
			fn(t, New(t, storetest.SQLite(t), Options{Template: fsys}), name, fsys)
		})
	}
}

// Another wires a second whole server on the same database, as another
// process sharing it would (its own connection pool, platform, parts and
// routes), for tests of what several servers do at once or of a restart.
// The users are those of s, signed in with the same tokens; opt.Template
// is not used.
func (s *Server) Another(opt Options) *Server {
	s.t.Helper()
	db := storetest.Reopen(s.t, s.DB)
	p, app := wire(s.t, db, opt, nil)
	o := &Server{t: s.t, App: app, Platform: p, DB: db, tokens: map[string]string{}}
	for u, tok := range s.tokens {
		o.tokens[u] = tok
	}
	return o
}

// Login signs user in and keeps the token for later requests as user.
func (s *Server) Login(user, password string) {
	s.t.Helper()
	status, m := s.Do("POST", "/api/auth/login", "", fmt.Sprintf(`{"username": %q, "password": %q}`, user, password))
	if status != 200 {
		s.t.Fatalf("login %s: %d %v", user, status, m)
	}
	s.tokens[user] = m["token"].(string)
}

// Token returns the token of a signed-in user.
func (s *Server) Token(user string) string { return s.tokens[user] }

// Raw sends a request as user (anonymous when "") and returns the status
// and the body's bytes.
func (s *Server) Raw(method, path, user, contentType string, body io.Reader, header map[string]string) (int, []byte) {
	s.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[user])
	}
	resp, err := s.App.Test(req, -1)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// Do sends a JSON request as user and decodes the JSON answer (numbers as
// json.Number).
func (s *Server) Do(method, path, user, body string) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	status, raw := s.Raw(method, path, user, "application/json", rd, nil)
	var m map[string]any
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			s.t.Fatalf("%s %s: the answer is not a JSON object: %s", method, path, raw)
		}
	}
	return status, m
}

// Create creates a record as user and returns its id.
func (s *Server) Create(user, object, body string) string {
	s.t.Helper()
	status, m := s.Do("POST", "/api/records/"+object, user, body)
	if status != 201 {
		s.t.Fatalf("create %s as %s: %d %v", object, user, status, m)
	}
	return m["id"].(string)
}

// UserID returns the id of a signed-in user.
func (s *Server) UserID(user string) string {
	s.t.Helper()
	status, me := s.Do("GET", "/api/auth/me", user, "")
	if status != 200 {
		s.t.Fatalf("me as %s: %d", user, status)
	}
	return me["user_id"].(string)
}

// Scenario is one request and what its answer must be.
type Scenario struct {
	Name   string
	Method string
	Path   string
	User   string
	Body   string
	// ContentType is application/json when empty.
	ContentType string
	Header      map[string]string
	Status      int
	// Code is the error code the answer must carry, if any.
	Code string
	// Contains and NotContain are substrings the answer must and must not
	// have.
	Contains   []string
	NotContain []string
}

// Run runs scenarios in order, each as a subtest.
func (s *Server) Run(t *testing.T, scs []Scenario) {
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			ct := sc.ContentType
			if ct == "" {
				ct = "application/json"
			}
			var body io.Reader
			if sc.Body != "" {
				body = strings.NewReader(sc.Body)
			}
			status, raw := s.Raw(sc.Method, sc.Path, sc.User, ct, body, sc.Header)
			if status != sc.Status {
				t.Fatalf("status %d, want %d: %s", status, sc.Status, raw)
			}
			if sc.Code != "" {
				var eb api.ErrorBody
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Code != sc.Code {
					t.Fatalf("want error code %q, got %s", sc.Code, raw)
				}
			}
			for _, c := range sc.Contains {
				if !bytes.Contains(raw, []byte(c)) {
					t.Errorf("the answer lacks %q: %s", c, raw)
				}
			}
			for _, c := range sc.NotContain {
				if bytes.Contains(raw, []byte(c)) {
					t.Errorf("the answer must not contain %q: %s", c, raw)
				}
			}
		})
	}
}

// Query escapes a filter or other query parameter value for a URL.
func Query(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", `"`, "%22", "&", "%26", "=", "%3D", ">", "%3E", "<", "%3C", "|", "%7C", "+", "%2B", "#", "%23")
	return r.Replace(s)
}
