package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Options configure a Runner; zero values take the defaults.
type Options struct {
	// Name identifies the runner in crm jobs (locked_by); by default the
	// host name, process id and a random suffix.
	Name   string
	Logger *slog.Logger
	// Now returns the current time; tests may fix it.
	Now func() time.Time
	// LeaseTimeout is how long a lease holds without a step renewing it;
	// after it, another runner takes the job over (default 1 min).
	LeaseTimeout time.Duration
	// Poll is how often an idle runner looks for due jobs (default 2 s).
	Poll time.Duration
	// Workers is how many jobs the runner works on at once (default 1).
	Workers int
	// Slice is how long a runner keeps working on one job before it puts
	// the job back for its turn to come again (default 10 s).
	Slice time.Duration
	// StopTimeout is how long the current step may go on once the run's
	// context ended (default 10 s); then it is cancelled and the lease
	// released.
	StopTimeout time.Duration
	// Retention is how long done jobs are kept (default 7 days); failed
	// jobs are kept until retried.
	Retention time.Duration
}

// Runner holds the registry of job kinds and runs jobs over one database.
// It is safe for concurrent use.
type Runner struct {
	db    *store.DB
	opt   Options
	log   *slog.Logger
	now   func() time.Time
	mu    sync.RWMutex
	kinds map[string]*Kind
}

// New returns a runner over db; call Migrate once and Register every kind
// before running it.
func New(db *store.DB, opt Options) *Runner {
	if opt.Name == "" {
		host, _ := os.Hostname()
		opt.Name = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), rand.Text()[:6])
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.LeaseTimeout = orDefault(opt.LeaseTimeout, DefaultLeaseTimeout)
	opt.Poll = orDefault(opt.Poll, DefaultPoll)
	opt.Slice = orDefault(opt.Slice, DefaultSlice)
	opt.StopTimeout = orDefault(opt.StopTimeout, DefaultStopTimeout)
	opt.Retention = orDefault(opt.Retention, DefaultRetention)
	opt.Workers = max(opt.Workers, 1)
	return &Runner{db: db, opt: opt, log: opt.Logger, now: func() time.Time { return opt.Now().UTC() }, kinds: map[string]*Kind{}}
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Name returns the runner's name.
func (r *Runner) Name() string { return r.opt.Name }

// Register adds a job kind. It panics on an empty name, a missing step or
// a name registered before, as database/sql.Register does.
func (r *Runner) Register(k Kind) {
	if k.Name == "" || k.Step == nil {
		panic("jobs: a kind needs a name and a step")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Name]; dup {
		panic("jobs: kind registered twice: " + k.Name)
	}
	if k.MaxAttempts <= 0 {
		k.MaxAttempts = DefaultMaxAttempts
	}
	k.Backoff = orDefault(k.Backoff, DefaultBackoff)
	r.kinds[k.Name] = &k
}

