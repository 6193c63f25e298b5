// Package jobs runs background work for every part of the platform: one
// system table (crm_jobs) of leased jobs, a registry of job kinds, and a
// runner that several servers sharing one database run side by side.
//
// A job kind is a name and a step function. The runner leases a due job
// (FOR UPDATE SKIP LOCKED on PostgreSQL; a conditional UPDATE on SQLite,
// which has one writer), calls the step until the job says it is finished,
// and stores the step's progress (done, total, a message and a checkpoint
// the next step resumes from) in the transaction the step does its work
// in, so work and progress commit together and a step of a lease another
// server took over can never commit. A step that fails is retried with
// exponential back-off until the kind's bound on attempts, after which the
// job is failed until someone retries it (crm jobs retry ID). A server
// that dies leaves its lease to expire; another server then takes the job
// over and resumes from its last checkpoint.
//
// Jobs are enqueued inside the caller's transaction, so a job exists if
// and only if the change that needs it committed; a unique key keeps the
// same work from being queued twice while it waits, and a run time
// schedules work for later. A kind with an interval is periodic: the runner
// keeps one run of it scheduled.
//
// The package knows nothing of records, metadata or HTTP: the engine
// registers its kinds (formula recomputation, file purge), and workflows,
// reminders and imports register theirs the same way.
package jobs
