package engine

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestNotificationReloadsOtherServer has a second engine watch with a poll
// interval of an hour, so only PostgreSQL's notification can bring it a
// metadata change made by the first.
func TestNotificationReloadsOtherServer(t *testing.T) {
	t.Parallel()
	db := storetest.PostgresFrom(t, standard)
	a := newEngine(t, db, ownerGuard{})
	b := secondServer(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Watch(ctx, time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE query = 'LISTEN "crm_metadata"' AND datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second engine never listened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := editSchema(a, false, func(s *metadata.Schema) {
		o, _ := s.Object("lead")
		o.Fields = append(o.Fields, &metadata.Field{Name: "score", Type: "integer"})
	}); err != nil {
		t.Fatal(err)
	}
	for b.Snapshot().Version != a.Snapshot().Version {
		if time.Now().After(deadline) {
			t.Fatalf("the second engine is still at version %d", b.Snapshot().Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
