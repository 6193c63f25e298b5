package imports

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Kind is the job kind of imports started through the API.
const Kind = "sales.import"

// Tables of import jobs: one row per import, and its file in chunks.
const (
	TableImports = "crm_sales_imports"
	TableChunks  = "crm_sales_import_chunks"
	// chunkSize is the size of one stored piece of a file.
	chunkSize = 256 << 10
)

// States of an import job.
const (
	// StatePending imports wait for the job runner.
	StatePending = "pending"
	// StateRunning imports have written some of their batches.
	StateRunning = "running"
	// StateDone imports wrote every row they could.
	StateDone = "done"
	// StateFailed imports stopped: the user lost the rights or was
	// deactivated, or the database failed on every attempt.
	StateFailed = "failed"
)

// PurgeKind is the periodic job kind that deletes old imports.
const PurgeKind = "sales.import.purge"

// Retention is how long an import's status stays after it started, once
// no job works on it any more (an import whose job failed for good keeps
// its file until then, for crm jobs retry).
const Retention = 30 * 24 * time.Hour

// purge deletes the imports started more than Retention ago that no job
// works on any more, with their files.
func (q *Queue) purge(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	old := `SELECT "id" FROM ` + TableImports + ` WHERE "created_at" < ? AND "job_id" NOT IN (SELECT "id" FROM ` + jobs.Table + ` WHERE "state" IN (?, ?))`
	cutoff := stamp(q.eng.Now().Add(-Retention))
	if _, err := tx.ExecContext(ctx, q.sql(`DELETE FROM `+TableChunks+` WHERE "import_id" IN (`+old+`)`), cutoff, string(jobs.Pending), string(jobs.Running)); err != nil {
		return jobs.Progress{}, fmt.Errorf("imports: purge files: %w", err)
	}
	res, err := tx.ExecContext(ctx, q.sql(`DELETE FROM `+TableImports+` WHERE "id" IN (`+old+`)`), cutoff, string(jobs.Pending), string(jobs.Running))
	if err != nil {
		return jobs.Progress{}, fmt.Errorf("imports: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: n, Total: n, Finished: true, Message: fmt.Sprintf("%d old imports deleted", n)}, nil
}

// errMoved means another runner wrote the batch a step was writing.
var errMoved = errors.New("imports: the import moved on under another runner")

// Queue runs imports as background jobs. Start stores the file (decoded
// to UTF-8) in the database with the import and queues a job; the job
// runner then writes one batch per step and records where the import is
// in the unit of work of the batch's rows, so an import interrupted by a
// server stopping or dying resumes after the last batch that committed
// and never writes a row twice.
type Queue struct {
	eng   *engine.Engine
	users *access.Service
	db    *store.DB
}

// NewQueue creates the tables of import jobs and registers their kinds
// (the imports, and the daily purge of old ones) with the engine's job
// runner.
func NewQueue(ctx context.Context, eng *engine.Engine, users *access.Service) (*Queue, error) {
	q := &Queue{eng: eng, users: users, db: eng.DB()}
	big, blob := "BIGINT", "BYTEA"
	if q.db.Dialect == metadata.DialectSQLite {
		big, blob = "INTEGER", "BLOB"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + TableImports + ` ("id" TEXT PRIMARY KEY, "object" TEXT NOT NULL, "user_id" TEXT NOT NULL,
			"options" TEXT NOT NULL, "header" TEXT NOT NULL, "state" TEXT NOT NULL, "pos" ` + big + ` NOT NULL, "line" ` + big + ` NOT NULL,
			"done" ` + big + ` NOT NULL, "total" ` + big + ` NOT NULL, "created" ` + big + ` NOT NULL, "updated" ` + big + ` NOT NULL,
			"skipped" ` + big + ` NOT NULL, "errors" TEXT NOT NULL, "message" TEXT NOT NULL, "job_id" TEXT NOT NULL,
			"created_at" TEXT NOT NULL, "finished_at" TEXT)`,
		`CREATE TABLE IF NOT EXISTS ` + TableChunks + ` ("import_id" TEXT NOT NULL, "seq" ` + big + ` NOT NULL, "data" ` + blob + ` NOT NULL,
			PRIMARY KEY ("import_id", "seq"))`,
	} {
		if _, err := q.db.SQL().ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("imports: create tables: %w", err)
		}
	}
	eng.Jobs().Register(jobs.Kind{Name: Kind, Step: q.step})
	eng.Jobs().Register(jobs.Kind{Name: PurgeKind, Step: q.purge, Every: 24 * time.Hour})
	return q, nil
}

// Status is an import job as the API shows it: its progress in records
// of the file (done of total) and what the rows written so far gave.
type Status struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	// State is pending, running, done or failed.
	State  string `json:"state"`
	DryRun bool   `json:"dry_run"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
	Result
	// Message says why a failed import stopped.
	Message    string     `json:"message,omitempty"`
	JobID      string     `json:"job_id"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// stored is an import's row.
type stored struct {
	Status
	userID  string
	options Options
	header  []string
	pos     int64
	line    int64
}

// payload is the input of an import job.
type payload struct {
	Import string `json:"import"`
}

// Start checks that p may import records of opt.Object and maps the
// file's header to fields (refusing the import as Run does), then stores
// the file with the import and queues its job, in one transaction. It
// answers the import's status: pending, with the number of records in
// the file and the problems of the header.
func (q *Queue) Start(ctx context.Context, p *access.Principal, r io.Reader, opt Options) (*Status, error) {
	scope, err := authorize(ctx, q.eng, p, opt)
	if err != nil {
		return nil, err
	}
	if _, err := opt.location(ctx, q.eng); err != nil {
		return nil, err
	}
	st := &stored{userID: p.UserID, options: opt}
	st.ID = uuid.Must(uuid.NewV7()).String()
	st.Object, st.State, st.DryRun, st.CreatedAt = opt.Object, StatePending, opt.DryRun, q.eng.Now().UTC()
	st.Errors = []RowError{}
	tx, err := q.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("imports: begin: %w", err)
	}
	defer tx.Rollback()
	cw := &chunkWriter{ctx: ctx, tx: tx, q: q, id: st.ID, buf: make([]byte, 0, chunkSize)}
	cr := newCSV(io.TeeReader(decode(r), cw))
	if st.header, err = cr.Read(); err != nil {
		if cw.err != nil {
			return nil, cw.err
		}
		return nil, fmt.Errorf("%w: cannot read the header: %v", ErrBadFile, err)
	}
	if _, err := columns(scope, st.header, opt, &st.Result); err != nil {
		return nil, err
	}
	rr := &rowReader{cr: cr, base: 1}
	rr.line(st.header)
	st.pos, st.line = cr.InputOffset(), int64(rr.next)
	for {
		_, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			if cw.err != nil {
				err = cw.err
			}
			return nil, fmt.Errorf("imports: read the file: %w", err)
		}
		st.Total++
	}
	if err := cw.flush(); err != nil {
		return nil, err
	}
	if st.JobID, _, err = q.eng.Jobs().Enqueue(ctx, tx, jobs.Spec{Kind: Kind, Key: st.ID, Payload: payload{Import: st.ID}}); err != nil {
		return nil, fmt.Errorf("imports: queue %s: %w", st.ID, err)
	}
	if err := q.insert(ctx, tx, st); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("imports: commit %s: %w", st.ID, err)
	}
	return &st.Status, nil
}

