package engine

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestFilterCalendarFollowsTimeZone creates a lead at 23:00 in Shanghai
// (15:00 UTC) and lists "today's" leads two hours later: still today in
// UTC, already yesterday in Shanghai.
func TestFilterCalendarFollowsTimeZone(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	now := time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC)
	e, err := New(context.Background(), Config{DB: db, Guard: ownerGuard{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := defaults.FS("standard")
	if _, err := e.InstallTemplate(context.Background(), fsys, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Create(as("u"), "lead", map[string]any{"person": "Late caller"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ctx  context.Context
		want int
	}{
		{"engine default (UTC)", as("u"), 1},
		{"Shanghai", WithLocation(as("u"), shanghai), 0},
	}
	for _, c := range cases {
		res, err := e.List(c.ctx, "lead", ListOptions{Filter: "today(created_at)"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != c.want {
			t.Errorf("%s: %d leads created today, want %d", c.name, len(res.Items), c.want)
		}
		res, err = e.List(c.ctx, "lead", ListOptions{Filter: "yesterday(created_at)"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != 1-c.want {
			t.Errorf("%s: %d leads created yesterday, want %d", c.name, len(res.Items), 1-c.want)
		}
	}
}
