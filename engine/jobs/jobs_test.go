package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newRunner opens a runner named name over db with the clock, migrated.
func newRunner(t *testing.T, db *store.DB, name string, c *clock, opt Options) *Runner {
	t.Helper()
	opt.Name = name
	opt.Logger = slog.New(slog.DiscardHandler)
	if c != nil {
		opt.Now = c.now
	}
	r := New(db, opt)
	if err := r.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// get reads a job or fails the test.
func get(t *testing.T, r *Runner, id string) *Job {
	t.Helper()
	j, err := r.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// enqueue adds a job or fails the test.
func enqueue(t *testing.T, r *Runner, s Spec) string {
	t.Helper()
	id, created, err := r.Enqueue(context.Background(), r.db.SQL(), s)
	if err != nil || !created {
		t.Fatalf("enqueue %+v: %s %v %v", s, id, created, err)
	}
	return id
}

// finishAtOnce is a step that finishes the job in one go.
func finishAtOnce(ctx context.Context, l *Lease) (Progress, error) {
	return Progress{Done: 1, Total: 1, Finished: true}, nil
}

func TestRegisterPanics(t *testing.T) {
	r := New(storetest.SQLite(t), Options{})
	r.Register(Kind{Name: "a", Step: finishAtOnce})
	for name, k := range map[string]Kind{"duplicate": {Name: "a", Step: finishAtOnce}, "no name": {Step: finishAtOnce}, "no step": {Name: "b"}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("want a panic")
				}
			}()
			r.Register(k)
		})
	}
}

func TestEnqueue(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		r := newRunner(t, db, "a", c, Options{LeaseTimeout: 2 * time.Hour})
		r.Register(Kind{Name: "mail", Step: finishAtOnce})

		if _, _, err := r.Enqueue(ctx, db.SQL(), Spec{Kind: "nope"}); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("unknown kind: %v", err)
		}
		// In the caller's transaction: rolled back, no job.
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Enqueue(ctx, tx, Spec{Kind: "mail", Payload: map[string]string{"to": "ann"}}); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if jobs, err := r.List(ctx, Filter{}); err != nil || len(jobs) != 0 {
			t.Fatalf("a rolled back enqueue left %v, %v", jobs, err)
		}

		// A key: one pending job; once it runs, another may wait.
		first := enqueue(t, r, Spec{Kind: "mail", Key: "lead-1", Payload: map[string]string{"to": "ann"}})
		again, created, err := r.Enqueue(ctx, db.SQL(), Spec{Kind: "mail", Key: "lead-1"})
		if err != nil || created || again != first {
			t.Fatalf("second enqueue with the key: %s %v %v", again, created, err)
		}
		if j := get(t, r, first); j.State != Pending || j.Attempts != 0 || j.MaxAttempts != DefaultMaxAttempts || string(j.Payload) != `{"to":"ann"}` || !j.RunAt.Equal(c.now()) {
			t.Fatalf("stored job %+v", j)
		}
		l, err := r.lease(ctx, []string{"mail"})
		if err != nil || l == nil || l.ID != first || l.State != Running || l.Attempts != 1 || l.LockedBy != "a" {
			t.Fatalf("lease %+v %v", l, err)
		}
		second := enqueue(t, r, Spec{Kind: "mail", Key: "lead-1"})
		if second == first {
			t.Fatal("a running job must not absorb a new one")
		}
		// Scheduled for later: not due before its time.
		later := enqueue(t, r, Spec{Kind: "mail", RunAt: c.now().Add(time.Hour)})
		if l, err := r.lease(ctx, []string{"mail"}); err != nil || l == nil || l.ID != second {
			t.Fatalf("lease of the due job: %+v %v", l, err)
		}
		if l, err := r.lease(ctx, []string{"mail"}); err != nil || l != nil {
			t.Fatalf("nothing is due before its run time, got %+v %v", l, err)
		}
		c.add(time.Hour)
		if l, err := r.lease(ctx, []string{"mail"}); err != nil || l == nil || l.ID != later {
			t.Fatalf("lease at the run time: %+v %v", l, err)
		}
	})
}

