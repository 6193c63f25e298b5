package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCmd runs a command line in-process and returns its exit code and
// standard output.
func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// writeFile writes a file under dir, making its folder.
func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(name, body string) { writeFile(t, dir, name, body) }
	must("template.yaml", "name: shop\n")
	must("objects/item.yaml", "name: item\nfields:\n  - {name: size, type: huge}\n  - {name: maker, type: lookup, target: maker}\n")
	must("objects/order.yaml", "name: order\nfields: []\n")
	code, out := runCmd(t, "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"objects/item.yaml: /fields/0/type:", "objects/order.yaml: /name:", "reserved word"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out = runCmd(t, "validate", "../../defaults/standard")
	if code != 0 || !strings.Contains(out, "is valid") {
		t.Fatalf("standard template: exit %d\n%s", code, out)
	}
	if code, _ := runCmd(t, "validate"); code != 2 {
		t.Errorf("no folder: exit %d, want 2", code)
	}
}

func TestMigratePlanThenApply(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crm.db")
	code, out := runCmd(t, "migrate", "--plan", "--db", db)
	if code != 0 || !strings.Contains(out, `CREATE TABLE "account"`) || !strings.Contains(out, "plan only") {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	code, out = runCmd(t, "migrate", "--plan", "--db", db)
	if code != 0 || !strings.Contains(out, `CREATE TABLE "account"`) {
		t.Fatalf("a plan must change nothing, the second plan should still create tables: exit %d\n%s", code, out)
	}
	if code, out = runCmd(t, "migrate", "--db", db); code != 0 || !strings.Contains(out, "applied as metadata version 1") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if code, out = runCmd(t, "migrate", "--plan", "--db", db); code != 0 || !strings.Contains(out, "already matches") {
		t.Fatalf("after apply: exit %d\n%s", code, out)
	}
	if code, out = runCmd(t, "migrate", "--purge", "--plan", "--db", db); code != 0 || !strings.Contains(out, "0 archived") {
		t.Fatalf("purge plan: exit %d\n%s", code, out)
	}
}

func TestExplainList(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crm.db")
	code, out := runCmd(t, "migrate", "--plan", "--db", db)
	if code != 0 || !strings.Contains(out, `CREATE INDEX IF NOT EXISTS "idx_opportunity_owner_id_id" ON "opportunity" ("owner_id", "id")`) {
		t.Fatalf("the plan lacks the owner index: exit %d\n%s", code, out)
	}
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	if code, out := runCmd(t, "user", "add", "--db", db, "--username", "rep", "--password", "rep-password-1", "--role", "sales_rep"); code != 0 {
		t.Fatalf("user add: exit %d\n%s", code, out)
	}
	code, out = runCmd(t, "explain-list", "opportunity", "--db", db, "--user", "rep", "--filter", `stage == "won"`, "--sort=-amount", "--total")
	for _, want := range []string{"-- page", `FROM "opportunity"`, "-- plan:", "idx_opportunity_owner_id_id", "-- total", "SELECT COUNT(*)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("explain-list lacks %q: exit %d\n%s", want, code, out)
		}
	}
	for _, bad := range [][]string{{"explain-list", "opportunity", "--db", db}, {"explain-list", "--user", "rep", "--db", db}} {
		if code, out := runCmd(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, out)
		}
	}
	if code, out := runCmd(t, "explain-list", "nothing", "--db", db, "--user", "rep"); code != 1 || !strings.Contains(out, "nothing") {
		t.Errorf("unknown object: exit %d\n%s", code, out)
	}
}

// freeAddr finds a free loopback port.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs crm serve until the returned stop is called.
func startServer(t *testing.T, db, addr string, flags ...string) (stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, append([]string{"serve", "--db", db, "--addr", addr}, flags...), &out, &out) }()
	deadline := time.Now().Add(90 * time.Second) // a loaded machine under -race is slow to start
	for {
		resp, err := http.Get("http://" + addr + "/api/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() string {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, out.String())
		}
		return out.String()
	}
}

