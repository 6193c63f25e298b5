package workflows

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/crmplatform/crm/workflows/internal/people"
	"github.com/google/uuid"
)

// Names of the approval actions besides submit and approve.
const (
	// ActionReject rejects a pending request; it needs the approve right.
	ActionReject = "reject"
	// ActionRecall withdraws a pending request; it needs the submit right.
	ActionRecall = "recall"
)

// States of an approval request.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateRejected = "rejected"
	StateRecalled = "recalled"
	// StateReopened is an approved request whose record changed what its
	// process's reopen_on names: approved no more.
	StateReopened = "reopened"
)

// Decisions in an approval's history (and states of an approver's task:
// pending, approved, rejected, reassigned, cancelled).
const (
	DecisionSubmitted  = "submitted"
	DecisionApproved   = "approved"
	DecisionRejected   = "rejected"
	DecisionSkipped    = "skipped"
	DecisionRecalled   = "recalled"
	DecisionReassigned = "reassigned"
	DecisionReopened   = "reopened"
	taskPending        = "pending"
	taskCancelled      = "cancelled"
)

// Names of the domain events approvals publish (w.Publish): Data holds
// request_id, process, step (the step's name, when there is one), comment.
const (
	EventSubmitted = "approval.submitted"
	EventApproved  = "approval.approved"
	EventRejected  = "approval.rejected"
	EventRecalled  = "approval.recalled"
	EventReopened  = "approval.reopened"
)

// request is a row of crm_approval_requests.
type request struct {
	ID, Object, RecordID, Process string
	// Definition is the process document the request runs under, as it
	// was when the record was submitted.
	Definition      map[string]any
	MetadataVersion int64
	State           string
	Step            int
	SubmittedBy     string
	SubmittedAt     time.Time
	StepSince       time.Time
	DecidedAt       time.Time
	Version         int64
}

// requestColumns are the columns scanRequest reads, in order.
const requestColumns = `id, object, record_id, process, definition, metadata_version, state, step, submitted_by, submitted_at, step_since, decided_at, version`

// scanRequest reads a request row.
func scanRequest(row interface{ Scan(...any) error }) (*request, error) {
	var r request
	var def string
	var sa, ss, da any
	if err := row.Scan(&r.ID, &r.Object, &r.RecordID, &r.Process, &def, &r.MetadataVersion, &r.State, &r.Step, &r.SubmittedBy, &sa, &ss, &da, &r.Version); err != nil {
		return nil, err
	}
	r.SubmittedAt, r.StepSince, r.DecidedAt = store.ScanTime(sa), store.ScanTime(ss), store.ScanTime(da)
	d := json.NewDecoder(strings.NewReader(def))
	d.UseNumber()
	if err := d.Decode(&r.Definition); err != nil {
		return nil, fmt.Errorf("workflows: definition of approval request %s: %w", r.ID, err)
	}
	return &r, nil
}

// pendingRequest returns the pending request of a record, locked for the
// unit of work, or nil.
func (wf *Workflows) pendingRequest(ctx context.Context, q store.Querier, object, id string) (*request, error) {
	row := q.QueryRowContext(ctx, wf.t.SQL(`SELECT `+requestColumns+` FROM `+tableRequests+` WHERE object = ? AND record_id = ? AND state = 'pending'`+wf.t.ForUpdate()), object, id)
	r, err := scanRequest(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workflows: pending approval of %s %s: %w", object, id, err)
	}
	return r, nil
}

// pendingAction reads the body of an action on a pending request (the
// keys named) and returns the request, locked for the unit of work; none
// pending is a conflict.
func (wf *Workflows) pendingAction(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any, keys ...string) (*request, map[string]string, error) {
	args, err := actionInput(in, keys...)
	if err != nil {
		return nil, nil, err
	}
	r, err := wf.pendingRequest(ctx, w.SQL(), t.Object.Name, t.ID)
	if err == nil && r == nil {
		err = fmt.Errorf("%w: no approval of this %s is pending", engine.ErrConflict, t.Object.Name)
	}
	return r, args, err
}

