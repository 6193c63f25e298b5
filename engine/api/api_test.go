package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/gofiber/fiber/v2"
)

// fixture is a running API over a fresh database with the standard
// template, an admin, a sales manager and two reps reporting to them.
type fixture struct {
	t      *testing.T
	app    *fiber.App
	tokens map[string]string
	db     *store.DB
	eng    *engine.Engine
	access *access.Service
}

// fixtureSeed is the database of a fixture, filled by fillFixture.
var fixtureSeed = storetest.NewSeed("api_fixture", fillFixture)

// fillFixture fills the database of a fixture: the standard template
// installed, an admin, a sales manager and two reps reporting to them.
func fillFixture(ctx context.Context, db *store.DB) error {
	p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
	if err != nil {
		return err
	}
	fsys, err := defaults.FS("standard")
	if err != nil {
		return err
	}
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
		return err
	}
	if _, _, err := p.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		return err
	}
	users := []access.NewUser{
		{Username: "manager", Password: "manager-password", Roles: []string{"sales_manager"}},
		{Username: "rep1", Password: "rep1-password", Roles: []string{"sales_rep"}, Manager: "manager"},
		{Username: "rep2", Password: "rep2-password", Roles: []string{"sales_rep"}, Manager: "manager"},
	}
	for _, u := range users {
		if _, err := p.Access.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// TestMain removes the seed's databases after the tests.
func TestMain(m *testing.M) { storetest.Main(m) }

// snapshots is the cache of compiled metadata versions the fixtures'
// platforms share.
var snapshots = engine.NewSnapshotCache()

// newFixture runs the API over db, a copy of fixtureSeed (or filled by
// fillFixture).
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, db, platform.Config{}, Config{})
}

// newFixtureWith is newFixture with the platform wired by pc (its DB set
// to db) and the API configured by cfg (its engine and access service set
// to the platform's).
func newFixtureWith(t *testing.T, db *store.DB, pc platform.Config, cfg Config) *fixture {
	t.Helper()
	pc.DB, pc.Snapshots = db, snapshots
	pc.Access = append([]access.Option{access.WithBcryptCost(4)}, pc.Access...)
	p, err := platform.New(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engine, cfg.Access = p.Engine, p.Access
	f := &fixture{t: t, app: New(cfg), tokens: map[string]string{}, db: db, eng: p.Engine, access: p.Access}
	for _, u := range []string{"admin", "manager", "rep1", "rep2"} {
		status, body := f.do("POST", "/api/auth/login", "", fmt.Sprintf(`{"username": %q, "password": %q}`, u, u+"-password"))
		if status != 200 {
			t.Fatalf("login %s: %d %v", u, status, body)
		}
		f.tokens[u] = body["token"].(string)
	}
	return f
}

// do sends a request as user (none when "") and decodes the JSON answer.
func (f *fixture) do(method, path, user, body string) (int, map[string]any) {
	f.t.Helper()
	status, raw := f.raw(method, path, user, "application/json", strings.NewReader(body))
	var m map[string]any
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			f.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	return status, m
}

// raw sends a request and returns the status and body bytes.
func (f *fixture) raw(method, path, user, contentType string, body io.Reader) (int, []byte) {
	f.t.Helper()
	status, raw, _ := f.rawWith(method, path, user, contentType, body, nil)
	return status, raw
}

// rawWith sends a request with extra headers.
func (f *fixture) rawWith(method, path, user, contentType string, body io.Reader, header map[string]string) (int, []byte, http.Header) {
	f.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	if user != "" {
		tok := f.tokens[user]
		if tok == "" {
			tok = user
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

// create makes a record and returns its id.
func (f *fixture) create(user, object, body string) string {
	f.t.Helper()
	status, m := f.do("POST", "/api/records/"+object, user, body)
	if status != 201 {
		f.t.Fatalf("create %s as %s: %d %v", object, user, status, m)
	}
	return m["id"].(string)
}

// scenario is one request with the answer expected.
type scenario struct {
	name       string
	method     string
	path       string
	user       string
	body       string
	status     int
	code       string   // error.code expected, if any
	contains   []string // substrings the answer must have
	notContain []string // substrings it must not have
	header     map[string]string
	// contentType is sent as Content-Type (application/json when empty).
	contentType string
	// respHeader lists headers the answer must carry, with their values.
	respHeader map[string]string
}

func (f *fixture) run(t *testing.T, scs []scenario) {
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			ct := sc.contentType
			if ct == "" {
				ct = "application/json"
			}
			status, raw, header := f.rawWith(sc.method, sc.path, sc.user, ct, strings.NewReader(sc.body), sc.header)
			if status != sc.status {
				t.Fatalf("status %d, want %d: %s", status, sc.status, raw)
			}
			if sc.code != "" {
				var eb ErrorBody
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Code != sc.code || eb.Error.Message == "" {
					t.Fatalf("want error code %q with a message, got %s", sc.code, raw)
				}
			}
			if status >= 400 {
				checkDocumentedError(t, raw)
			}
			for k, v := range sc.respHeader {
				if got := header.Get(k); got != v {
					t.Errorf("header %s: %q, want %q", k, got, v)
				}
			}
			for _, s := range sc.contains {
				if !bytes.Contains(raw, []byte(s)) {
					t.Errorf("answer lacks %q: %s", s, raw)
				}
			}
			for _, s := range sc.notContain {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("answer must not contain %q: %s", s, raw)
				}
			}
		})
	}
}