// countingKind runs three steps per job, each inserting a row in its
// transaction, and counts the steps in memory.
type countingKind struct {
	mu    sync.Mutex
	steps map[string]int
	// by counts the steps per runner.
	by map[string]int
}

func (ck *countingKind) step(ctx context.Context, l *Lease) (Progress, error) {
	n, _ := strconv.Atoi(l.Checkpoint)
	tx, err := l.Tx(ctx)
	if err != nil {
		return Progress{}, err
	}
	if _, err := tx.ExecContext(ctx, store.Rebind(l.r.db.Dialect, `INSERT INTO job_steps (job_id, step) VALUES (?, ?)`), l.ID, n); err != nil {
		return Progress{}, err
	}
	ck.mu.Lock()
	ck.steps[fmt.Sprint(l.ID, "/", n)]++
	if ck.by != nil {
		ck.by[l.r.Name()]++
	}
	ck.mu.Unlock()
	n++
	return Progress{Done: int64(n), Total: 3, Checkpoint: strconv.Itoa(n), Message: "counting", Finished: n == 3}, nil
}

func TestStepsCheckpointAndProgress(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE job_steps (job_id TEXT, step INTEGER, PRIMARY KEY (job_id, step))`); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, db, "a", newClock(), Options{})
		ck := &countingKind{steps: map[string]int{}}
		r.Register(Kind{Name: "count", Step: ck.step})
		id := enqueue(t, r, Spec{Kind: "count"})
		var seen []string
		if err := r.Drain(ctx, DrainOptions{Progress: func(j Job) { seen = append(seen, fmt.Sprintf("%s %d/%d", j.State, j.Done, j.Total)) }}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(seen, ", ") != "running 1/3, running 2/3, done 3/3" {
			t.Fatalf("progress %v", seen)
		}
		j := get(t, r, id)
		if j.State != Done || j.Done != 3 || j.Checkpoint != "3" || j.Message != "counting" || j.LockedBy != "" || !j.LeaseUntil.IsZero() || j.Attempts != 1 {
			t.Fatalf("finished job %+v", j)
		}
		var rows int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM job_steps`).Scan(&rows); err != nil || rows != 3 {
			t.Fatalf("work rows %d %v", rows, err)
		}
	})
}

func TestBackoffAndAttemptBound(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		r := newRunner(t, db, "a", c, Options{})
		calls := 0
		healthy := false
		r.Register(Kind{Name: "flaky", MaxAttempts: 3, Backoff: 10 * time.Second, Step: func(ctx context.Context, l *Lease) (Progress, error) {
			calls++
			if !healthy {
				return Progress{}, fmt.Errorf("mail server down (call %d)", calls)
			}
			return Progress{Done: 1, Total: 1, Finished: true}, nil
		}})
		id := enqueue(t, r, Spec{Kind: "flaky"})
		start := c.now()
		for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second} {
			if err := r.Drain(ctx, DrainOptions{}); err == nil || !strings.Contains(err.Error(), "mail server down") {
				t.Fatalf("attempt %d: want the step's error, got %v", i+1, err)
			}
			j := get(t, r, id)
			if j.State != Pending || j.Attempts != i+1 || !j.RunAt.Equal(c.now().Add(wait)) || !strings.Contains(j.LastError, fmt.Sprintf("call %d", i+1)) {
				t.Fatalf("after attempt %d: %+v", i+1, j)
			}
			// Not due during the back-off.
			if err := r.Drain(ctx, DrainOptions{}); err != nil || calls != i+1 {
				t.Fatalf("ran during the back-off: %d calls, %v", calls, err)
			}
			c.add(wait)
		}
		if err := r.Drain(ctx, DrainOptions{}); err == nil {
			t.Fatal("third attempt must fail")
		}
		j := get(t, r, id)
		if j.State != Failed || j.Attempts != 3 || !strings.Contains(j.LastError, "call 3") || c.now().Sub(start) != 30*time.Second {
			t.Fatalf("after the last attempt: %+v", j)
		}
		c.add(24 * time.Hour)
		if err := r.Drain(ctx, DrainOptions{}); err != nil || calls != 3 {
			t.Fatalf("a failed job must not run again: %d calls, %v", calls, err)
		}
		if err := r.Retry(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("retry of a missing job: %v", err)
		}
		healthy = true
		if err := r.Retry(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := r.Retry(ctx, id); !errors.Is(err, ErrNotFailed) {
			t.Fatalf("retry of a pending job: %v", err)
		}
		if err := r.Drain(ctx, DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		if j := get(t, r, id); j.State != Done || j.Attempts != 1 || calls != 4 {
			t.Fatalf("after retry: %+v, %d calls", j, calls)
		}
	})
}