// saveRequest writes a request's state and step, guarded by its version:
// a request changed meanwhile is a conflict.
func (wf *Workflows) saveRequest(ctx context.Context, w *engine.Writer, r *request) error {
	var decided any
	if !r.DecidedAt.IsZero() {
		decided = r.DecidedAt
	}
	res, err := w.SQL().ExecContext(ctx, wf.t.SQL(`UPDATE `+tableRequests+` SET state = ?, step = ?, step_since = ?, decided_at = ?, version = version + 1 WHERE id = ? AND version = ?`),
		wf.t.Args(r.State, r.Step, r.StepSince, decided, r.ID, r.Version)...)
	if err != nil {
		return fmt.Errorf("workflows: save approval request %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: the approval request was decided by someone else meanwhile; reload", engine.ErrConflict)
	}
	r.Version++
	return nil
}

// addEvent appends to a request's history; actor "" is the system.
func (wf *Workflows) addEvent(ctx context.Context, w *engine.Writer, r *request, step int, actor, decision, comment string) error {
	_, err := w.SQL().ExecContext(ctx, wf.t.SQL(`INSERT INTO `+tableEvents+` (id, request_id, step, actor, decision, comment, at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		wf.t.Args(uuid.Must(uuid.NewV7()).String(), r.ID, step, actor, decision, comment, wf.t.Now())...)
	if err != nil {
		return fmt.Errorf("workflows: history of approval request %s: %w", r.ID, err)
	}
	return nil
}

// process compiles the document a request runs under against today's
// metadata.
func (wf *Workflows) process(w *engine.Writer, r *request) (*definition.Process, error) {
	p, ps := definition.ProcessFrom(w.Snapshot().Schema, r.Definition)
	if len(ps) > 0 {
		return nil, fmt.Errorf("%w: approval process %s, as this request was submitted under it, no longer fits the metadata: %v", engine.ErrConflict, r.Process, ps)
	}
	return p, nil
}

// registerApprovals adds the approval actions and the record lock.
func (wf *Workflows) registerApprovals() {
	wf.eng.RegisterAction(engine.Action{Name: metadata.ActionSubmit, Run: wf.submit})
	wf.eng.RegisterAction(engine.Action{Name: metadata.ActionApprove, Run: func(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
		return wf.decide(ctx, w, t, in, true)
	}})
	wf.eng.RegisterAction(engine.Action{Name: ActionReject, Right: metadata.ActionApprove, Run: func(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
		return wf.decide(ctx, w, t, in, false)
	}})
	wf.eng.RegisterAction(engine.Action{Name: ActionRecall, Right: metadata.ActionSubmit, Run: wf.recall})
	wf.eng.RegisterAction(engine.Action{Name: definition.ActionReassign, Run: wf.reassign})
	wf.eng.OnBefore(engine.OpUpdate, "*", wf.checkLock)
	wf.eng.OnBefore(engine.OpDelete, "*", wf.checkLock)
	wf.eng.OnBefore(engine.OpDelete, "*", wf.checkReferrers)
	for _, op := range []engine.Op{engine.OpCreate, engine.OpUpdate, engine.OpDelete} {
		wf.eng.OnBefore(op, "*", wf.checkMaster)
		wf.eng.OnAfter(op, "*", wf.reopen)
	}
}

// submit answers POST …/actions/submit {"comment", "process"}: the record
// enters the named process, or the first of its object's processes whose
// entry criteria it meets.
func (wf *Workflows) submit(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
	args, err := actionInput(in, "comment", "process")
	if err != nil {
		return nil, err
	}
	object := t.Object.Name
	procs := definition.CompiledApprovals(w.Snapshot()).Of(object)
	if len(procs) == 0 {
		return nil, fmt.Errorf("%w: %s has no approval process", engine.ErrNotFound, object)
	}
	cur, err := wf.pendingRequest(ctx, w.SQL(), object, t.ID)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("%w: this %s already waits for approval %s, submitted at %s", engine.ErrConflict, object, cur.Process, cur.SubmittedAt.Format(time.RFC3339))
	}
	rec, err := w.AsSystem().Load(ctx, object, t.ID)
	if err != nil {
		return nil, err
	}
	proc, err := wf.choose(ctx, w, procs, args["process"], object, rec)
	if err != nil {
		return nil, err
	}
	doc, _ := w.Snapshot().Schema.Document(definition.Approvals.Kind().Name(), proc.Name)
	def, err := json.Marshal(doc.Raw)
	if err != nil {
		return nil, fmt.Errorf("workflows: keep approval process %s: %w", proc.Name, err)
	}
	now := wf.t.Now()
	r := &request{ID: uuid.Must(uuid.NewV7()).String(), Object: object, RecordID: t.ID, Process: proc.Name, Definition: doc.Raw,
		MetadataVersion: w.Snapshot().Version, State: StatePending, SubmittedBy: w.Principal().UserID, SubmittedAt: now, StepSince: now, Version: 1}
	_, err = w.SQL().ExecContext(ctx, wf.t.SQL(`INSERT INTO `+tableRequests+` (`+requestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		wf.t.Args(r.ID, r.Object, r.RecordID, r.Process, string(def), r.MetadataVersion, r.State, r.Step, r.SubmittedBy, r.SubmittedAt, r.StepSince, nil, r.Version)...)
	if store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("%w: this %s was submitted for approval by someone else meanwhile", engine.ErrConflict, object)
	}
	if err != nil {
		return nil, fmt.Errorf("workflows: submit %s %s: %w", object, t.ID, err)
	}
	if err := wf.addEvent(ctx, w, r, -1, r.SubmittedBy, DecisionSubmitted, args["comment"]); err != nil {
		return nil, err
	}
	if err := applyUpdates(ctx, w, object, t.ID, proc.OnSubmit); err != nil {
		return nil, err
	}
	if err := wf.publish(ctx, w, EventSubmitted, r, proc, args["comment"]); err != nil {
		return nil, err
	}
	if err := wf.advance(ctx, w, r, proc, 0); err != nil {
		return nil, err
	}
	return wf.view(ctx, w.SQL(), r, false)
}

// choose picks the process a submission enters: the one named, or the
// first whose entry criteria the record meets. A record outside the
// criteria is a 422 saying why.
func (wf *Workflows) choose(ctx context.Context, w *engine.Writer, procs []*definition.Process, name, object string, rec map[string]any) (*definition.Process, error) {
	var reasons []string
	for _, p := range procs {
		if name != "" && p.Name != name {
			continue
		}
		ok := true
		if p.Entry != nil {
			v, err := w.Eval(ctx, p.Entry, rec)
			if err != nil {
				return nil, fmt.Errorf("workflows: entry criteria of %s: %w", p.Name, err)
			}
			ok = v == true
		}
		if ok {
			return p, nil
		}
		msg := p.EntryMessage.Get(engine.Language(ctx))
		if msg == "" {
			msg = fmt.Sprintf("this %s does not meet the entry criteria of approval process %s: %s", object, p.Name, p.EntryCriteria)
		}
		reasons = append(reasons, msg)
	}
	if len(reasons) == 0 {
		return nil, &engine.RequestError{Message: fmt.Sprintf("%s has no approval process %q", object, name),
			Details: []engine.FieldError{{Field: "process", Code: "unknown", Message: "no such approval process for " + object}}}
	}
	return nil, &engine.ValidationError{Object: object, Errors: []engine.FieldError{{Code: "entry_criteria", Message: strings.Join(reasons, "; ")}}}
}

// advance starts the first step from step on whose skip_if does not hold:
// its approvers get a pending task. With no step left, the request is
// approved.
func (wf *Workflows) advance(ctx context.Context, w *engine.Writer, r *request, proc *definition.Process, step int) error {
	for i := step; i < len(proc.Steps); i++ {
		st := proc.Steps[i]
		rec, err := w.AsSystem().Load(ctx, r.Object, r.RecordID)
		if err != nil {
			return err
		}
		if st.Skip != nil {
			v, err := w.Eval(ctx, st.Skip, rec)
			if err != nil {
				return fmt.Errorf("workflows: skip_if of step %s of %s: %w", st.Name, proc.Name, err)
			}
			if v == true {
				if err := wf.addEvent(ctx, w, r, i, "", DecisionSkipped, "skip_if: "+st.SkipIf); err != nil {
					return err
				}
				continue
			}
		}
		users, notes, err := people.Resolve(ctx, w, wf.acc, st.Approvers, people.Context{Object: r.Object, Record: rec, Base: r.SubmittedBy, Submitter: r.SubmittedBy})
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return &engine.ValidationError{Object: r.Object, Errors: []engine.FieldError{{Code: "no_approver",
				Message: fmt.Sprintf("step %s of approval process %s has no approver: %s", st.Name, proc.Name, strings.Join(notes, "; "))}}}
		}
		for _, u := range users {
			if err := wf.addTask(ctx, w, r.ID, i, u.ID); err != nil {
				return err
			}
		}
		r.Step, r.StepSince = i, wf.t.Now()
		return wf.saveRequest(ctx, w, r)
	}
	r.Step = len(proc.Steps)
	return wf.finish(ctx, w, r, proc, StateApproved, "")
}

// addTask gives a user a pending decision on a step.
func (wf *Workflows) addTask(ctx context.Context, w *engine.Writer, requestID string, step int, userID string) error {
	_, err := w.SQL().ExecContext(ctx, wf.t.SQL(`INSERT INTO `+tableTasks+` (request_id, step, user_id, state) VALUES (?, ?, ?, ?)`), requestID, step, userID, taskPending)
	if err != nil {
		return fmt.Errorf("workflows: approver of request %s: %w", requestID, err)
	}
	return nil
}

// finish ends a request (approved, rejected or recalled): open tasks are
// cancelled, the process's final field updates applied and the event
// published.
func (wf *Workflows) finish(ctx context.Context, w *engine.Writer, r *request, proc *definition.Process, state, comment string) error {
	r.State, r.DecidedAt = state, wf.t.Now()
	if err := wf.saveRequest(ctx, w, r); err != nil {
		return err
	}
	if _, err := w.SQL().ExecContext(ctx, wf.t.SQL(`UPDATE `+tableTasks+` SET state = ? WHERE request_id = ? AND state = ?`), taskCancelled, r.ID, taskPending); err != nil {
		return fmt.Errorf("workflows: close approval request %s: %w", r.ID, err)
	}
	updates, event := proc.OnApproved, EventApproved
	switch state {
	case StateRejected:
		updates, event = proc.OnRejected, EventRejected
	case StateRecalled:
		updates, event = proc.OnRecalled, EventRecalled
	}
	if err := applyUpdates(ctx, w, r.Object, r.RecordID, updates); err != nil {
		return err
	}
	return wf.publish(ctx, w, event, r, proc, comment)
}

// decidedOn refuses a decision taken on a version of the record other
// than the one it is at (version, when the approver sends the one they
// read: the record's current approvers may still change fields of it
// while it waits), with 409 as an update of a stale copy is.
func decidedOn(ctx context.Context, w *engine.Writer, t engine.Target, version string) error {
	if version == "" {
		return nil
	}
	rec, err := w.AsSystem().Load(ctx, t.Object.Name, t.ID)
	if err != nil {
		return err
	}
	if now := fmt.Sprint(rec["version"]); now != version {
		return fmt.Errorf("%w: this %s changed since you read it: you decided on version %s, it is at version %s; read it again and decide", engine.ErrConflict, t.Object.Name, version, now)
	}
	return nil
}

// publish publishes a domain event of a request.
func (wf *Workflows) publish(ctx context.Context, w *engine.Writer, name string, r *request, proc *definition.Process, comment string) error {
	data := map[string]any{"request_id": r.ID, "process": r.Process, "comment": comment}
	if r.Step < len(proc.Steps) {
		data["step"] = proc.Steps[r.Step].Name
	}
	return w.Publish(ctx, engine.DomainEvent{Name: name, Object: r.Object, RecordID: r.RecordID, Data: data})
}

// decide answers POST …/actions/approve and …/reject {"comment"}: only a
// current approver decides, once. The request's row is locked for the
// unit of work and the approver's pending task is changed only while it
// is pending, so a decision sent twice (to one server or two at once) is
// made once: the other gets 409.
func (wf *Workflows) decide(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any, approve bool) (any, error) {
	r, args, err := wf.pendingAction(ctx, w, t, in, "comment", "version")
	if err != nil {
		return nil, err
	}
	if err := decidedOn(ctx, w, t, args["version"]); err != nil {
		return nil, err
	}
	proc, err := wf.process(w, r)
	if err != nil {
		return nil, err
	}
	st := proc.Steps[r.Step]
	decision := DecisionRejected
	if approve {
		decision = DecisionApproved
	}
	me := w.Principal().UserID
	res, err := w.SQL().ExecContext(ctx, wf.t.SQL(`UPDATE `+tableTasks+` SET state = ?, decided_at = ? WHERE request_id = ? AND step = ? AND user_id = ? AND state = ?`),
		wf.t.Args(decision, wf.t.Now(), r.ID, r.Step, me, taskPending)...)
	if err != nil {
		return nil, fmt.Errorf("workflows: decide approval request %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, wf.notApprover(ctx, w, r, st)
	}
	if err := wf.addEvent(ctx, w, r, r.Step, me, decision, args["comment"]); err != nil {
		return nil, err
	}
	if !approve {
		if err := applyUpdates(ctx, w, r.Object, r.RecordID, st.OnReject); err != nil {
			return nil, err
		}
		if err := wf.finish(ctx, w, r, proc, StateRejected, args["comment"]); err != nil {
			return nil, err
		}
		return wf.view(ctx, w.SQL(), r, false)
	}
	if st.RuleOf() == definition.RuleAll {
		var left int
		if err := w.SQL().QueryRowContext(ctx, wf.t.SQL(`SELECT COUNT(*) FROM `+tableTasks+` WHERE request_id = ? AND step = ? AND state = ?`), r.ID, r.Step, taskPending).Scan(&left); err != nil {
			return nil, fmt.Errorf("workflows: approvers of request %s: %w", r.ID, err)
		}
		if left > 0 {
			return wf.view(ctx, w.SQL(), r, false)
		}
	}
	if _, err := w.SQL().ExecContext(ctx, wf.t.SQL(`UPDATE `+tableTasks+` SET state = ? WHERE request_id = ? AND step = ? AND state = ?`), taskCancelled, r.ID, r.Step, taskPending); err != nil {
		return nil, fmt.Errorf("workflows: close step of request %s: %w", r.ID, err)
	}
	if err := applyUpdates(ctx, w, r.Object, r.RecordID, st.OnApprove); err != nil {
		return nil, err
	}
	if err := wf.advance(ctx, w, r, proc, r.Step+1); err != nil {
		return nil, err
	}
	return wf.view(ctx, w.SQL(), r, false)
}

// notApprover explains why the principal's decision was not taken: it
// decided this request already (on this step or an earlier one: 409), or
// is not one of the step's approvers (403).
func (wf *Workflows) notApprover(ctx context.Context, w *engine.Writer, r *request, st *definition.ProcessStep) error {
	var state string
	var step int
	err := w.SQL().QueryRowContext(ctx, wf.t.SQL(`SELECT state, step FROM `+tableTasks+` WHERE request_id = ? AND user_id = ? ORDER BY step DESC LIMIT 1`), r.ID, w.Principal().UserID).Scan(&state, &step)
	switch {
	case err == nil && step < r.Step:
		return fmt.Errorf("%w: your decision on this request was taken already; it now waits for step %s", engine.ErrConflict, st.Name)
	case err == nil && state == taskCancelled:
		return fmt.Errorf("%w: step %s was decided by another approver", engine.ErrConflict, st.Name)
	case err == nil && state == DecisionReassigned:
		return fmt.Errorf("%w: your decision on step %s was handed to another approver", engine.ErrConflict, st.Name)
	case err == nil:
		return fmt.Errorf("%w: your decision on step %s is already taken (%s)", engine.ErrConflict, st.Name, state)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: you are not an approver of step %s of this request", engine.ErrForbidden, st.Name)
	}
	return fmt.Errorf("workflows: approvers of request %s: %w", r.ID, err)
}

// recall answers POST …/actions/recall {"comment"}: the submitter
// withdraws a pending request.
func (wf *Workflows) recall(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
	r, args, err := wf.pendingAction(ctx, w, t, in, "comment")
	if err != nil {
		return nil, err
	}
	if r.SubmittedBy != w.Principal().UserID {
		return nil, fmt.Errorf("%w: only the user who submitted this approval may recall it", engine.ErrForbidden)
	}
	proc, err := wf.process(w, r)
	if err != nil {
		return nil, err
	}
	if err := wf.addEvent(ctx, w, r, r.Step, r.SubmittedBy, DecisionRecalled, args["comment"]); err != nil {
		return nil, err
	}
	if err := wf.finish(ctx, w, r, proc, StateRecalled, args["comment"]); err != nil {
		return nil, err
	}
	return wf.view(ctx, w.SQL(), r, false)
}

// reassign answers POST …/actions/reassign {"to", "from", "comment"}: the
// pending decision of one approver of the current step (from; may be left
// out when there is one) goes to another active user. It needs the
// reassign right, which only administrators hold in the standard template.
func (wf *Workflows) reassign(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
	r, args, err := wf.pendingAction(ctx, w, t, in, "to", "from", "comment")
	if err != nil {
		return nil, err
	}
	if args["to"] == "" {
		return nil, &engine.RequestError{Message: `send {"to": "<username>"}`, Details: []engine.FieldError{{Field: "to", Code: "required", Message: "the username of the new approver"}}}
	}
	to, err := wf.activeUser(ctx, t.Object.Name, "to", args["to"])
	if err != nil {
		return nil, err
	}
	pending, err := wf.taskUsers(ctx, w.SQL(), r.ID, r.Step, taskPending)
	if err != nil {
		return nil, err
	}
	var from string
	switch {
	case args["from"] != "":
		u, err := wf.activeUser(ctx, t.Object.Name, "from", args["from"])
		if err != nil {
			return nil, err
		}
		from = u.ID
	case len(pending) == 1:
		from = pending[0]
	default:
		return nil, &engine.ValidationError{Object: t.Object.Name, Errors: []engine.FieldError{{Field: "from", Code: "required",
			Message: fmt.Sprintf("the current step has %d pending approvers: name the one to replace in from", len(pending))}}}
	}
	if !slices.Contains(pending, from) {
		return nil, &engine.ValidationError{Object: t.Object.Name, Errors: []engine.FieldError{{Field: "from", Code: "invalid", Message: "this user has no pending decision on the current step"}}}
	}
	var taken int
	if err := w.SQL().QueryRowContext(ctx, wf.t.SQL(`SELECT COUNT(*) FROM `+tableTasks+` WHERE request_id = ? AND step = ? AND user_id = ?`), r.ID, r.Step, to.ID).Scan(&taken); err != nil {
		return nil, fmt.Errorf("workflows: approvers of request %s: %w", r.ID, err)
	}
	if taken > 0 {
		return nil, fmt.Errorf("%w: %s is already an approver of the current step", engine.ErrConflict, to.Username)
	}
	if _, err := w.SQL().ExecContext(ctx, wf.t.SQL(`UPDATE `+tableTasks+` SET state = ?, decided_at = ? WHERE request_id = ? AND step = ? AND user_id = ? AND state = ?`),
		wf.t.Args(DecisionReassigned, wf.t.Now(), r.ID, r.Step, from, taskPending)...); err != nil {
		return nil, fmt.Errorf("workflows: reassign request %s: %w", r.ID, err)
	}
	if err := wf.addTask(ctx, w, r.ID, r.Step, to.ID); err != nil {
		return nil, err
	}
	fromUser, err := wf.acc.GetUser(ctx, from)
	if err != nil {
		return nil, err
	}
	comment := fmt.Sprintf("from %s to %s", fromUser.Username, to.Username)
	if args["comment"] != "" {
		comment += ": " + args["comment"]
	}
	if err := wf.addEvent(ctx, w, r, r.Step, w.Principal().UserID, DecisionReassigned, comment); err != nil {
		return nil, err
	}
	if err := wf.saveRequest(ctx, w, r); err != nil {
		return nil, err
	}
	return wf.view(ctx, w.SQL(), r, false)
}

// activeUser finds an active user by username for an action's key.
func (wf *Workflows) activeUser(ctx context.Context, object, key, username string) (*access.User, error) {
	u, err := wf.acc.GetUser(ctx, username)
	if errors.Is(err, access.ErrUserNotFound) || (err == nil && !u.Active) {
		return nil, &engine.ValidationError{Object: object, Errors: []engine.FieldError{{Field: key, Code: "invalid", Message: fmt.Sprintf("%q is not an active user", username)}}}
	}
	return u, err
}

// taskUsers lists the users whose task on a step is in state.
func (wf *Workflows) taskUsers(ctx context.Context, q store.Querier, requestID string, step int, state string) ([]string, error) {
	rows, err := q.QueryContext(ctx, wf.t.SQL(`SELECT user_id FROM `+tableTasks+` WHERE request_id = ? AND step = ? AND state = ? ORDER BY user_id`), requestID, step, state)
	if err != nil {
		return nil, fmt.Errorf("workflows: approvers of request %s: %w", requestID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// checkLock refuses, while an approval of the record is pending under a
// locking process, a change or deletion of the record by anyone but the
// current approvers, who may change only the fields the process names in
// approvers_may_edit. The system's own writes (field updates of
// workflows) pass.
func (wf *Workflows) checkLock(ctx context.Context, ev *engine.Event) error {
	if ev.Principal.System || len(definition.CompiledApprovals(ev.Snapshot).Of(ev.Object.Name)) == 0 {
		return nil
	}
	r, err := wf.pendingRequest(ctx, ev.Tx, ev.Object.Name, ev.ID)
	if err != nil || r == nil {
		return err
	}
	why := fmt.Sprintf("this %s is locked while approval %s waits for a decision", ev.Object.Name, r.Process)
	fields := changedFields(ev)
	if ev.Op == engine.OpDelete {
		fields = []string{""}
	}
	errs, err := wf.lockProblems(ctx, ev.Tx, r, ev.Principal, fields, why)
	if err != nil || len(errs) == 0 {
		return err
	}
	if ev.Op == engine.OpDelete {
		errs[0].Message = why + "; recall it first"
	}
	return &engine.ValidationError{Object: ev.Object.Name, Errors: errs}
}

// checkReferrers refuses the deletion of a record that a record locked by
// a pending approval refers to through a lookup cleared on delete
// (on_delete: set_null) or a many-to-many field: the engine clears those
// without a write of the referring record, which checkLock would judge
// (restrict refuses the deletion and cascade deletes the referrer, which
// checkLock refuses). The current approvers may still clear a field the
// process names in approvers_may_edit; the system's deletions pass.
func (wf *Workflows) checkReferrers(ctx context.Context, ev *engine.Event) error {
	if ev.Principal.System {
		return nil
	}
	approvals := definition.CompiledApprovals(ev.Snapshot)
	var errs []engine.FieldError
	for _, o := range ev.Snapshot.Schema.Objects {
		if len(approvals.Of(o.Name)) == 0 {
			continue
		}
		for _, f := range o.Fields {
			if target, ok := metadata.ReferenceTarget(f); !ok || target != ev.Object.Name {
				continue
			}
			var referrers string
			switch {
			case metadata.Linked(f):
				referrers = `SELECT source_id FROM ` + store.Ident(store.LinkTable(o.Name, f.Name)) + ` WHERE target_id = ?`
			case metadata.OnDeleteOf(f) == metadata.OnDeleteSetNull:
				referrers = `SELECT id FROM ` + store.Ident(o.Name) + ` WHERE ` + store.Ident(f.Name) + ` = ?`
			default:
				continue
			}
			rs, err := wf.requestsWhere(ctx, ev.Tx, `object = ? AND state = 'pending' AND record_id IN (`+referrers+`)`, o.Name, ev.ID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				why := fmt.Sprintf("a %s that refers to this %s through %s is locked while approval %s waits for a decision", o.Name, ev.Object.Name, f.Name, r.Process)
				found, err := wf.lockProblems(ctx, ev.Tx, r, ev.Principal, []string{f.Name}, why)
				if err != nil {
					return err
				}
				errs = append(errs, found...)
			}
		}
	}
	if len(errs) > 0 {
		return &engine.ValidationError{Object: ev.Object.Name, Errors: errs}
	}
	return nil
}

// checkMaster refuses, to anyone but the system, a write of a detail
// record (one whose required lookup to its master cascades the master's
// deletion to it: a quote's lines, a contract's payment plan) while its
// master waits for a decision under a locking process: the details are
// part of what the approval judges (a quote's discount rate, a contract's
// terms). A detail moved from one master to another is judged under both.
func (wf *Workflows) checkMaster(ctx context.Context, ev *engine.Event) error {
	if ev.Principal.System {
		return nil
	}
	for _, m := range masters(ev) {
		r, err := wf.pendingRequest(ctx, ev.Tx, m.object, m.id)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		why := fmt.Sprintf("its %s is locked while approval %s waits for a decision, and so are its %s records", m.field, r.Process, ev.Object.Name)
		errs, err := wf.lockProblems(ctx, ev.Tx, r, ev.Principal, []string{""}, why)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			errs[0].Field = m.field
			return &engine.ValidationError{Object: ev.Object.Name, Errors: errs}
		}
	}
	return nil
}

// master is the master record of a detail a write touches: its object and
// id, through the detail's lookup field.
type master struct{ field, object, id string }

// masters lists the masters, under some approval process, of the detail
// record ev writes (metadata.MasterOf): before and after the write, once
// each (a detail moved from one master to another touches both).
func masters(ev *engine.Event) []master {
	approvals := definition.CompiledApprovals(ev.Snapshot)
	var out []master
	for _, f := range ev.Object.Fields {
		object, ok := metadata.MasterOf(f)
		if !ok || len(approvals.Of(object)) == 0 {
			continue
		}
		for _, rec := range []map[string]any{ev.Old, ev.New} {
			m := master{field: f.Name, object: object}
			if m.id, _ = rec[f.Name].(string); m.id != "" && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// reopen reopens, after a user's write, the approved request of a record
// whose process names in reopen_on a field the write changed, or the
// object of a detail the write created, changed or deleted: the request is
// approved no more (state reopened, in its history as the user's) and the
// process's on_reopened field updates are made. The system's writes (the
// approval's own field updates) reopen nothing.
func (wf *Workflows) reopen(ctx context.Context, ev *engine.Event) error {
	if ev.Principal.System || ev.Writer == nil {
		return nil
	}
	approvals := definition.CompiledApprovals(ev.Snapshot)
	if ev.Op == engine.OpUpdate && reopens(approvals, ev.Object.Name, "") {
		if err := wf.reopenIf(ctx, ev.Writer, ev.Object.Name, ev.ID, changedFields(ev)); err != nil {
			return err
		}
	}
	for _, m := range masters(ev) {
		if !reopens(approvals, m.object, ev.Object.Name) {
			continue
		}
		if err := wf.reopenIf(ctx, ev.Writer, m.object, m.id, []string{ev.Object.Name}); err != nil {
			return err
		}
	}
	return nil
}

// reopens reports whether a process of object reopens approved records
// at all (detail ""), or on a change of their details of object detail:
// only then is the record's last request read.
func reopens(approvals *definition.Processes, object, detail string) bool {
	return slices.ContainsFunc(approvals.Of(object), func(p *definition.Process) bool {
		return len(p.ReopenOn) > 0 && (detail == "" || slices.Contains(p.ReopenOn, detail))
	})
}

// reopenIf reopens the approved request of record id of object when its
// process names one of changed in reopen_on; a record whose last request
// is not approved is left alone.
func (wf *Workflows) reopenIf(ctx context.Context, w *engine.Writer, object, id string, changed []string) error {
	rs, err := wf.requestsWhere(ctx, w.SQL(), `object = ? AND record_id = ? ORDER BY submitted_at DESC, id DESC LIMIT 1`, object, id)
	if err != nil || len(rs) == 0 || rs[0].State != StateApproved {
		return err
	}
	r := rs[0]
	proc, err := wf.process(w, r)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(changed, func(f string) bool { return slices.Contains(proc.ReopenOn, f) }) {
		return nil
	}
	r.State = StateReopened
	if err := wf.saveRequest(ctx, w, r); err != nil {
		return err
	}
	if err := wf.addEvent(ctx, w, r, r.Step, w.Principal().UserID, DecisionReopened, ""); err != nil {
		return err
	}
	if err := applyUpdates(ctx, w, object, id, proc.OnReopened); err != nil {
		return err
	}
	return wf.publish(ctx, w, EventReopened, r, proc, "")
}

// requestsWhere reads the approval requests a condition selects (the
// pending ones, or any: the condition says).
func (wf *Workflows) requestsWhere(ctx context.Context, q store.Querier, where string, args ...any) ([]*request, error) {
	return wf.requests(ctx, q, `SELECT `+requestColumns+` FROM `+tableRequests+` WHERE `+where, args...)
}

// lockProblems says why changing fields of the record of pending request
// r is refused to p (why: the lock, in words): none when the request's
// process does not lock, nor for a field the process names in
// approvers_may_edit when p is a current approver.
func (wf *Workflows) lockProblems(ctx context.Context, q store.Querier, r *request, p *access.Principal, fields []string, why string) ([]engine.FieldError, error) {
	a, err := definition.ApprovalFrom(r.Definition)
	if err != nil {
		return nil, fmt.Errorf("workflows: approval request %s: %w", r.ID, err)
	}
	if (a.Locked != nil && !*a.Locked) || len(fields) == 0 {
		return nil, nil
	}
	pending, err := wf.taskUsers(ctx, q, r.ID, r.Step, taskPending)
	if err != nil {
		return nil, err
	}
	approver := slices.Contains(pending, p.UserID)
	msg := why + "; only its submitter may recall it"
	if len(a.ApproversMayEdit) > 0 {
		msg += "; its current approvers may change " + strings.Join(a.ApproversMayEdit, ", ")
	}
	var errs []engine.FieldError
	for _, f := range fields {
		if f != "" && approver && slices.Contains(a.ApproversMayEdit, f) {
			continue
		}
		errs = append(errs, engine.FieldError{Field: f, Code: "locked", Message: msg})
	}
	return errs, nil
}

// changedFields lists the fields a write changes, its many-to-many links
// included, system columns the engine maintains left out.
func changedFields(ev *engine.Event) []string {
	var out []string
	for k, v := range ev.New {
		if k == "version" || k == "updated_at" || k == "updated_by" {
			continue
		}
		if !reflect.DeepEqual(ev.Old[k], v) {
			out = append(out, k)
		}
	}
	for k, ids := range ev.Links {
		if !slices.Equal(ev.OldLinks[k], ids) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