func TestAPIErrorShapes(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.create("rep1", "account", `{"name": "Acme"}`)
		big := `{"name": "` + strings.Repeat("x", MaxJSONBody) + `"}`
		f.run(t, []scenario{
			{name: "health needs no token", method: "GET", path: "/api/health", status: 200, contains: []string{`"status":"ok"`}},
			{name: "no token", method: "GET", path: "/api/records/account", status: 401, code: "unauthenticated"},
			{name: "bad token", method: "GET", path: "/api/records/account", user: "not-a-token", status: 401, code: "unauthenticated"},
			{name: "wrong password", method: "POST", path: "/api/auth/login", body: `{"username": "admin", "password": "nope"}`, status: 401, code: "invalid_credentials"},
			{name: "login unknown key", method: "POST", path: "/api/auth/login", body: `{"username": "admin", "password": "x", "otp": 1}`, status: 400, code: "malformed_body"},
			{name: "malformed json", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": `, status: 400, code: "malformed_body"},
			{name: "trailing data", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "a"} {}`, status: 400, code: "malformed_body"},
			{name: "unknown field rejected", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "B", "colour": "red"}`, status: 400, code: "bad_request", contains: []string{`"field":"colour"`, "unknown_field"}},
			{name: "owner must be an active user", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "Given", "owner_id": "01234567-89ab-7def-8123-456789abcdef"}`, status: 422, code: "invalid_record", contains: []string{`"field":"owner_id"`}},
			{name: "system field rejected", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "B", "created_at": "2020-01-01T00:00:00Z"}`, status: 400, code: "bad_request", contains: []string{`"field":"created_at"`}},
			{name: "read-only field is 403 naming it", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "C", "credit_limit": 5}`, status: 403, code: "forbidden", contains: []string{"credit_limit"}},
			{name: "invalid values together", method: "POST", path: "/api/records/account", user: "rep1", body: `{"industry": "mining", "employees": -1, "website": "ftp://x"}`, status: 422, code: "invalid_record", contains: []string{`"field":"name"`, `"field":"industry"`, `"field":"employees"`, `"field":"website"`}},
			{name: "unknown object", method: "GET", path: "/api/records/spaceship", user: "admin", status: 404, code: "not_found"},
			{name: "unknown record", method: "GET", path: "/api/records/account/01234567-89ab-7def-8123-456789abcdef", user: "rep1", status: 404, code: "not_found"},
			{name: "other rep's record by id", method: "GET", path: "/api/records/account/" + acc, user: "rep2", status: 404, code: "not_found", notContain: []string{"Acme"}},
			{name: "manager sees the team's record", method: "GET", path: "/api/records/account/" + acc, user: "manager", status: 200, contains: []string{"Acme"}},
			{name: "stale version", method: "PATCH", path: "/api/records/account/" + acc, user: "rep1", body: `{"version": 7, "city": "Hangzhou"}`, status: 409, code: "conflict"},
			{name: "update needs version", method: "PATCH", path: "/api/records/account/" + acc, user: "rep1", body: `{"city": "Hangzhou"}`, status: 422, code: "invalid_record", contains: []string{`"field":"version"`}},
			{name: "too large", method: "POST", path: "/api/records/account", user: "rep1", body: big, status: 413, code: "too_large"},
			{name: "bad filter says where", method: "GET", path: "/api/records/account?filter=name%20%3E%205", user: "rep1", status: 400, code: "bad_query", contains: []string{`"field":"name"`}},
			{name: "unknown filter field", method: "GET", path: "/api/records/account?filter=colour%20%3D%3D%20%22red%22", user: "rep1", status: 400, code: "bad_query", contains: []string{"colour"}},
			{name: "bad limit", method: "GET", path: "/api/records/account?limit=zero", user: "rep1", status: 400, code: "bad_query"},
			{name: "limit above maximum", method: "GET", path: "/api/records/account?limit=501", user: "rep1", status: 400, code: "bad_request", contains: []string{`"field":"limit"`}},
			{name: "garbage cursor", method: "GET", path: "/api/records/account?cursor=not-a-cursor", user: "rep1", status: 400, code: "bad_query"},
			{name: "sort on unknown field", method: "GET", path: "/api/records/account?sort=-colour", user: "rep1", status: 400, code: "bad_query", contains: []string{"colour"}},
			{name: "injection stays a value", method: "GET", path: "/api/records/account?total=true&filter=" + urlq(`name == "x' OR 1=1 --"`), user: "rep1", status: 200, contains: []string{`"total":0`}},
			{name: "bad time zone", method: "GET", path: "/api/records/account", user: "rep1", status: 400, code: "bad_request", header: map[string]string{"X-Timezone": "Mars/Olympus"}},
			{name: "time zone", method: "GET", path: "/api/records/account?filter=this_week(created_at)", user: "rep1", status: 200, header: map[string]string{"X-Timezone": "Asia/Shanghai"}},
			{name: "array body", method: "POST", path: "/api/records/account", user: "rep1", body: `[]`, status: 400, code: "malformed_body"},
			{name: "metadata change needs admin", method: "POST", path: "/api/meta/objects/account/fields", user: "rep1", body: `{"name": "vip", "type": "boolean"}`, status: 403, code: "forbidden"},
			{name: "bad field definition", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "Bad Name", "type": "colour"}`, status: 422, code: "invalid_metadata", contains: []string{`"path":"/name"`, `"path":"/type"`}},
			{name: "removing a field a role names is refused, naming the role", method: "DELETE", path: "/api/meta/objects/account/fields/credit_limit", user: "admin", status: 422, code: "invalid_metadata",
				contains: []string{`"file":"roles/sales_rep"`, `"path":"/permissions/0/fields/credit_limit"`}},
			{name: "a definition cannot be renamed by PUT", method: "PUT", path: "/api/meta/objects/account/fields/phone", user: "admin", body: `{"name": "telephone", "type": "phone"}`, status: 400, code: "bad_request", contains: []string{`"path":"/name"`, "cannot be renamed"}},
			{name: "unknown route", method: "GET", path: "/api/nothing", user: "admin", status: 404, code: "not_found"},
		})
	})
}