// syncBuffer is a buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call sends a JSON request and decodes the answer.
func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestServeFirstStartAndRestart(t *testing.T) {
	t.Setenv("CRM_ADMIN_PASSWORD", "first-admin-pw")
	db := filepath.Join(t.TempDir(), "data", "crm.db")
	addr := freeAddr(t)
	stop := startServer(t, db, addr)
	base := "http://" + addr
	status, login := call(t, "POST", base+"/api/auth/login", "", `{"username": "admin", "password": "first-admin-pw"}`)
	if status != 200 {
		t.Fatalf("login: %d %v", status, login)
	}
	token := login["token"].(string)
	status, acc := call(t, "POST", base+"/api/records/account", token, `{"name": "Kept"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, acc)
	}
	out := stop()
	if !strings.Contains(out, "CRM listening on http://"+addr) || !strings.Contains(out, "created user admin") {
		t.Errorf("first start output:\n%s", out)
	}
	// Second start: same database, nothing reinstalled, nothing lost.
	t.Setenv("CRM_ADMIN_PASSWORD", "")
	stop = startServer(t, db, addr)
	defer stop()
	status, login = call(t, "POST", base+"/api/auth/login", "", `{"username": "admin", "password": "first-admin-pw"}`)
	if status != 200 {
		t.Fatalf("login after restart: %d %v", status, login)
	}
	status, got := call(t, "GET", fmt.Sprintf("%s/api/records/account/%s", base, acc["id"]), login["token"].(string), "")
	if status != 200 || got["name"] != "Kept" {
		t.Fatalf("record after restart: %d %v", status, got)
	}
	status, health := call(t, "GET", base+"/api/health", "", "")
	if status != 200 || health["metadata_version"] != float64(1) {
		t.Fatalf("template reinstalled? %v", health)
	}
}

// TestServeSample starts a fresh database with --sample: the standard
// template's sample data is there for the administrator, loaded once.
func TestServeSample(t *testing.T) {
	t.Setenv("CRM_ADMIN_PASSWORD", "sample-admin-pw")
	db := filepath.Join(t.TempDir(), "crm.db")
	addr := freeAddr(t)
	base := "http://" + addr
	count := func() float64 {
		t.Helper()
		_, login := call(t, "POST", base+"/api/auth/login", "", `{"username": "admin", "password": "sample-admin-pw"}`)
		token, _ := login["token"].(string)
		status, list := call(t, "GET", base+"/api/records/opportunity?limit=1&total=true", token, "")
		if status != 200 {
			t.Fatalf("list: %d %v", status, list)
		}
		n, _ := list["total"].(float64)
		return n
	}
	stop := startServer(t, db, addr, "--sample")
	first := count()
	if out := stop(); first < 50 || !strings.Contains(out, "sample data: ") {
		t.Fatalf("%v sample opportunities after the first start:\n%s", first, out)
	}
	stop = startServer(t, db, addr, "--sample")
	defer stop()
	if again := count(); again != first {
		t.Errorf("a second start with --sample: %v opportunities, want %v", again, first)
	}
}

func TestServeGeneratesPassword(t *testing.T) {
	t.Setenv("CRM_ADMIN_PASSWORD", "")
	addr := freeAddr(t)
	stop := startServer(t, filepath.Join(t.TempDir(), "crm.db"), addr)
	out := stop()
	i := strings.Index(out, "password: ")
	if i < 0 {
		t.Fatalf("no generated password printed:\n%s", out)
	}
	pw := strings.Fields(out[i+len("password: "):])[0]
	if len(pw) < 12 {
		t.Fatalf("generated password %q is short", pw)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"postgres://crm:s3cret@db:5432/crm?sslmode=disable": "postgres://crm:xxxxx@db:5432/crm?sslmode=disable",
		"postgres://crm@db/crm":                             "postgres://crm@db/crm",
		"./data/crm.db":                                     "./data/crm.db",
	}
	for in, want := range cases {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crm.db")
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatal(out)
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "add", "--db", db, "--username", "boss", "--password", "boss-password", "--role", "sales_manager", "--department", "north", "--email", "boss@example.cn"}, 0, "created user boss"},
		{[]string{"user", "add", "--db", db, "--username", "z", "--password", "z-password", "--role", "sales_rep", "--email", "not mail"}, 1, "not an e-mail address"},
		{[]string{"user", "add", "--db", db, "--username", "rep", "--password", "rep-password", "--role", "sales_rep", "--manager", "boss"}, 0, "created user rep"},
		{[]string{"user", "add", "--db", db, "--username", "x", "--password", "x-password", "--role", "astronaut"}, 1, "unknown role"},
		{[]string{"user", "add", "--db", db, "--username", "y"}, 2, "--password is required"},
		{[]string{"user", "list", "--db", db}, 0, "rep"},
		{[]string{"user", "passwd", "--db", db, "--username", "rep", "--password", "new-password-1"}, 0, "password of rep changed"},
		{[]string{"user", "deactivate", "--db", db, "--username", "rep"}, 0, "deactivated"},
		{[]string{"user", "fly", "--db", db}, 2, "usage"},
	}
	for _, s := range steps {
		code, out := runCmd(t, s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("%v: exit %d (want %d)\n%s", s.args, code, s.code, out)
		}
	}
	_, out := runCmd(t, "user", "list", "--db", db)
	if !strings.Contains(out, "boss@example.cn") || !strings.Contains(out, "sales_rep") || !strings.Contains(out, "false") {
		t.Errorf("list after changes:\n%s", out)
	}
}

func TestBenchCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "bench.db")
	code, out := runCmd(t, "bench", "--scale", "0.003", "--reps", "1", "-n", "3", "--benchtime", "0", "--db", db)
	for _, want := range []string{"loading 7200 records", "create", "list_deep", "manager_list", "convert", "ratio", "target ≤ 1.25"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("output lacks %q: exit %d\n%s", want, code, out)
		}
	}
	if code, out := runCmd(t, "bench", "--db", db, "--reuse", "-n", "1", "--benchtime", "0"); code != 0 || strings.Contains(out, "loading") || !strings.Contains(out, "list_deep") {
		t.Fatalf("a loaded data set runs again with --reuse: exit %d\n%s", code, out)
	}
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, out = runCmd(t, "bench", "--db", db, "--reuse", "-n", "1", "--benchtime", "30ms", "--only", "count,report", "--cpuprofile", prof)
	if code != 0 || !strings.Contains(out, "count ") || !strings.Contains(out, "report ") || strings.Contains(out, "create ") {
		t.Fatalf("--only count,report runs those two: exit %d\n%s", code, out)
	}
	// --benchtime sizes the sample: one iteration of a count takes far
	// less than 30 ms, so more ran (a report may take longer than that).
	if m := regexp.MustCompile(`(?m)^count +n=(\d+) `).FindStringSubmatch(out); m == nil || m[1] == "1" || !strings.Contains(out, "and 30ms each") {
		t.Errorf("--benchtime 30ms ran a single count:\n%s", out)
	}
	if code, out := runCmd(t, "bench", "--db", db, "--reuse", "--benchtime", "-1s"); code != 2 || !strings.Contains(out, "--benchtime must not be negative") {
		t.Errorf("negative --benchtime: exit %d\n%s", code, out)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("--cpuprofile wrote no profile: %v", err)
	}
	if code, out := runCmd(t, "bench", "--db", db, "--reuse", "--only", "delete"); code != 2 || !strings.Contains(out, `no scenario "delete"`) {
		t.Errorf("unknown scenario: exit %d\n%s", code, out)
	}
	// A data set too small for a deep page skips that scenario only.
	small := filepath.Join(t.TempDir(), "small.db")
	code, out = runCmd(t, "bench", "--db", small, "--scale", "0.0005", "-n", "1", "--benchtime", "0", "--only", "list_deep,count")
	if code != 0 || !strings.Contains(out, "list_deep: skipped: rep001 has") || !strings.Contains(out, "count ") {
		t.Errorf("a deep page on a small data set is skipped, the rest runs: exit %d\n%s", code, out)
	}
	// The HTTP load run over the same data set, against a server.
	addr := freeAddr(t)
	stop := startServer(t, db, addr)
	defer stop()
	code, out = runCmd(t, "load", "--url", "http://"+addr, "--duration", "300ms", "--connections", "2", "--pid", fmt.Sprint(os.Getpid()))
	for _, want := range []string{"get ", "list ", "create ", "req/s", "p99", "server memory: peak"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("load output lacks %q: exit %d\n%s", want, code, out)
		}
	}
	if strings.Contains(out, "first:") {
		t.Errorf("requests failed:\n%s", out)
	}
	if code, out := runCmd(t, "load", "--url", "http://"+addr, "--scenarios", "delete", "--duration", "10ms"); code != 1 || !strings.Contains(out, `no load scenario "delete"`) {
		t.Errorf("unknown scenario: exit %d\n%s", code, out)
	}
	used := filepath.Join(t.TempDir(), "used.db")
	if code, _ := runCmd(t, "migrate", "--db", used); code != 0 {
		t.Fatal("migrate")
	}
	if code, out := runCmd(t, "bench", "--db", used, "-n", "1", "--benchtime", "0"); code != 1 || !strings.Contains(out, "empty database") {
		t.Fatalf("bench on a database with data must refuse: exit %d\n%s", code, out)
	}
	if code, _ := runCmd(t, "bench", "--reuse"); code != 2 {
		t.Errorf("--reuse without --db: exit %d, want 2", code)
	}
}

// TestValidateEveryStage checks that crm validate runs every database-free
// stage and reports every problem of every stage in one run, and that a
// folder may extend a built-in template.
func TestValidateEveryStage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		code  int
		want  []string
	}{
		{"every stage", map[string]string{
			"template.yaml":          "name: loops\n",
			"objects/deal.yaml":      "name: deal\nfields:\n  - {name: a, type: integer, formula: \"b + 1\"}\n  - {name: b, type: integer, formula: \"a + 1\"}\n  - {name: c, type: integer, formula: \"nowhere * 2\"}\n  - {name: acc, type: lookup, target: account}\n",
			"roles/rep.yaml":         "name: rep\nsharing_rules:\n  - {name: big, object: deal, condition: 'colour == \"red\"', access: read}\n",
			"workflows/approve.yaml": "name: approve\n",
		}, 1, []string{
			"workflows/: /: unknown folder",
			`objects/deal.yaml: /fields/3/target: unknown target object "account"`,
			"cycle",
			"objects/deal.yaml: /fields/2/formula:",
			"roles/rep.yaml: /sharing_rules/0/condition:",
		}},
		{"extends standard", map[string]string{
			"template.yaml":        "name: machines\nextends: standard\n",
			"objects/machine.yaml": "name: machine\nfields:\n  - {name: name, type: text}\n  - {name: account, type: lookup, target: account}\n",
		}, 0, []string{"template machines with 24 objects"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range c.files {
				writeFile(t, dir, name, body)
			}
			code, out := runCmd(t, "validate", dir)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
