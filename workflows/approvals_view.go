package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/gofiber/fiber/v2"
)

// UserRef names a user in answers.
type UserRef struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// RequestView is an approval request as the API shows it: the answer of
// the approval actions and an item of GET /api/records/{object}/{id}/approvals.
type RequestView struct {
	ID           string `json:"id"`
	Object       string `json:"object"`
	RecordID     string `json:"record_id"`
	Process      string `json:"process"`
	ProcessLabel string `json:"process_label"`
	// State is pending, approved, rejected or recalled.
	State string `json:"state"`
	// Step and StepLabel name the step waiting for a decision (pending
	// requests only); Approvers are its approvers yet to decide, Since
	// when it began waiting.
	Step      string    `json:"step,omitempty"`
	StepLabel string    `json:"step_label,omitempty"`
	Approvers []UserRef `json:"approvers"`
	Since     time.Time `json:"since"`
	// Locked says that, while the request is pending, the record and its
	// details may not be changed; ApproversMayEdit are the fields its
	// current approvers still may (pending requests only).
	Locked           bool           `json:"locked,omitempty"`
	ApproversMayEdit []string       `json:"approvers_may_edit,omitempty"`
	SubmittedBy      UserRef        `json:"submitted_by"`
	SubmittedAt      time.Time      `json:"submitted_at"`
	DecidedAt        *time.Time     `json:"decided_at,omitempty"`
	History          []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is one event of a request's history.
type HistoryEntry struct {
	// Step is the step's name ("" for the submission).
	Step string `json:"step"`
	// Approver is who acted: the approver deciding, the submitter
	// submitting or recalling, the administrator reassigning; null for
	// the system (a skipped step).
	Approver *UserRef `json:"approver"`
	// Decision is submitted, approved, rejected, skipped, recalled or
	// reassigned.
	Decision string    `json:"decision"`
	Comment  string    `json:"comment"`
	Time     time.Time `json:"time"`
}

// AssignedApproval is an item of GET /api/approvals?assigned=me: a step
// waiting for the user's decision.
type AssignedApproval struct {
	ID           string    `json:"id"`
	Object       string    `json:"object"`
	RecordID     string    `json:"record_id"`
	Title        string    `json:"title"`
	Process      string    `json:"process"`
	ProcessLabel string    `json:"process_label"`
	Step         string    `json:"step"`
	StepLabel    string    `json:"step_label"`
	SubmittedBy  UserRef   `json:"submitted_by"`
	Since        time.Time `json:"since"`
}

// users looks users up once per answer.
type users struct {
	acc  *access.Service
	seen map[string]*UserRef
}

// ref returns the reference of a user id (nil for "", the system).
func (u *users) ref(ctx context.Context, id string) (*UserRef, error) {
	if id == "" {
		return nil, nil
	}
	if r, ok := u.seen[id]; ok {
		return r, nil
	}
	r := &UserRef{ID: id}
	usr, err := u.acc.GetUser(ctx, id)
	switch {
	case err == nil:
		r.Username, r.DisplayName = usr.Username, usr.DisplayName
	case !errors.Is(err, access.ErrUserNotFound):
		return nil, err
	}
	u.seen[id] = r
	return r, nil
}

// labels gives the labels of a request's process and steps in lang.
type labels struct {
	process string
	steps   []definition.Step
	lang    string
	// locked and mayEdit are the process's lock and approvers_may_edit.
	locked  bool
	mayEdit []string
}

// labelsOf reads the labels of the document a request runs under.
func labelsOf(r *request, lang string) labels {
	a, err := definition.ApprovalFrom(r.Definition)
	if err != nil {
		return labels{process: r.Process, lang: lang}
	}
	l := labels{process: a.Label.Get(lang), steps: a.Steps, lang: lang, locked: a.Locked == nil || *a.Locked, mayEdit: a.ApproversMayEdit}
	if l.process == "" {
		l.process = a.Name
	}
	return l
}

// step returns the name and label of step i ("" when there is none).
func (l labels) step(i int) (string, string) {
	if i < 0 || i >= len(l.steps) {
		return "", ""
	}
	st := l.steps[i]
	label := st.Label.Get(l.lang)
	if label == "" {
		label = st.Name
	}
	return st.Name, label
}

// view builds the answer for a request, with its history when asked.
func (wf *Workflows) view(ctx context.Context, q store.Querier, r *request, history bool) (*RequestView, error) {
	us := &users{acc: wf.acc, seen: map[string]*UserRef{}}
	return wf.viewWith(ctx, q, us, r, history)
}

// viewWith is view with a shared user cache.
func (wf *Workflows) viewWith(ctx context.Context, q store.Querier, us *users, r *request, history bool) (*RequestView, error) {
	l := labelsOf(r, engine.Language(ctx))
	v := &RequestView{ID: r.ID, Object: r.Object, RecordID: r.RecordID, Process: r.Process, ProcessLabel: l.process, State: r.State,
		Since: r.StepSince, SubmittedAt: r.SubmittedAt, Approvers: []UserRef{}}
	sub, err := us.ref(ctx, r.SubmittedBy)
	if err != nil {
		return nil, err
	}
	v.SubmittedBy = *sub
	if !r.DecidedAt.IsZero() {
		d := r.DecidedAt
		v.DecidedAt = &d
	}
	if r.State == StatePending {
		v.Step, v.StepLabel = l.step(r.Step)
		if l.locked {
			v.Locked, v.ApproversMayEdit = true, l.mayEdit
		}
		ids, err := wf.taskUsers(ctx, q, r.ID, r.Step, taskPending)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			u, err := us.ref(ctx, id)
			if err != nil {
				return nil, err
			}
			v.Approvers = append(v.Approvers, *u)
		}
	}
	if !history {
		return v, nil
	}
	rows, err := q.QueryContext(ctx, wf.t.SQL(`SELECT step, actor, decision, comment, at FROM `+tableEvents+` WHERE request_id = ? ORDER BY id`), r.ID)
	if err != nil {
		return nil, fmt.Errorf("workflows: history of approval request %s: %w", r.ID, err)
	}
	defer rows.Close()
	v.History = []HistoryEntry{}
	for rows.Next() {
		var step int
		var actor string
		var at any
		var h HistoryEntry
		if err := rows.Scan(&step, &actor, &h.Decision, &h.Comment, &at); err != nil {
			return nil, err
		}
		h.Step, _ = l.step(step)
		h.Time = store.ScanTime(at)
		if h.Approver, err = us.ref(ctx, actor); err != nil {
			return nil, err
		}
		v.History = append(v.History, h)
	}
	return v, rows.Err()
}