func TestAPIRecordFlow(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.create("rep1", "account", `{"name": "Acme", "industry": "retail"}`)
		for i := 0; i < 5; i++ {
			f.create("rep1", "opportunity", fmt.Sprintf(`{"name": "Deal %d", "account": %q, "amount": "%d.50", "stage": "proposal"}`, i, acc, 100*i))
		}
		f.create("rep2", "account", `{"name": "Other"}`)

		status, page := f.do("GET", "/api/records/opportunity?sort=-amount&limit=2&total=true&filter=amount%20%3E%3D%20100", "rep1", "")
		if status != 200 || len(page["items"].([]any)) != 2 || page["total"] != json.Number("4") || page["next_cursor"] == nil {
			t.Fatalf("first page: %d %v", status, page)
		}
		first := page["items"].([]any)[0].(map[string]any)
		if first["amount"] != json.Number("400.50") {
			t.Errorf("sorted by -amount, first should be 400.50: %v", first["amount"])
		}
		status, page2 := f.do("GET", "/api/records/opportunity?sort=-amount&limit=2&filter=amount%20%3E%3D%20100&cursor="+page["next_cursor"].(string), "rep1", "")
		if status != 200 || len(page2["items"].([]any)) != 2 || page2["next_cursor"] != nil {
			t.Fatalf("second page: %d %v", status, page2)
		}
		if last := page2["items"].([]any)[1].(map[string]any); last["amount"] != json.Number("100.50") {
			t.Errorf("last item should be 100.50: %v", last["amount"])
		}
		// rep2 sees none of rep1's deals, not even in the count.
		status, other := f.do("GET", "/api/records/opportunity?total=true", "rep2", "")
		if status != 200 || other["total"] != json.Number("0") || len(other["items"].([]any)) != 0 {
			t.Fatalf("rep2 list: %d %v", status, other)
		}
		// Tracked field history.
		status, opp := f.do("POST", "/api/records/opportunity", "rep1", fmt.Sprintf(`{"name": "Tracked", "account": %q, "amount": 10}`, acc))
		if status != 201 {
			t.Fatal(opp)
		}
		id := opp["id"].(string)
		if status, m := f.do("PATCH", "/api/records/opportunity/"+id, "rep1", `{"version": 1, "amount": 20, "stage": "won"}`); status != 200 || m["version"] != json.Number("2") {
			t.Fatalf("update: %d %v", status, m)
		}
		status, hist := f.do("GET", "/api/records/opportunity/"+id+"/history", "rep1", "")
		if status != 200 || len(hist["items"].([]any)) != 2 {
			t.Fatalf("history: %d %v", status, hist)
		}
		if status, _ := f.do("GET", "/api/records/opportunity/"+id+"/history", "rep2", ""); status != 404 {
			t.Errorf("rep2 reads rep1's history: %d", status)
		}
		if status, _ := f.do("DELETE", "/api/records/opportunity/"+id, "rep1", ""); status != 403 {
			t.Errorf("rep may not delete opportunities: %d", status)
		}
		if status, _ := f.do("DELETE", "/api/records/opportunity/"+id, "manager", ""); status != 204 {
			t.Errorf("manager deletes the team's opportunity: %d", status)
		}
	})
}

func TestAPIFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	upload := func(user, field string, data []byte) (int, map[string]any) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("file", "logo.png")
		w.Write(data)
		mw.Close()
		status, raw := f.raw("POST", "/api/files/account/"+field, user, mw.FormDataContentType(), &buf)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return status, m
	}
	status, ref := upload("rep1", "logo", png)
	if status != 201 || ref["content_type"] != "image/png" {
		t.Fatalf("upload: %d %v", status, ref)
	}
	if status, m := upload("rep1", "logo", []byte("plain text, not an image")); status != 422 {
		t.Errorf("text into an image field: %d %v", status, m)
	}
	if status, _ := upload("rep1", "logo", bytes.Repeat([]byte{1}, 2<<20)); status != 413 {
		t.Errorf("2 MiB into a 1 MiB field: %d", status)
	}
	refJSON, _ := json.Marshal(ref)
	id := f.create("rep1", "account", `{"name": "Logo Inc", "logo": `+string(refJSON)+`}`)
	status, data := f.raw("GET", "/api/records/account/"+id+"/files/logo", "rep1", "", nil)
	if status != 200 || !bytes.Equal(data, png) {
		t.Fatalf("download: %d %d bytes", status, len(data))
	}
	if status, _ := f.raw("GET", "/api/records/account/"+id+"/files/logo", "rep2", "", nil); status != http.StatusNotFound {
		t.Errorf("rep2 downloads rep1's file: %d", status)
	}
	// Another user cannot attach rep1's upload, nor one already attached.
	_, ref2 := upload("rep1", "logo", png)
	ref2JSON, _ := json.Marshal(ref2)
	if status, m := f.do("POST", "/api/records/account", "rep2", `{"name": "Thief", "logo": `+string(ref2JSON)+`}`); status != 422 {
		t.Errorf("rep2 attaches rep1's upload: %d %v", status, m)
	}
	if status, m := f.do("POST", "/api/records/account", "rep1", `{"name": "Twice", "logo": `+string(refJSON)+`}`); status != 422 {
		t.Errorf("an attached file reused by another record: %d %v", status, m)
	}
	// Replacing the logo deletes the old file; deleting the record deletes its file.
	if status, m := f.do("PATCH", "/api/records/account/"+id, "rep1", `{"version": 1, "logo": `+string(ref2JSON)+`}`); status != 200 {
		t.Fatalf("replace logo: %d %v", status, m)
	}
	files := func() int {
		var n int
		if err := f.db.SQL().QueryRow("SELECT COUNT(*) FROM crm_files").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := files(); n != 1 {
		t.Errorf("after replacing: %d stored files, want 1", n)
	}
	if status, _ := f.do("DELETE", "/api/records/account/"+id, "manager", ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if n := files(); n != 0 {
		t.Errorf("after deleting the record: %d stored files, want 0", n)
	}
	// An upload no record takes is purged after its grace period.
	upload("rep1", "logo", png)
	if n, err := f.eng.PurgeUnattachedFiles(context.Background(), -time.Second); err != nil || n != 1 || files() != 0 {
		t.Errorf("purge: %d %v, %d left", n, err, files())
	}
}

func TestAPIMetadataAndOpenAPI(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		status, m := f.do("POST", "/api/meta/objects", "admin", `{"name": "machine", "label": {"en": "Machine", "zh": "机床"}, "fields": [
			{"name": "name", "type": "text", "required": true},
			{"name": "kind", "type": "picklist", "options": [{"value": "lathe"}, {"value": "mill"}]},
			{"name": "price", "type": "currency"}]}`)
		if status != 201 || m["version"] != json.Number("2") {
			t.Fatalf("create object: %d %v", status, m)
		}
		f.create("admin", "machine", `{"name": "L1", "kind": "lathe", "price": 150}`)
		f.create("admin", "machine", `{"name": "M1", "kind": "mill", "price": 50}`)
		status, list := f.do("GET", "/api/records/machine?filter="+urlq(`kind == "lathe" && price > 100`), "admin", "")
		if status != 200 || len(list["items"].([]any)) != 1 {
			t.Fatalf("filter on custom object: %d %v", status, list)
		}
		status, doc := f.do("GET", "/api/openapi.json", "admin", "")
		if status != 200 || doc["paths"].(map[string]any)["/api/records/machine"] == nil {
			t.Fatalf("openapi lacks the custom object: %d", status)
		}
		// A rep cannot read campaign budgets: the field is absent from its OpenAPI.
		_, repDoc := f.do("GET", "/api/openapi.json", "rep1", "")
		camp := repDoc["components"].(map[string]any)["schemas"].(map[string]any)["campaign"].(map[string]any)["properties"].(map[string]any)
		if _, ok := camp["budget"]; ok {
			t.Error("hidden field budget is in the rep's OpenAPI")
		}
		if _, ok := camp["name"]; !ok {
			t.Error("visible field name is missing from the rep's OpenAPI")
		}
		if _, ok := repDoc["paths"].(map[string]any)["/api/records/machine"]; ok {
			t.Error("the rep has no rights on machine but sees it in OpenAPI")
		}
	})
}

// urlq escapes a query value.
func urlq(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "&", "%26", "=", "%3D", ">", "%3E", "<", "%3C", "|", "%7C")
	return r.Replace(s)
}