// Status returns the import id as p, who must have started it (others
// get engine.ErrNotFound). An import whose job used up its attempts is
// failed, with the job's last error.
func (q *Queue) Status(ctx context.Context, p *access.Principal, id string) (*Status, error) {
	st, err := q.load(ctx, q.db.SQL(), id)
	if err == nil && st.userID != p.UserID {
		err = fmt.Errorf("%w: no import %s", engine.ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	if st.State == StatePending || st.State == StateRunning {
		j, err := q.eng.Jobs().Get(ctx, st.JobID)
		if err != nil && !errors.Is(err, jobs.ErrNotFound) {
			return nil, err
		}
		if j != nil && j.State == jobs.Failed {
			st.State, st.Message = StateFailed, j.LastError
		}
	}
	return &st.Status, nil
}

// step writes the next batch of an import, with its progress, in one
// unit of work as the user who started it; the last one marks the
// import done and drops its file.
func (q *Queue) step(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var in payload
	if err := json.Unmarshal(l.Payload, &in); err != nil {
		return jobs.Progress{}, fmt.Errorf("imports: job %s: %w", l.ID, err)
	}
	st, err := q.load(ctx, q.db.SQL(), in.Import)
	if errors.Is(err, engine.ErrNotFound) {
		return jobs.Progress{Finished: true, Message: "the import is gone"}, nil
	}
	if err != nil {
		return jobs.Progress{}, err
	}
	if st.State == StateDone || st.State == StateFailed {
		return st.progress(), nil
	}
	p, scope, cols, err := q.prepare(ctx, st)
	if permanent(err) {
		return q.fail(ctx, l, st, err)
	}
	if err != nil {
		return st.progress(), err
	}
	opt := st.options
	loc, err := opt.location(ctx, q.eng)
	if err != nil {
		return q.fail(ctx, l, st, err)
	}
	rr := &rowReader{cr: newCSV(&chunkReader{ctx: ctx, q: q, id: st.ID, pos: st.pos}), obj: scope.Object(), cols: cols, loc: loc, base: int(st.line), next: int(st.line)}
	read := &Result{Errors: []RowError{}}
	batch, eof, err := rr.read(batchSize(opt), read)
	if err != nil {
		return st.progress(), err
	}
	next := *st
	next.pos += rr.cr.InputOffset()
	next.line = int64(rr.next)
	next.Done += rr.records
	next.State = StateRunning
	if eof {
		next.State = StateDone
		at := q.eng.Now().UTC()
		next.FinishedAt = &at
	}
	record := func(tx store.Querier, got *Result) error {
		sum := merge(read, got)
		return q.advance(ctx, tx, st, &next, sum)
	}
	var written Result
	if len(batch) > 0 && !opt.DryRun {
		err = writeBatch(ctx, q.eng, p, opt, batch, &written, record)
	} else {
		// Nothing to write, or a dry run whose writes were rolled back:
		// the progress goes in the step's own transaction.
		if len(batch) > 0 {
			err = writeBatch(ctx, q.eng, p, opt, batch, &written, nil)
		}
		if err == nil {
			var tx *sql.Tx
			if tx, err = l.Tx(ctx); err == nil {
				err = record(tx, &written)
			}
		}
	}
	if err != nil {
		return st.progress(), err
	}
	return next.progress(), nil
}

// merge returns the sum of two partial results (errors bounded).
func merge(a, b *Result) *Result {
	sum := &Result{Created: a.Created, Updated: a.Updated, Skipped: a.Skipped, Errors: slices.Clone(a.Errors)}
	sum.add(b)
	return sum
}

// prepare checks again, as the step begins, that the user who started the
// import is active and may still import, and maps the header.
func (q *Queue) prepare(ctx context.Context, st *stored) (*access.Principal, *engine.Scope, []column, error) {
	u, err := q.users.GetUser(ctx, st.userID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !u.Active {
		return nil, nil, nil, fmt.Errorf("%w: user %s, who started the import, is no longer active", engine.ErrForbidden, u.Username)
	}
	p := u.Principal()
	scope, err := authorize(ctx, q.eng, p, st.options)
	if err != nil {
		return nil, nil, nil, err
	}
	cols, err := columns(scope, st.header, st.options, &Result{})
	if err != nil {
		return nil, nil, nil, err
	}
	return p, scope, cols, nil
}

// permanent reports whether err stops an import for good: no retry can
// succeed (the user, a right or a field is gone).
func permanent(err error) bool {
	var re *engine.RequestError
	var fe *access.FieldError
	return errors.Is(err, access.ErrUserNotFound) || errors.Is(err, engine.ErrForbidden) || errors.Is(err, engine.ErrNotFound) ||
		errors.As(err, &re) || errors.As(err, &fe)
}

// fail ends an import that cannot go on, saying why, and drops its file.
func (q *Queue) fail(ctx context.Context, l *jobs.Lease, st *stored, cause error) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return st.progress(), err
	}
	st.State, st.Message = StateFailed, cause.Error()
	if _, err := tx.ExecContext(ctx, q.sql(`UPDATE `+TableImports+` SET "state" = ?, "message" = ?, "finished_at" = ? WHERE "id" = ?`),
		st.State, st.Message, stamp(q.eng.Now()), st.ID); err != nil {
		return st.progress(), fmt.Errorf("imports: fail %s: %w", st.ID, err)
	}
	if err := q.dropFile(ctx, tx, st.ID); err != nil {
		return st.progress(), err
	}
	p := st.progress()
	p.Finished = true
	return p, nil
}

// advance records that an import moved from where st was to next, with
// what the rows between gave, provided no other runner moved it first.
// A finished import's file is dropped.
func (q *Queue) advance(ctx context.Context, tx store.Querier, st, next *stored, got *Result) error {
	errs := st.Errors
	for _, e := range got.Errors {
		if len(errs) >= MaxErrors {
			break
		}
		errs = append(errs, e)
	}
	text, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	var finished any
	if next.FinishedAt != nil {
		finished = stamp(*next.FinishedAt)
	}
	res, err := tx.ExecContext(ctx, q.sql(`UPDATE `+TableImports+` SET "state" = ?, "pos" = ?, "line" = ?, "done" = ?, "created" = "created" + ?,
		"updated" = "updated" + ?, "skipped" = "skipped" + ?, "errors" = ?, "finished_at" = ? WHERE "id" = ? AND "pos" = ? AND "state" IN (?, ?)`),
		next.State, next.pos, next.line, next.Done, got.Created, got.Updated, got.Skipped, string(text), finished, st.ID, st.pos, StatePending, StateRunning)
	if err != nil {
		return fmt.Errorf("imports: record progress of %s: %w", st.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: %s (%v)", errMoved, st.ID, err)
	}
	next.Created, next.Updated, next.Skipped, next.Errors = st.Created+got.Created, st.Updated+got.Updated, st.Skipped+got.Skipped, errs
	if next.State == StateDone {
		return q.dropFile(ctx, tx, st.ID)
	}
	return nil
}

// progress is the job progress of an import.
func (st *stored) progress() jobs.Progress {
	return jobs.Progress{Done: st.Done, Total: st.Total, Checkpoint: fmt.Sprint(st.pos), Finished: st.State == StateDone || st.State == StateFailed,
		Message: fmt.Sprintf("import %s: %d created, %d updated, %d skipped", st.Object, st.Created, st.Updated, st.Skipped)}
}

// insert stores a new import.
func (q *Queue) insert(ctx context.Context, tx *sql.Tx, st *stored) error {
	opts, err := json.Marshal(st.options)
	if err != nil {
		return err
	}
	header, err := json.Marshal(st.header)
	if err != nil {
		return err
	}
	errs, err := json.Marshal(st.Errors)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, q.sql(`INSERT INTO `+TableImports+` ("id", "object", "user_id", "options", "header", "state", "pos", "line", "done", "total",
		"created", "updated", "skipped", "errors", "message", "job_id", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 0, 0, ?, '', ?, ?)`),
		st.ID, st.Object, st.userID, string(opts), string(header), st.State, st.pos, st.line, st.Total, string(errs), st.JobID, stamp(st.CreatedAt))
	if err != nil {
		return fmt.Errorf("imports: store %s: %w", st.ID, err)
	}
	return nil
}

// load reads an import (engine.ErrNotFound when there is none).
func (q *Queue) load(ctx context.Context, db store.Querier, id string) (*stored, error) {
	st := &stored{}
	var opts, header, errs, created string
	var finished sql.NullString
	err := db.QueryRowContext(ctx, q.sql(`SELECT "id", "object", "user_id", "options", "header", "state", "pos", "line", "done", "total",
		"created", "updated", "skipped", "errors", "message", "job_id", "created_at", "finished_at" FROM `+TableImports+` WHERE "id" = ?`), id).
		Scan(&st.ID, &st.Object, &st.userID, &opts, &header, &st.State, &st.pos, &st.line, &st.Done, &st.Total,
			&st.Created, &st.Updated, &st.Skipped, &errs, &st.Message, &st.JobID, &created, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no import %s", engine.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("imports: load %s: %w", id, err)
	}
	for _, part := range []struct {
		text string
		into any
	}{{opts, &st.options}, {header, &st.header}, {errs, &st.Errors}} {
		if err := json.Unmarshal([]byte(part.text), part.into); err != nil {
			return nil, fmt.Errorf("imports: load %s: %w", id, err)
		}
	}
	st.DryRun = st.options.DryRun
	if st.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return nil, fmt.Errorf("imports: load %s: %w", id, err)
	}
	if finished.Valid {
		at, err := time.Parse(time.RFC3339Nano, finished.String)
		if err != nil {
			return nil, fmt.Errorf("imports: load %s: %w", id, err)
		}
		st.FinishedAt = &at
	}
	return st, nil
}

