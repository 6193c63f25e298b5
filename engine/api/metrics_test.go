package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
)

// syncBuffer is a buffer the server's logger writes to while a test reads
// it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

// TestMetricsAndRequestLog checks GET /metrics (who may read it, and that
// it counts requests by route and status, times them, and shows the
// database pool and the job queue) and the request log lines, on both
// databases.
func TestMetricsAndRequestLog(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		logs := &syncBuffer{}
		log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		f := newFixtureWith(t, db, platform.Config{}, Config{Logger: log, MetricsToken: "scrape-secret"})
		if _, _, err := f.eng.Jobs().Enqueue(context.Background(), db.SQL(), jobs.Spec{Kind: engine.PurgeFilesKind, Key: "metrics-test"}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if status, _ := f.do("GET", "/api/records/account", "rep1", ""); status != 200 {
				t.Fatalf("list: %d", status)
			}
		}
		if status, _ := f.do("GET", "/api/records/nothing", "rep1", ""); status != 404 {
			t.Fatalf("unknown object: %d", status)
		}
		scrape := func(header map[string]string) (int, string) {
			status, raw, _ := f.rawWith("GET", "/metrics", "", "", nil, header)
			return status, string(raw)
		}
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-secret"}} {
			if status, body := scrape(h); status != 403 || strings.Contains(body, "crm_http") {
				t.Fatalf("scrape with %v: %d %s", h, status, body)
			}
		}
		status, body := scrape(map[string]string{"Authorization": "Bearer scrape-secret"})
		if status != 200 {
			t.Fatalf("scrape: %d %s", status, body)
		}
		for _, want := range []string{
			`crm_http_requests_total{method="GET",route="/api/records/:object",status="200"} 2`,
			`crm_http_requests_total{method="GET",route="/api/records/:object",status="404"} 1`,
			`crm_http_requests_total{method="GET",route="/metrics",status="403"} 3`,
			`crm_http_request_duration_seconds_count{method="GET",route="/api/records/:object",status="200"} 2`,
			`crm_http_request_duration_seconds_bucket{method="GET",route="/api/records/:object",status="200",le="+Inf"} 2`,
			`crm_http_requests_in_flight 1`,
			`crm_jobs{kind="` + engine.PurgeFilesKind + `",state="pending"} 1`,
			`go_sql_max_open_connections{db_name="` + db.Dialect + `"}`,
			`go_sql_in_use_connections{db_name="` + db.Dialect + `"}`,
			"go_goroutines ", "process_resident_memory_bytes ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the metrics lack %s", want)
			}
		}
		if t.Failed() {
			t.Log(body)
		}

		rep1 := f.userID("rep1")
		var list, missing, scraped int
		for _, l := range logs.lines(t) {
			if l["msg"] != "request" {
				continue
			}
			switch {
			case l["route"] == MetricsPath:
				scraped++
			case l["path"] == "/api/records/account":
				list++
				if l["status"] != 200.0 || l["method"] != "GET" || l["user_id"] != rep1 || l["request_id"] == "" || l["ms"] == nil || l["level"] != "INFO" {
					t.Errorf("request log line %v", l)
				}
			case l["path"] == "/api/records/nothing":
				missing++
				if l["status"] != 404.0 || l["route"] != "/api/records/:object" {
					t.Errorf("request log line %v", l)
				}
			}
		}
		if list != 2 || missing != 1 || scraped != 0 {
			t.Errorf("%d lines for the list, %d for the unknown object, %d for /metrics; want 2, 1, 0", list, missing, scraped)
		}
	})
}

// TestMetricsFromLoopback checks that without a token the metrics are
// shown to a client on the loopback interface, but not through a proxy.
func TestMetricsFromLoopback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	base := f.listen(t)
	for _, c := range []struct {
		header map[string]string
		status int
	}{
		{nil, 200},
		{map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{map[string]string{"Forwarded": "for=203.0.113.9"}, 403},
	} {
		req, err := http.NewRequest("GET", base+MetricsPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.status == 200) != strings.Contains(string(raw), "crm_http_requests_in_flight") {
			t.Errorf("%v: %d %s", c.header, resp.StatusCode, raw)
		}
	}
}
