package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	// Pending jobs wait for their run time (a new job, or a retry after a
	// failed step).
	Pending State = "pending"
	// Running jobs are leased by a runner until their lease expires.
	Running State = "running"
	// Done jobs finished (or were superseded by a newer pending job of the
	// same kind and key).
	Done State = "done"
	// Failed jobs used up their attempts; crm jobs retry ID queues them
	// again.
	Failed State = "failed"
)

// Sentinel errors of the package.
var (
	// ErrUnknownKind is returned when enqueuing a kind nobody registered.
	ErrUnknownKind = errors.New("jobs: unknown job kind")
	// ErrNotFound is returned for a job id that does not exist.
	ErrNotFound = errors.New("jobs: no such job")
	// ErrNotFailed is returned when retrying a job that has not failed.
	ErrNotFailed = errors.New("jobs: the job has not failed")
	// ErrConflict is returned when retrying a job while a pending job of
	// the same kind and key already waits.
	ErrConflict = errors.New("jobs: a pending job of the same kind and key exists")
	// ErrLeaseLost is returned by Lease.Tx when the lease expired and
	// another runner took the job over: the step must stop.
	ErrLeaseLost = errors.New("jobs: lease lost")
)

// Job is one unit of background work as stored in crm_jobs.
type Job struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Key, when set, keeps a second job of the same kind and key from being
	// queued while this one is pending.
	Key string `json:"key,omitempty"`
	// Payload is the job's input, as JSON.
	Payload json.RawMessage `json:"payload,omitempty"`
	State   State           `json:"state"`
	// Attempts counts the runs of the job that failed or whose runner
	// died; a run interrupted on purpose (a server stopping, another job's
	// turn) gives its attempt back.
	Attempts    int `json:"attempts"`
	MaxAttempts int `json:"max_attempts"`
	// RunAt is when the job is due: its scheduled time, or the time of its
	// next retry.
	RunAt time.Time `json:"run_at"`
	// Done and Total are the job's progress (Total is -1 while unknown);
	// Message says what it is doing.
	Done    int64  `json:"done"`
	Total   int64  `json:"total"`
	Message string `json:"message,omitempty"`
	// Checkpoint is where the next step resumes (the last id handled, say).
	Checkpoint string `json:"checkpoint,omitempty"`
	// LastError is the error of the last failed step.
	LastError string `json:"last_error,omitempty"`
	// LockedBy names the runner holding the lease, until LeaseUntil.
	LockedBy   string    `json:"locked_by,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Spec describes a job to enqueue.
type Spec struct {
	Kind string
	// Key, when not empty, makes Enqueue add nothing while a pending job of
	// the same kind has the same key (a job already running does not
	// count: the new one runs after it).
	Key string
	// Payload is the job's input, marshalled to JSON (a json.RawMessage is
	// stored as it is); nil stores {}.
	Payload any
	// RunAt schedules the job for later; zero means now.
	RunAt time.Time
}

// Progress is what a step reports; it replaces the job's stored progress.
type Progress struct {
	Done  int64
	Total int64
	// Message says what the job is doing, for crm jobs and the logs.
	Message string
	// Checkpoint is where the next step resumes.
	Checkpoint string
	// Finished ends the job (done).
	Finished bool
}

// StepFunc does one bounded piece of a leased job's work and returns its
// progress. It should do its database work in l.Tx(ctx), which also
// records the progress, so both commit together; slow calls to the outside
// world (a webhook, a mail server) belong before the first l.Tx call,
// because on SQLite the transaction holds the one write lock. A returned
// error fails the attempt: the step's transaction is rolled back and the
// job retried after a back-off.
type StepFunc func(ctx context.Context, l *Lease) (Progress, error)

// Kind is a registered kind of job.
type Kind struct {
	// Name identifies the kind, such as "formulas.recompute".
	Name string
	Step StepFunc
	// MaxAttempts bounds the attempts before the job is failed (default 5).
	MaxAttempts int
	// Backoff is the delay before the first retry, doubled for each
	// further attempt up to MaxBackoff (default 10 s).
	Backoff time.Duration
	// Every, when above zero, makes the kind periodic: the runner keeps one
	// job of it scheduled, the next one Every after the last one ended.
	Every time.Duration
}

// Defaults of a Kind and of Options.
const (
	DefaultMaxAttempts  = 5
	DefaultBackoff      = 10 * time.Second
	MaxBackoff          = time.Hour
	DefaultLeaseTimeout = time.Minute
	DefaultPoll         = 2 * time.Second
	DefaultSlice        = 10 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	DefaultRetention    = 7 * 24 * time.Hour
)

// backoff is the delay before the retry that follows the given number of
// failed attempts.
func (k *Kind) backoff(attempts int) time.Duration {
	d := k.Backoff
	for i := 1; i < attempts && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
