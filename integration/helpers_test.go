package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/internal/server"
)

// clock is a test clock the platform, its jobs and the webhooks read; it
// moves only when the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward.
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// received is one request a target got.
type received struct {
	Path      string
	Body      integration.Body
	Raw       []byte
	Signature string
	Delivery  string
	Event     string
}

// target is a webhook receiver: it records what it gets, checks every
// signature, and can refuse a number of requests (as if down).
type target struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *clock
	secret string

	mu     sync.Mutex
	got    []received
	refuse int
	answer string
	hold   *hold
}

// hold is a request the target keeps waiting after taking it: its
// context goes to entered, and it is answered once release is closed.
type hold struct {
	entered chan context.Context
	release chan struct{}
}

// newTarget starts a receiver that verifies signatures with secret.
func newTarget(t *testing.T, c *clock, secret string) *target {
	tg := &target{t: t, clock: c, secret: secret, answer: `{"ok":true}`}
	tg.srv = httptest.NewServer(http.HandlerFunc(tg.serve))
	t.Cleanup(tg.srv.Close)
	return tg
}

// serve answers one delivery: it takes it (and holds it, when asked to),
// or refuses it as if down.
func (tg *target) serve(w http.ResponseWriter, r *http.Request) {
	status, answer, held := tg.take(r)
	if held != nil {
		held.entered <- r.Context()
		<-held.release
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// take checks and records one delivery and returns the status and body
// to answer with, and the hold the answer waits for, if any.
func (tg *target) take(r *http.Request) (int, string, *hold) {
	raw, _ := io.ReadAll(r.Body)
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.refuse > 0 {
		tg.refuse--
		return http.StatusServiceUnavailable, "down for maintenance " + strings.Repeat("x", 4000), nil
	}
	if err := integration.Verify(tg.secret, r.Header.Get(integration.SignatureHeader), raw, tg.clock.Now(), 5*time.Minute); err != nil {
		tg.t.Errorf("a delivery with a bad signature: %v", err)
		return http.StatusUnauthorized, "", nil
	}
	var b integration.Body
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&b); err != nil {
		tg.t.Errorf("a delivery that is not the documented body: %v: %s", err, raw)
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
		tg.t.Errorf("a delivery as %s %s", r.Method, r.Header.Get("Content-Type"))
	}
	tg.got = append(tg.got, received{Path: r.URL.Path, Body: b, Raw: raw, Signature: r.Header.Get(integration.SignatureHeader), Delivery: r.Header.Get("X-CRM-Delivery"), Event: r.Header.Get("X-CRM-Event")})
	held := tg.hold
	tg.hold = nil
	return http.StatusOK, tg.answer, held
}

// holdNext makes the target hold the next delivery it takes: the
// request's context arrives on entered while the sender waits for the
// answer, which goes out once release is closed.
func (tg *target) holdNext() (entered <-chan context.Context, release chan<- struct{}) {
	h := &hold{entered: make(chan context.Context, 1), release: make(chan struct{})}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.hold = h
	return h.entered, h.release
}

// at returns what the target took at one path.
func (tg *target) at(path string) []received {
	var out []received
	for _, r := range tg.received() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// setRefuse makes the target refuse the next n requests.
func (tg *target) setRefuse(n int) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.refuse = n
}

// received returns what the target took so far.
func (tg *target) received() []received {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]received(nil), tg.got...)
}

// events returns "event object:record" of each delivery taken, in order.
func (tg *target) events() []string {
	var out []string
	for _, r := range tg.received() {
		out = append(out, r.Body.Event+" "+r.Body.Object+":"+r.Body.RecordID)
	}
	return out
}

// url returns the target's URL with a path.
func (tg *target) url(path string) string { return tg.srv.URL + path }

// secret is the secret of the tests' webhooks.
const secret = "s3cret-of-sixteen-chars"

// harness is a whole server with a test clock and a target allowed by
// the operator's allow-list.
type harness struct {
	*apitest.Server
	clock  *clock
	target *target
}

// clockStart is where the tests' clocks start.
var clockStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// seed is the standard template with the users, installed at clockStart:
// the database of newHarness.
var seed = apitest.NewSeed("integration", apitest.Options{Platform: platform.Config{Now: func() time.Time { return clockStart }}})

// newHarness starts the server over db, a copy of seed, with
// CRM_WEBHOOK_ALLOW set to allow (the target listens on 127.0.0.1).
func newHarness(t *testing.T, db *store.DB, allow string) *harness {
	t.Setenv(integration.AllowEnv, allow)
	c := &clock{t: clockStart}
	// Sessions outlast the days the tests move the clock through.
	s := apitest.Seeded(t, db, apitest.Options{Platform: platform.Config{Now: c.Now, Access: []access.Option{access.WithSessionTTL(365 * 24 * time.Hour)}}})
	return &harness{Server: s, clock: c, target: newTarget(t, c, secret)}
}

// define creates a webhook through the API as admin, sending to the
// target at path.
func (h *harness) define(t *testing.T, name, path, rest string) {
	t.Helper()
	body := fmt.Sprintf(`{"name": %q, "url": %q, "secret": %q, %s}`, name, h.target.url(path), secret, rest)
	if status, m := h.Do("POST", "/api/meta/webhooks", "admin", body); status != 201 {
		t.Fatalf("define webhook %s: %d %v", name, status, m)
	}
}

// deliveries lists the deliveries of a webhook as admin.
func (h *harness) deliveries(t *testing.T, name, query string) []map[string]any {
	t.Helper()
	status, m := h.Do("GET", "/api/meta/webhooks/"+name+"/deliveries"+query, "admin", "")
	if status != 200 {
		t.Fatalf("deliveries of %s: %d %v", name, status, m)
	}
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// update changes fields of a record as user (fields is the inside of a
// JSON object), sending the version it reads first.
func (h *harness) update(t *testing.T, user, object, id, fields string) {
	t.Helper()
	status, rec := h.Do("GET", "/api/records/"+object+"/"+id, user, "")
	if status != 200 {
		t.Fatalf("read %s %s: %d", object, id, status)
	}
	if status, m := h.Do("PATCH", "/api/records/"+object+"/"+id, user, fmt.Sprintf(`{"version": %v, %s}`, rec["version"], fields)); status != 200 {
		t.Fatalf("update %s %s: %d %v", object, id, status, m)
	}
}

// secondServer wires another server's platform and parts on the
// harness's database and clock, and returns its job runner.
func (h *harness) secondServer(t *testing.T) *jobs.Runner {
	t.Helper()
	ctx := context.Background()
	p, err := platform.New(ctx, platform.Config{DB: h.DB, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Parts(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p.Engine.Jobs()
}