// dropFile deletes the stored file of an import.
func (q *Queue) dropFile(ctx context.Context, tx store.Querier, id string) error {
	if _, err := tx.ExecContext(ctx, q.sql(`DELETE FROM `+TableChunks+` WHERE "import_id" = ?`), id); err != nil {
		return fmt.Errorf("imports: drop the file of %s: %w", id, err)
	}
	return nil
}

// sql rebinds a query's placeholders for the database.
func (q *Queue) sql(query string) string { return store.Rebind(q.db.Dialect, query) }

// timeLayout is how times are stored: fixed width, so that text order is
// time order (they are read as RFC 3339).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// stamp writes a time as stored.
func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// chunkWriter stores what is written to it as the chunks of an import's
// file, in tx.
type chunkWriter struct {
	ctx context.Context
	tx  *sql.Tx
	q   *Queue
	id  string
	seq int64
	buf []byte
	err error
}

// Write buffers p and stores every full chunk.
func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && w.err == nil {
		k := min(len(p), chunkSize-len(w.buf))
		w.buf, p = append(w.buf, p[:k]...), p[k:]
		if len(w.buf) == chunkSize {
			w.err = w.flush()
		}
	}
	return n, w.err
}

// flush stores the buffered bytes as the next chunk.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return w.err
	}
	if _, err := w.tx.ExecContext(w.ctx, w.q.sql(`INSERT INTO `+TableChunks+` ("import_id", "seq", "data") VALUES (?, ?, ?)`), w.id, w.seq, w.buf); err != nil {
		return fmt.Errorf("imports: store the file of %s: %w", w.id, err)
	}
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// chunkReader reads an import's stored file from byte pos on, one chunk
// at a time.
type chunkReader struct {
	ctx context.Context
	q   *Queue
	id  string
	pos int64
	buf []byte
	eof bool
}

// Read reads the next bytes of the file.
func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		seq, skip := r.pos/chunkSize, r.pos%chunkSize
		var data []byte
		err := r.q.db.SQL().QueryRowContext(r.ctx, r.q.sql(`SELECT "data" FROM `+TableChunks+` WHERE "import_id" = ? AND "seq" = ?`), r.id, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("imports: read the file of %s: %w", r.id, err)
		}
		if int64(len(data)) <= skip {
			r.eof = true
			continue
		}
		r.buf = data[skip:]
		r.pos += int64(len(r.buf))
		if len(data) < chunkSize {
			r.eof = true // the last chunk
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
