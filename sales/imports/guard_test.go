package imports

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
)

// TestStaleStepWritesNothing runs the first batch of an import job, then
// has a step that read the import before that batch committed (a runner
// whose lease expired meanwhile) write the same batch: its unit of work
// is refused as a whole, so the row is not written twice.
func TestStaleStepWritesNothing(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := defaults.FS("standard")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
			t.Fatal(err)
		}
		q, err := NewQueue(ctx, p.Engine, p.Access)
		if err != nil {
			t.Fatal(err)
		}
		u, err := p.Access.GetUser(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		started, err := q.Start(ctx, u.Principal(), strings.NewReader("person\nStale A\nStale B\n"), Options{Object: "lead", Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		stale, err := q.load(ctx, db.SQL(), started.ID)
		if err != nil {
			t.Fatal(err)
		}
		stop, cancel := context.WithCancel(ctx)
		p.Engine.Jobs().Drain(stop, jobs.DrainOptions{Kinds: []string{Kind}, Progress: func(jobs.Job) { cancel() }})
		next := *stale
		next.pos, next.line, next.Done, next.State = stale.pos+int64(len("Stale A\n")), 3, 1, StateRunning
		batch := []row{{line: 2, data: map[string]any{"person": "Stale A"}}}
		err = writeBatch(ctx, p.Engine, u.Principal(), stale.options, batch, &Result{}, func(tx store.Querier, got *Result) error {
			return q.advance(ctx, tx, stale, &next, got)
		})
		if !errors.Is(err, errMoved) {
			t.Fatalf("a stale step: %v", err)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM lead WHERE person = 'Stale A'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("Stale A written %d times (%v)", n, err)
		}
		if err := p.Engine.Jobs().Drain(ctx, jobs.DrainOptions{Kinds: []string{Kind}}); err != nil {
			t.Fatal(err)
		}
		if st, err := q.Status(ctx, u.Principal(), started.ID); err != nil || st.State != StateDone || st.Created != 2 || st.Done != 2 {
			t.Fatalf("the import after the stale step: %+v %v", st, err)
		}
	})
}
