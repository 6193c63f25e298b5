package sales_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/internal/server"
	"github.com/gofiber/fiber/v2"
)

// TestRoundRobinAcrossServers creates web leads without an owner through
// two servers sharing one database (each with its own engine and
// connection pool), at the same time: the standard rule
// deals them to the two sales reps in turn, evenly, and skips a rep once
// deactivated. A lead given an owner, or one no entry matches, keeps it.
func TestRoundRobinAcrossServers(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, a *apitest.Server) {
		db := a.DB
		ctx := context.Background()
		// The second server has a connection pool of its own.
		p, err := platform.New(ctx, platform.Config{DB: storetest.Reopen(t, db), Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			t.Fatal(err)
		}
		routes, err := server.Parts(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		b := api.New(api.Config{Engine: p.Engine, Access: p.Access, Registrars: routes})
		rep1, rep2 := a.UserID("rep1"), a.UserID("rep2")
		owners := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				app := a.App
				if i%2 == 1 {
					app = b
				}
				owner := createOn(t, app, a.Token("admin"), fmt.Sprintf(`{"person": "Visitor %d", "source": "web"}`, i))
				mu.Lock()
				owners[owner]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if owners[rep1] != 10 || owners[rep2] != 10 {
			t.Fatalf("web leads per owner: %v (rep1 %s, rep2 %s)", owners, rep1, rep2)
		}
		if err := a.Platform.Access.DeactivateUser(ctx, "rep2"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if owner := createOn(t, b, a.Token("admin"), fmt.Sprintf(`{"person": "Late %d", "source": "web"}`, i)); owner != rep1 {
				t.Fatalf("a lead went to %s with rep2 inactive", owner)
			}
		}
		if owner := createOn(t, a.App, a.Token("admin"), `{"person": "Given", "source": "web", "owner_id": "`+a.UserID("manager")+`"}`); owner != a.UserID("manager") {
			t.Errorf("a lead given an owner went to %s", owner)
		}
		if owner := createOn(t, a.App, a.Token("admin"), `{"person": "Called", "source": "cold_call"}`); owner != a.UserID("admin") {
			t.Errorf("a lead no entry matches went to %s", owner)
		}
	})
}

// createOn creates a lead as the holder of token through app and returns
// its owner (safe to call from several goroutines).
func createOn(t *testing.T, app *fiber.App, token, body string) string {
	status, m := doOn(t, app, token, "POST", "/api/records/lead", body)
	if status != 201 {
		t.Errorf("create lead: %d %v", status, m)
		return ""
	}
	if owner, ok := m["owner_id"].(string); ok {
		return owner
	}
	// Given to someone else: only the id comes back; the admin reads it.
	_, m = doOn(t, app, token, "GET", "/api/records/lead/"+m["id"].(string), "")
	owner, _ := m["owner_id"].(string)
	return owner
}

// doOn sends a JSON request as the holder of token through app.
func doOn(t *testing.T, app *fiber.App, token, method, path, body string) (int, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Error(err)
	}
	return resp.StatusCode, m
}