func TestPanickingStepFails(t *testing.T) {
	db := storetest.SQLite(t)
	r := newRunner(t, db, "a", newClock(), Options{})
	r.Register(Kind{Name: "bad", MaxAttempts: 1, Step: func(ctx context.Context, l *Lease) (Progress, error) {
		panic("the step broke")
	}})
	id := enqueue(t, r, Spec{Kind: "bad"})
	if err := r.Drain(context.Background(), DrainOptions{}); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("want the panic as an error, got %v", err)
	}
	if j := get(t, r, id); j.State != Failed || !strings.Contains(j.LastError, "the step broke") {
		t.Fatalf("job %+v", j)
	}
}

func TestLeaseExpiryTakeover(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE job_steps (job_id TEXT, step INTEGER, PRIMARY KEY (job_id, step))`); err != nil {
			t.Fatal(err)
		}
		c := newClock()
		ck := &countingKind{steps: map[string]int{}}
		a := newRunner(t, db, "a", c, Options{LeaseTimeout: time.Minute})
		b := newRunner(t, storetest.Reopen(t, db), "b", c, Options{LeaseTimeout: time.Minute})
		for _, r := range []*Runner{a, b} {
			r.Register(Kind{Name: "count", Step: ck.step})
		}
		id := enqueue(t, a, Spec{Kind: "count"})
		// Server a takes the job, does its first step, then dies.
		la, err := a.lease(ctx, []string{"count"})
		if err != nil || la == nil {
			t.Fatalf("lease: %v", err)
		}
		p, err := ck.step(ctx, la)
		if err == nil {
			err = a.commit(ctx, la, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		// While the lease holds, b leaves the job alone.
		c.add(59 * time.Second)
		if err := b.Drain(ctx, DrainOptions{}); err != nil || get(t, b, id).LockedBy != "a" {
			t.Fatalf("b took a live lease: %+v %v", get(t, b, id), err)
		}
		c.add(2 * time.Second)
		if err := b.Drain(ctx, DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		j := get(t, b, id)
		if j.State != Done || j.Done != 3 || j.Attempts != 2 {
			t.Fatalf("after takeover: %+v", j)
		}
		for _, k := range []string{id + "/0", id + "/1", id + "/2"} {
			if ck.steps[k] != 1 {
				t.Fatalf("step %s ran %d times: %v", k, ck.steps[k], ck.steps)
			}
		}
		// The old holder's next step cannot commit.
		if _, err := la.Tx(ctx); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("stale lease: %v", err)
		}
		if err := a.commit(ctx, la, Progress{Done: 9, Finished: true}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("stale commit: %v", err)
		}
		if j := get(t, a, id); j.Done != 3 {
			t.Fatalf("a stale commit changed the job: %+v", j)
		}
	})
}

// TestTwoRunnersNeverRunAJobTwice runs many three-step jobs with two
// runners (two servers: separate connection pools) of three workers each,
// handing jobs back after every step so they move between runners: every
// step of every job must run exactly once.
func TestTwoRunnersNeverRunAJobTwice(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE job_steps (job_id TEXT, step INTEGER, PRIMARY KEY (job_id, step))`); err != nil {
			t.Fatal(err)
		}
		ck := &countingKind{steps: map[string]int{}, by: map[string]int{}}
		opt := Options{Workers: 3, Slice: time.Nanosecond}
		a := newRunner(t, db, "a", nil, opt)
		b := newRunner(t, storetest.Reopen(t, db), "b", nil, opt)
		for _, r := range []*Runner{a, b} {
			r.Register(Kind{Name: "count", Step: ck.step})
		}
		const n = 120
		ids := make([]string, n)
		for i := range ids {
			ids[i] = enqueue(t, a, Spec{Kind: "count"})
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, r := range []*Runner{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.Drain(ctx, DrainOptions{})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		t.Logf("steps per runner: %v", ck.by)
		if len(ck.steps) != 3*n {
			t.Fatalf("%d steps ran, want %d", len(ck.steps), 3*n)
		}
		for k, count := range ck.steps {
			if count != 1 {
				t.Fatalf("step %s ran %d times", k, count)
			}
		}
		done, err := a.List(ctx, Filter{State: Done, Limit: 1000})
		if err != nil || len(done) != n {
			t.Fatalf("%d jobs done, want %d (%v)", len(done), n, err)
		}
		for _, j := range done {
			if j.Done != 3 || j.Attempts != 1 {
				t.Fatalf("job %+v", j)
			}
		}
	})
}

