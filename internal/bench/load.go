package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadConfig is an HTTP load run against a running server.
type LoadConfig struct {
	// URL is the server's base URL (http://127.0.0.1:8080).
	URL string
	// Username and Password sign in the user the requests act as (a
	// sales rep of the data set: rep001).
	Username, Password string
	// Connections is how many requests are in flight at once.
	Connections int
	// Duration is how long each scenario runs.
	Duration time.Duration
	// Scenarios names the scenarios to run, in order: get, list, create.
	Scenarios []string
}

// LoadResult is what one scenario of a load run measured.
type LoadResult struct {
	Name     string
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	// FirstError is the first failed request's status and answer.
	FirstError string
}

// PerSecond is the rate of successful requests.
func (r LoadResult) PerSecond() float64 {
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// String formats the result as one line.
func (r LoadResult) String() string {
	s := fmt.Sprintf("%-7s %8d requests %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %d", r.Name, r.Requests, r.PerSecond(),
		float64(r.P50.Microseconds())/1000, float64(r.P99.Microseconds())/1000, r.Errors)
	if r.FirstError != "" {
		s += "  (first: " + r.FirstError + ")"
	}
	return s
}

// LoadScenarios are the scenarios a load run knows.
var LoadScenarios = []string{"get", "list", "create"}

// loadClient is a signed-in client of the server.
type loadClient struct {
	http  *http.Client
	base  string
	token string
}

// do sends a request and returns the status and body.
func (c *loadClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// HTTPLoad signs in, then runs each scenario for the configured duration
// with the configured number of connections, each sending its next
// request as soon as the last is answered: get reads one of the user's
// opportunities by id, list reads the first page of the user's
// opportunities of one stage by amount, create creates an opportunity on one of the user's accounts in turn.
func HTTPLoad(ctx context.Context, cfg LoadConfig) ([]LoadResult, error) {
	if cfg.Connections < 1 || cfg.Duration <= 0 {
		return nil, errors.New("bench: a load run needs connections and a duration")
	}
	tr := &http.Transport{MaxIdleConns: cfg.Connections, MaxIdleConnsPerHost: cfg.Connections, MaxConnsPerHost: cfg.Connections, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &loadClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: strings.TrimRight(cfg.URL, "/")}
	login, _ := json.Marshal(map[string]string{"username": cfg.Username, "password": cfg.Password})
	status, b, err := c.do(ctx, "POST", "/api/auth/login", login)
	if err != nil {
		return nil, fmt.Errorf("bench: sign in: %w", err)
	}
	var auth struct {
		Token string `json:"token"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &auth) != nil || auth.Token == "" {
		return nil, fmt.Errorf("bench: sign in as %s: %d %s", cfg.Username, status, b)
	}
	c.token = auth.Token
	listPath := "/api/records/opportunity?limit=" + strconv.Itoa(pageSize) + "&sort=" + url.QueryEscape(listSort) + "&filter=" + url.QueryEscape(listFilter)
	status, b, err = c.do(ctx, "GET", "/api/records/opportunity?limit=500", nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &page) != nil || len(page.Items) == 0 {
		return nil, fmt.Errorf("bench: %s sees no opportunity: %d %s", cfg.Username, status, b)
	}
	run := runID()
	var seq atomic.Int64
	requests := map[string]func(i int) (string, string, []byte){
		"get": func(i int) (string, string, []byte) {
			return "GET", "/api/records/opportunity/" + page.Items[i%len(page.Items)]["id"].(string), nil
		},
		"list": func(int) (string, string, []byte) { return "GET", listPath, nil },
		"create": func(i int) (string, string, []byte) {
			// Spread over the user's accounts, as users' deals are: every
			// create recomputes its account's roll-ups over the account's
			// opportunities, so piling every create onto one account would
			// make each slower than the one before.
			account := page.Items[i%len(page.Items)]["account"]
			body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Load %s-%d", run, seq.Add(1)), "account": account, "stage": "qualify", "amount": "1000.00"})
			return "POST", "/api/records/opportunity", body
		},
	}
	var out []LoadResult
	for _, name := range cfg.Scenarios {
		req, ok := requests[name]
		if !ok {
			return nil, fmt.Errorf("bench: no load scenario %q (known: %s)", name, strings.Join(LoadScenarios, ", "))
		}
		out = append(out, c.run(ctx, name, cfg, req))
	}
	return out, nil
}

// run sends requests from cfg.Connections goroutines for cfg.Duration.
func (c *loadClient) run(ctx context.Context, name string, cfg LoadConfig, req func(i int) (string, string, []byte)) LoadResult {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	res := LoadResult{Name: name}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			first := ""
			for i := w; ctx.Err() == nil; i += cfg.Connections {
				method, path, body := req(i)
				t0 := time.Now()
				status, b, err := c.do(context.WithoutCancel(ctx), method, path, body)
				lat = append(lat, time.Since(t0))
				if err != nil || status >= 300 {
					errs++
					if first == "" {
						first = fmt.Sprintf("%d %v %.200s", status, err, b)
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			res.Errors += errs
			if res.FirstError == "" {
				res.FirstError = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(all)
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[len(all)*50/100]
		res.P99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return res
}

// PeakMemory reads the peak and current resident memory of process pid
// (VmHWM and VmRSS of /proc/PID/status, Linux), in bytes.
func PeakMemory(pid int) (peak, current int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("bench: memory of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: memory of process %d: %q", pid, line)
		}
		if key == "VmHWM" {
			peak = kb << 10
		} else {
			current = kb << 10
		}
	}
	return peak, current, nil
}
