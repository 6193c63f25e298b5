package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"golang.org/x/crypto/bcrypt"
)

// envServe, set to a command line (arguments separated by newlines),
// makes the test binary run that crm command instead of the tests: the
// durability and shutdown tests start the server as a process of its own
// to kill or stop it with a signal.
const envServe = "CRM_TEST_COMMAND"

// TestMain lowers the bcrypt cost of the commands (passwordCost): the tests
// check what the commands do with passwords, not how long hashing takes.
func TestMain(m *testing.M) {
	passwordCost = bcrypt.MinCost
	if args := os.Getenv(envServe); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, strings.Split(args, "\n"), os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// process is crm serve running as a process of its own.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	base string
}

// spawn starts crm serve on dsn as a process of its own, with the first
// admin's password admin-password, and waits until it answers.
func spawn(t *testing.T, dsn string) *process {
	t.Helper()
	addr := freeAddr(t)
	p := &process{out: &syncBuffer{}, done: make(chan error, 1), base: "http://" + addr}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), envServe+"="+strings.Join([]string{"serve", "--db", dsn, "--addr", addr}, "\n"), "CRM_ADMIN_PASSWORD=admin-password")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(90 * time.Second) // slow under -race on a loaded machine
	for {
		resp, err := http.Get(p.base + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("the server stopped (%v):\n%s", err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// login signs the admin in and returns the token.
func (p *process) login(t *testing.T) string {
	t.Helper()
	status, m := call(t, "POST", p.base+"/api/auth/login", "", `{"username": "admin", "password": "admin-password"}`)
	if status != 200 {
		t.Fatalf("login: %d %v", status, m)
	}
	return m["token"].(string)
}

// wait waits for the process to end and returns its exit code.
func (p *process) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("the server did not stop within %s:\n%s", within, p.out.String())
		return -1
	}
}

// try sends a JSON request and decodes the answer, or returns the error
// of a request that got no answer (the server was killed).
func try(client *http.Client, method, url, token, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, m, nil
}

// durabilityLeads is the number of leads the durability test converts
// (as many as it can before the kill).
const durabilityLeads = 40

// TestDurabilityUnderSIGKILL kills the server (SIGKILL) while clients
// create accounts and convert leads, on SQLite and on PostgreSQL,
// restarts it, and checks that every write it acknowledged is there and
// that no conversion is half applied: a lead is converted with its
// account, contact and opportunity, or it is not and none of them exists.
func TestDurabilityUnderSIGKILL(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "crm.db")
			if dialect == "postgres" {
				dsn = storetest.PostgresURL(t)
			}
			durability(t, dsn)
		})
	}
}