// TestDrainWaitsForLockedDueJobs holds the rows of every due job locked,
// as a lease that read the queue before it changed does on PostgreSQL
// (it keeps each row it passed over locked until it ends): the leases of
// Drain skip them all and find nothing. Drain must see that due jobs are
// left, try again, and run them once the lock goes.
func TestDrainWaitsForLockedDueJobs(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != metadata.DialectPostgres {
			t.Skip("row locks that leases skip: PostgreSQL only (a SQLite lease waits for the writer)")
		}
		ctx := context.Background()
		r := newRunner(t, db, "a", nil, Options{Workers: 2})
		r.Register(Kind{Name: "one", Step: func(context.Context, *Lease) (Progress, error) {
			return Progress{Done: 1, Total: 1, Finished: true}, nil
		}})
		// A drain of nothing opens the connections the drain below uses, so
		// that its leases run before the lock goes.
		if err := r.Drain(ctx, DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			enqueue(t, r, Spec{Kind: "one"})
		}
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM `+Table+` FOR UPDATE`)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		unlocked := time.AfterFunc(500*time.Millisecond, func() { tx.Rollback() })
		defer unlocked.Stop()
		if err := r.Drain(ctx, DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		done, err := r.List(ctx, Filter{State: Done})
		if err != nil || len(done) != 5 {
			t.Fatalf("%d jobs done after the drain, want 5 (%v)", len(done), err)
		}
	})
}

func TestGracefulStop(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		for _, tt := range []struct {
			name string
			// finish makes the step finish its work once the run is told to
			// stop; otherwise it waits until its own context ends.
			finish bool
			grace  time.Duration
			done   int64
		}{{"step finishes", true, time.Hour, 1}, {"step cancelled after the grace", false, time.Millisecond, 0}} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				r := newRunner(t, db, "a", nil, Options{StopTimeout: tt.grace, Poll: time.Hour})
				started := make(chan struct{})
				kind := "slow-" + strings.ReplaceAll(tt.name, " ", "-")
				r.Register(Kind{Name: kind, Step: func(sctx context.Context, l *Lease) (Progress, error) {
					close(started)
					<-ctx.Done()
					if !tt.finish {
						<-sctx.Done()
						return Progress{}, sctx.Err()
					}
					return Progress{Done: 1, Total: 2, Checkpoint: "1"}, nil
				}})
				id := enqueue(t, r, Spec{Kind: kind})
				stopped := make(chan struct{})
				go func() {
					r.Run(ctx)
					close(stopped)
				}()
				<-started
				cancel()
				<-stopped
				j := get(t, r, id)
				if j.State != Pending || j.Attempts != 0 || j.LockedBy != "" || j.Done != tt.done || j.LastError != "" {
					t.Fatalf("after stop: %+v", j)
				}
			})
		}
	})
}

func TestSupersededByPendingTwin(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRunner(t, db, "a", newClock(), Options{})
		var twin string
		var twinErr error
		r.Register(Kind{Name: "recount", Step: func(ctx context.Context, l *Lease) (Progress, error) {
			if twin == "" && twinErr == nil {
				// While the job runs, the same work is queued again.
				twin, _, twinErr = r.Enqueue(ctx, r.db.SQL(), Spec{Kind: "recount", Key: "k"})
				return Progress{}, errors.New("database hiccup")
			}
			return Progress{Finished: true}, nil
		}})
		first := enqueue(t, r, Spec{Kind: "recount", Key: "k"})
		if err := r.Drain(ctx, DrainOptions{}); err == nil || twinErr != nil || twin == first {
			t.Fatalf("want the first step's error, got %v; twin %s %v", err, twin, twinErr)
		}
		if j := get(t, r, first); j.State != Done || j.Message != "superseded by job "+twin || j.LastError != "database hiccup" {
			t.Fatalf("first job %+v", j)
		}
		if j := get(t, r, twin); j.State != Done {
			t.Fatalf("twin %+v", j)
		}
	})
}

func TestPeriodicKindAndRetention(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		runs := 0
		kinds := []string{"purge"}
		a := newRunner(t, db, "a", c, Options{Retention: time.Hour})
		b := newRunner(t, storetest.Reopen(t, db), "b", c, Options{Retention: time.Hour})
		for _, r := range []*Runner{a, b} {
			r.Register(Kind{Name: "purge", Every: 10 * time.Minute, Step: func(ctx context.Context, l *Lease) (Progress, error) {
				runs++
				return Progress{Finished: true, Message: fmt.Sprint("run ", runs)}, nil
			}})
		}
		// Both servers start: one run is scheduled.
		for _, r := range []*Runner{a, b} {
			if err := r.housekeep(ctx, kinds); err != nil {
				t.Fatal(err)
			}
		}
		if jobs, _ := a.List(ctx, Filter{}); len(jobs) != 1 || jobs[0].State != Pending {
			t.Fatalf("scheduled %+v", jobs)
		}
		if err := a.Drain(ctx, DrainOptions{}); err != nil || runs != 1 {
			t.Fatalf("first run: %d %v", runs, err)
		}
		next, _ := a.List(ctx, Filter{State: Pending})
		if len(next) != 1 || !next[0].RunAt.Equal(c.now().Add(10*time.Minute)) {
			t.Fatalf("next run %+v", next)
		}
		if err := b.housekeep(ctx, kinds); err != nil {
			t.Fatal(err)
		}
		if err := b.Drain(ctx, DrainOptions{}); err != nil || runs != 1 {
			t.Fatalf("ran before its time: %d %v", runs, err)
		}
		c.add(10 * time.Minute)
		if err := b.Drain(ctx, DrainOptions{}); err != nil || runs != 2 {
			t.Fatalf("second run: %d %v", runs, err)
		}
		// Done jobs older than the retention go; the pending one stays.
		c.add(2 * time.Hour)
		if err := a.housekeep(ctx, kinds); err != nil {
			t.Fatal(err)
		}
		if jobs, _ := a.List(ctx, Filter{}); len(jobs) != 1 || jobs[0].State != Pending {
			t.Fatalf("after retention %+v", jobs)
		}
	})
}