// recordApprovalsRoute answers GET /api/records/{object}/{id}/approvals:
// every approval request of the record, newest first, each with its full
// history, to a user who may read the record (404 otherwise).
func (wf *Workflows) recordApprovalsRoute(c *fiber.Ctx) error {
	items, err := wf.RecordApprovals(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// RecordApprovals lists every approval request of a record, newest first,
// each with its full history, to the principal of ctx when they may read
// the record (engine.ErrNotFound otherwise).
func (wf *Workflows) RecordApprovals(ctx context.Context, object, id string) ([]*RequestView, error) {
	if _, err := wf.eng.Get(ctx, object, id); err != nil {
		return nil, err
	}
	db := wf.eng.DB().SQL()
	reqs, err := wf.requests(ctx, db, `SELECT `+requestColumns+` FROM `+tableRequests+` WHERE object = ? AND record_id = ? ORDER BY submitted_at DESC, id DESC`, object, id)
	if err != nil {
		return nil, err
	}
	us := &users{acc: wf.acc, seen: map[string]*UserRef{}}
	items := make([]*RequestView, 0, len(reqs))
	for _, r := range reqs {
		v, err := wf.viewWith(ctx, db, us, r, true)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

// assignedRoute answers GET /api/approvals?assigned=me: the steps waiting
// for the user's decision (Assigned).
func (wf *Workflows) assignedRoute(c *fiber.Ctx) error {
	if a := c.Query("assigned"); a != "me" {
		return &engine.RequestError{Message: "send assigned=me", Details: []engine.FieldError{{Field: "assigned", Code: "invalid", Message: "only me is supported"}}}
	}
	items, err := wf.Assigned(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// Assigned lists the steps waiting for the decision of the principal of
// ctx, oldest first, each with the record's title as they may read it. A
// request on a record they cannot read is left out (they could not decide
// it either).
func (wf *Workflows) Assigned(ctx context.Context) ([]AssignedApproval, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	reqs, err := wf.requests(ctx, wf.eng.DB().SQL(), `SELECT `+prefixed("r.", requestColumns)+` FROM `+tableTasks+` t JOIN `+tableRequests+` r ON r.id = t.request_id AND r.step = t.step
		WHERE t.user_id = ? AND t.state = ? AND r.state = ? ORDER BY r.step_since, r.id`, p.UserID, taskPending, StatePending)
	if err != nil {
		return nil, err
	}
	us := &users{acc: wf.acc, seen: map[string]*UserRef{}}
	lang := engine.Language(ctx)
	items := []AssignedApproval{}
	for _, r := range reqs {
		rec, err := wf.eng.Get(ctx, r.Object, r.RecordID)
		if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrForbidden) {
			continue
		}
		if err != nil {
			return nil, err
		}
		l := labelsOf(r, lang)
		it := AssignedApproval{ID: r.ID, Object: r.Object, RecordID: r.RecordID, Title: title(wf.eng.Snapshot(), r.Object, rec),
			Process: r.Process, ProcessLabel: l.process, Since: r.StepSince}
		it.Step, it.StepLabel = l.step(r.Step)
		sub, err := us.ref(ctx, r.SubmittedBy)
		if err != nil {
			return nil, err
		}
		it.SubmittedBy = *sub
		items = append(items, it)
	}
	return items, nil
}

// title returns a record's title (metadata.Object.RecordTitle, as read),
// or its id.
func title(snap *engine.Snapshot, object string, rec engine.Record) string {
	if obj, err := snap.Object(object); err == nil {
		return obj.RecordTitle(rec)
	}
	id, _ := rec["id"].(string)
	return id
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + c
	}
	return strings.Join(parts, ", ")
}

// requests runs a query of request rows.
func (wf *Workflows) requests(ctx context.Context, q store.Querier, query string, args ...any) ([]*request, error) {
	rows, err := q.QueryContext(ctx, wf.t.SQL(query), args...)
	if err != nil {
		return nil, fmt.Errorf("workflows: read approval requests: %w", err)
	}
	defer rows.Close()
	var out []*request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