// kind returns a registered kind.
func (r *Runner) kind(name string) (*Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds returns the names of the registered kinds, sorted.
func (r *Runner) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Run works on due jobs of the kinds registered so far until ctx ends,
// with Options.Workers jobs at a time, looking for new ones every
// Options.Poll. Once an hour (and at once) it makes sure every periodic
// kind has a run scheduled and deletes done jobs older than
// Options.Retention. When ctx ends, the current steps may finish within
// Options.StopTimeout; their jobs are then put back for another runner,
// and Run returns.
func (r *Runner) Run(ctx context.Context) {
	kinds := r.Kinds()
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Workers; w++ {
		wg.Add(1)
		go func(first bool) {
			defer wg.Done()
			r.loop(ctx, kinds, first)
		}(w == 0)
	}
	wg.Wait()
}

// loop is one worker of Run; the first one also keeps house.
func (r *Runner) loop(ctx context.Context, kinds []string, housekeeper bool) {
	t := time.NewTicker(r.opt.Poll)
	defer t.Stop()
	var lastHousekeeping time.Time
	for ctx.Err() == nil {
		if housekeeper && (lastHousekeeping.IsZero() || r.now().Sub(lastHousekeeping) > time.Hour) {
			lastHousekeeping = r.now()
			if err := r.housekeep(ctx, kinds); err != nil && ctx.Err() == nil {
				r.log.Warn("jobs: housekeeping failed", "err", err)
			}
		}
		ran, err := r.runOne(ctx, kinds, nil)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: cannot lease a job", "runner", r.opt.Name, "err", err)
		}
		if ran {
			continue
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// housekeep schedules a run of every periodic kind that has none and
// deletes old done jobs.
func (r *Runner) housekeep(ctx context.Context, kinds []string) error {
	now := r.now()
	for _, name := range kinds {
		if k, _ := r.kind(name); k.Every > 0 {
			if err := r.schedulePeriodic(ctx, r.db.SQL(), k, now); err != nil {
				return err
			}
		}
	}
	return r.deleteFinished(ctx, now.Add(-r.opt.Retention))
}

// DrainOptions select what Drain runs.
type DrainOptions struct {
	// Kinds limits the kinds run (default: every registered kind).
	Kinds []string
	// Progress, if not nil, is called after every step with the job as
	// stored then.
	Progress func(Job)
}

// Drain runs due jobs in this process until none is left (a job leased
// by another live runner is left to it), and returns the errors of the
// steps that failed, joined. A due job it cannot lease for drainPatience
// (its row held locked by a transaction that does not end) is left to
// the runners' next poll. crm recompute and crm migrate use it to run
// work in the foreground.
func (r *Runner) Drain(ctx context.Context, opt DrainOptions) error {
	kinds := r.Kinds()
	if len(opt.Kinds) > 0 {
		kinds = slices.DeleteFunc(slices.Clone(opt.Kinds), func(k string) bool { _, ok := r.kind(k); return !ok })
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			giveUp := time.Now().Add(drainPatience)
			for ctx.Err() == nil {
				ran, err := r.runOne(ctx, kinds, &drain{progress: opt.Progress, fail: fail})
				if err != nil {
					fail(err)
					return
				}
				if ran {
					giveUp = time.Now().Add(drainPatience)
					continue
				}
				// Nothing leased: done, unless a due job was missed (dueLeft);
				// then try again shortly, for a while.
				left, err := r.dueLeft(ctx, kinds)
				if err != nil {
					fail(err)
					return
				}
				if !left || time.Now().After(giveUp) {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(drainRetry):
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// drainRetry is how long a worker of Drain waits before it tries again to
// lease a due job it could not (dueLeft), and drainPatience how long it
// keeps trying without leasing any.
const (
	drainRetry    = 10 * time.Millisecond
	drainPatience = 10 * time.Second
)

// drain collects what Drain reports.
type drain struct {
	progress func(Job)
	fail     func(error)
}

// Lease is a job leased by a runner, as its step sees it.
type Lease struct {
	Job
	r     *Runner
	k     *Kind
	token string
	tx    *sql.Tx
}

// Tx returns the transaction of the current step, beginning it on the
// first call: it renews the lease and locks the job's row, so no other
// runner can take the job over before it commits; the runner records the
// step's progress in it and commits it. ErrLeaseLost means another runner
// took the job over: stop.
func (l *Lease) Tx(ctx context.Context) (*sql.Tx, error) {
	if l.tx != nil {
		return l.tx, nil
	}
	tx, err := l.r.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: begin step of %s: %w", l.ID, err)
	}
	now := l.r.now()
	res, err := tx.ExecContext(ctx, l.r.sql(`UPDATE `+Table+` SET lease_until = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND state = 'running'`),
		l.r.ts(now.Add(l.r.opt.LeaseTimeout)), l.r.ts(now), l.ID, l.token)
	if err == nil {
		err = lost(res)
	}
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("jobs: job %s: %w", l.ID, err)
	}
	l.tx = tx
	return tx, nil
}

// lost returns ErrLeaseLost when an update guarded by the lease token
// changed no row.
func lost(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// rollback ends the step's transaction without its work.
func (l *Lease) rollback() {
	if l.tx != nil {
		l.tx.Rollback()
		l.tx = nil
	}
}

// due returns the condition a job of kinds meets when it is due at now
// (pending and scheduled by then, or running under a lease that
// expired), and its arguments.
func (r *Runner) due(kinds []string, now time.Time) (string, []any) {
	args := make([]any, 0, len(kinds)+2)
	for _, k := range kinds {
		args = append(args, k)
	}
	cond := `kind IN (` + store.Marks(len(kinds)) + `)
			AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_until < ?))`
	return cond, append(args, r.ts(now), r.ts(now))
}

// lease takes the next due job of kinds (pending and due, or running
// with an expired lease) and counts an attempt; nil when there is none
// it can take. On PostgreSQL nil does not mean that none is due: the
// lease skips jobs whose rows other transactions hold locked (dueLeft).
func (r *Runner) lease(ctx context.Context, kinds []string) (*Lease, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	now := r.now()
	token := uuid.NewString()
	skip := ""
	if r.db.Dialect == metadata.DialectPostgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	cond, dueArgs := r.due(kinds, now)
	q := `UPDATE ` + Table + ` SET state = 'running', attempts = attempts + 1, locked_by = ?, lease_token = ?, lease_until = ?, updated_at = ?
		WHERE id = (SELECT id FROM ` + Table + ` WHERE ` + cond + `
			ORDER BY run_at, id LIMIT 1` + skip + `)
		RETURNING ` + columns
	args := append([]any{r.opt.Name, token, r.ts(now.Add(r.opt.LeaseTimeout)), r.ts(now)}, dueArgs...)
	j, err := scanJob(r.db.SQL().QueryRowContext(ctx, r.sql(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: lease: %w", err)
	}
	k, _ := r.kind(j.Kind)
	return &Lease{Job: j, r: r, k: k, token: token}, nil
}

// dueLeft reports whether a job of kinds is due now, reading the queue
// without locking it. A lease that found nothing may have missed one: on
// PostgreSQL it skips the rows other transactions hold locked, and a
// lease that read the queue before it changed (a statement held up under
// load) keeps every row it passed over locked until it ends, so the
// leases running beside it find nothing at all; and its clock, read before
// its statement ran, may find a job released meanwhile not yet due.
func (r *Runner) dueLeft(ctx context.Context, kinds []string) (bool, error) {
	if len(kinds) == 0 {
		return false, nil
	}
	cond, args := r.due(kinds, r.now())
	err := r.db.SQL().QueryRowContext(ctx, r.sql(`SELECT 1 FROM `+Table+` WHERE `+cond+` LIMIT 1`), args...).Scan(new(int))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("jobs: look for due jobs: %w", err)
	}
	return true, nil
}

// runOne leases one due job and works on it; it reports whether there
// was one.
func (r *Runner) runOne(ctx context.Context, kinds []string, d *drain) (bool, error) {
	l, err := r.lease(ctx, kinds)
	if err != nil || l == nil {
		return false, err
	}
	if l.Attempts > 1 {
		r.log.Info("jobs: resuming", "job", l.ID, "kind", l.Kind, "attempt", l.Attempts, "done", l.Done, "total", l.Total)
	}
	r.work(ctx, l, d)
	return true, nil
}

// work runs the steps of a leased job until it finishes, fails, its turn
// ends or ctx ends.
func (r *Runner) work(ctx context.Context, l *Lease, d *drain) {
	turnEnds := r.now().Add(r.opt.Slice)
	for {
		sctx, cancel := graceful(ctx, r.opt.StopTimeout)
		p, err := r.step(sctx, l)
		if err == nil {
			err = r.commit(sctx, l, p)
		}
		interrupted := sctx.Err() != nil
		cancel()
		switch {
		case errors.Is(err, ErrLeaseLost):
			l.rollback()
			r.log.Warn("jobs: lease lost; another runner took the job over", "job", l.ID, "kind", l.Kind)
			return
		case err != nil && interrupted:
			l.rollback()
			r.release(ctx, l)
			return
		case err != nil:
			l.rollback()
			r.fail(ctx, l, err)
			if d != nil && d.fail != nil {
				d.fail(fmt.Errorf("job %s (%s): %w", l.ID, l.Kind, err))
			}
			return
		}
		if d != nil && d.progress != nil {
			d.progress(l.Job)
		}
		if p.Finished {
			r.log.Info("jobs: done", "job", l.ID, "kind", l.Kind, "message", l.Message, "done", l.Done, "total", l.Total)
			return
		}
		if ctx.Err() != nil || r.now().After(turnEnds) {
			r.release(ctx, l)
			return
		}
	}
}

// graceful returns a context that ends stop after ctx ends, so a step
// under way when the server stops may finish.
func graceful(ctx context.Context, stop time.Duration) (context.Context, context.CancelFunc) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	after := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(stop, cancel)
		context.AfterFunc(sctx, func() { t.Stop() })
	})
	return sctx, func() {
		after()
		cancel()
	}
}

// step calls the kind's step function, turning a panic into an error.
func (r *Runner) step(ctx context.Context, l *Lease) (p Progress, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("jobs: step of %s panicked: %v", l.Kind, v)
		}
	}()
	if l.k == nil {
		return p, fmt.Errorf("%w: %q", ErrUnknownKind, l.Kind)
	}
	return l.k.Step(ctx, l)
}

// commit records a step's progress in its transaction and commits: the
// job stays running under the lease (renewed), or is done.
func (r *Runner) commit(ctx context.Context, l *Lease, p Progress) error {
	tx, err := l.Tx(ctx)
	if err != nil {
		return err
	}
	now := r.now()
	state, until, by, token := Running, r.ts(now.Add(r.opt.LeaseTimeout)), r.opt.Name, l.token
	if p.Finished {
		state, until, by, token = Done, nil, "", ""
	}
	res, err := tx.ExecContext(ctx, r.sql(`UPDATE `+Table+` SET state = ?, done = ?, total = ?, message = ?, checkpoint = ?, lease_until = ?, locked_by = ?, lease_token = ?, updated_at = ?
		WHERE id = ? AND lease_token = ?`), string(state), p.Done, p.Total, p.Message, p.Checkpoint, until, by, token, r.ts(now), l.ID, l.token)
	if err == nil {
		err = lost(res)
	}
	if err != nil {
		return fmt.Errorf("jobs: progress of %s: %w", l.ID, err)
	}
	if p.Finished && l.k.Every > 0 {
		if err := r.schedulePeriodic(ctx, tx, l.k, now.Add(l.k.Every)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: commit step of %s: %w", l.ID, err)
	}
	l.tx = nil
	l.State, l.Done, l.Total, l.Message, l.Checkpoint, l.UpdatedAt = state, p.Done, p.Total, p.Message, p.Checkpoint, now
	return nil
}

// release puts a job whose work was interrupted on purpose back in the
// queue, due now, giving its attempt back.
func (r *Runner) release(ctx context.Context, l *Lease) {
	r.requeue(ctx, l, "", r.now(), false)
}

// fail records a failed attempt: the job is retried after a back-off, or
// is failed once its attempts reach the kind's bound.
func (r *Runner) fail(ctx context.Context, l *Lease, cause error) {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	if l.Attempts >= l.MaxAttempts {
		r.log.Error("jobs: failed for good", "job", l.ID, "kind", l.Kind, "attempts", l.Attempts, "err", cause)
		r.requeue(ctx, l, msg, time.Time{}, true)
		return
	}
	next := r.now().Add(l.k.backoff(l.Attempts))
	r.log.Warn("jobs: step failed; will retry", "job", l.ID, "kind", l.Kind, "attempt", l.Attempts, "of", l.MaxAttempts, "retry_at", next, "err", cause)
	r.requeue(ctx, l, msg, next, true)
}

// endLeaseTimeout bounds the write that ends a lease, even when the
// server is stopping.
const endLeaseTimeout = 10 * time.Second

// requeue ends a lease: the job goes back to pending at runAt (failed
// when runAt is zero). errMsg is the failure, "" for a release, which
// gives the attempt back. A job that would go back to pending while a
// newer pending job of the same kind and key waits is superseded by it
// (done). A periodic job that failed for good gets its next run
// scheduled.
func (r *Runner) requeue(ctx context.Context, l *Lease, errMsg string, runAt time.Time, failed bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endLeaseTimeout)
	defer cancel()
	err := func() error {
		tx, err := r.db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		now := r.now()
		state, message, giveBack := Pending, l.Message, 0
		if !failed {
			giveBack = 1
		}
		if runAt.IsZero() {
			state = Failed
		} else if twin, err := r.pendingTwin(ctx, tx, &l.Job); err != nil {
			return err
		} else if twin != "" {
			state, message = Done, "superseded by job "+twin
		}
		if errMsg == "" {
			errMsg = l.LastError
		}
		res, err := tx.ExecContext(ctx, r.sql(`UPDATE `+Table+` SET state = ?, run_at = ?, attempts = attempts - ?, last_error = ?, message = ?,
			locked_by = '', lease_token = '', lease_until = NULL, updated_at = ? WHERE id = ? AND lease_token = ?`),
			string(state), r.ts(orTime(runAt, l.RunAt)), giveBack, errMsg, message, r.ts(now), l.ID, l.token)
		if err == nil {
			err = lost(res)
		}
		if err != nil {
			return err
		}
		if state == Failed && l.k != nil && l.k.Every > 0 {
			if err := r.schedulePeriodic(ctx, tx, l.k, now.Add(l.k.Every)); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		// The lease expires and another runner takes the job over.
		r.log.Warn("jobs: cannot end the lease; it will expire", "job", l.ID, "kind", l.Kind, "err", err)
	}
}

// orTime returns t, or def when t is zero.
func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