func durability(t *testing.T, dsn string) {
	srv := spawn(t, dsn)
	token := srv.login(t)
	leads := make([]string, durabilityLeads)
	for i := range leads {
		status, m := call(t, "POST", srv.base+"/api/records/lead", token,
			fmt.Sprintf(`{"person": "Person %d", "company": "Durable %d", "email": "p%d@example.com", "status": "qualified"}`, i, i, i))
		if status != 201 {
			t.Fatalf("lead %d: %d %v", i, status, m)
		}
		leads[i] = m["id"].(string)
	}

	// Writers until the kill: three create accounts, one converts the
	// leads in turn. Only answers received count as acknowledged.
	var mu sync.Mutex
	accounts := map[string]string{}            // id → name, acknowledged
	conversions := map[string]map[string]any{} // lead → answer, acknowledged
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("Acked %d-%d", w, i)
				status, m, err := try(client, "POST", srv.base+"/api/records/account", token, fmt.Sprintf(`{"name": %q}`, name))
				if err != nil {
					return // the server is gone
				}
				if status != 201 {
					t.Errorf("create %s: %d %v", name, status, m)
					return
				}
				mu.Lock()
				accounts[m["id"].(string)] = name
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, lead := range leads {
			select {
			case <-stop:
				return
			default:
			}
			status, m, err := try(client, "POST", srv.base+"/api/records/lead/"+lead+"/actions/convert", token, `{"account": {"create": true}, "opportunity": {"create": true}}`)
			if err != nil {
				return
			}
			if status != 200 && status != 201 {
				t.Errorf("convert %s: %d %v", lead, status, m)
				return
			}
			mu.Lock()
			conversions[lead] = m
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		enough := len(accounts) >= 30 && len(conversions) >= 5
		mu.Unlock()
		if enough || time.Now().After(deadline) || t.Failed() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The writers are still sending: the kill lands among requests in
	// flight.
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.wait(t, 30*time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(accounts) == 0 || len(conversions) == 0 {
		t.Fatalf("too few writes before the kill: %d accounts, %d conversions", len(accounts), len(conversions))
	}
	t.Logf("killed after %d acknowledged creates and %d conversions", len(accounts), len(conversions))

	srv = spawn(t, dsn)
	token = srv.login(t)
	get := func(object, id string) map[string]any {
		t.Helper()
		status, m := call(t, "GET", srv.base+"/api/records/"+object+"/"+id, token, "")
		if status != 200 {
			t.Fatalf("acknowledged %s %s is missing after the restart: %d %v", object, id, status, m)
		}
		return m
	}
	count := func(object, filter string) int {
		t.Helper()
		status, m := call(t, "GET", srv.base+"/api/records/"+object+"?total=true&filter="+url.QueryEscape(filter), token, "")
		if status != 200 {
			t.Fatalf("list %s %s: %d %v", object, filter, status, m)
		}
		return len(m["items"].([]any))
	}
	for id, name := range accounts {
		if got := get("account", id); got["name"] != name {
			t.Fatalf("account %s is %v, want %s", id, got["name"], name)
		}
	}
	converted := 0
	for i, lead := range leads {
		l := get("lead", lead)
		if ack, ok := conversions[lead]; ok {
			if l["status"] != "converted" || l["converted_account"] != ack["account_id"] || l["converted_opportunity"] != ack["opportunity_id"] {
				t.Fatalf("acknowledged conversion of lead %d is not there: %v, answered %v", i, l, ack)
			}
		}
		company, person := fmt.Sprintf(`name == "Durable %d"`, i), fmt.Sprintf(`name == "Person %d"`, i)
		if l["status"] == "converted" {
			converted++
			for _, k := range []struct{ object, field string }{{"account", "converted_account"}, {"contact", "converted_contact"}, {"opportunity", "converted_opportunity"}} {
				id, _ := l[k.field].(string)
				if id == "" {
					t.Fatalf("lead %d is converted without its %s: %v", i, k.object, l)
				}
				get(k.object, id)
			}
			continue
		}
		if l["converted_account"] != nil || l["converted_contact"] != nil || count("account", company) != 0 || count("contact", person) != 0 {
			t.Fatalf("lead %d is not converted but some of its conversion was written: %v", i, l)
		}
	}
	if converted < len(conversions) {
		t.Fatalf("%d leads converted, %d acknowledged", converted, len(conversions))
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, srv.out.String())
	}
}

// TestGracefulShutdown sends SIGTERM while a create waits for the
// database (SQLite's write lock, held by the test): the server stops
// taking connections but finishes the create, answering 201, stops its
// job runner and exits 0; the record is stored.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crm.db")
	srv := spawn(t, path)
	token := srv.login(t)
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.SQL().BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	created := make(chan answer, 1)
	go func() {
		status, m, err := try(http.DefaultClient, "POST", srv.base+"/api/records/account", token, `{"name": "In flight"}`)
		created <- answer{status, m, err}
	}()
	// The create is in flight when the metrics count it beside the scrape.
	for deadline := time.Now().Add(60 * time.Second); ; {
		status, body, err := metricsText(srv.base)
		if err != nil || status != 200 {
			t.Fatalf("metrics: %d %v", status, err)
		}
		if strings.Contains(body, "\ncrm_http_requests_in_flight 2\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the create never got in flight:\n%s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once the listener is closed, while the
	// create still waits for the lock.
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(srv.base + "/api/health")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still takes connections after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case a := <-created:
		t.Fatalf("the create was answered while the database was locked: %+v", a)
	case <-srv.done:
		t.Fatalf("the server exited with a request in flight:\n%s", srv.out.String())
	default:
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	a := <-created
	if a.err != nil || a.status != 201 {
		t.Fatalf("the create in flight got %d %v %v", a.status, a.body, a.err)
	}
	if code := srv.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, srv.out.String())
	}
	for _, want := range []string{"shutting down", "stopped"} {
		if !strings.Contains(srv.out.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, srv.out.String())
		}
	}
	var name string
	if err := db.SQL().QueryRowContext(ctx, `SELECT name FROM account WHERE id = ?`, a.body["id"]).Scan(&name); err != nil || name != "In flight" {
		t.Fatalf("the record answered 201 is not stored: %q %v", name, err)
	}
}

// metricsText reads GET /metrics (allowed from the loopback interface).
func metricsText(base string) (int, string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}
