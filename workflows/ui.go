package workflows

import (
	"cmp"
	"context"

	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/workflows/definition"
)

// UI gives the web pages what they show of state workflows and approvals
// (ui.Workflows), as the principal of each call's context.
func (wf *Workflows) UI() ui.Workflows { return pages{wf} }

// pages adapts the workflows' answers to the UI's types.
type pages struct{ wf *Workflows }

// Transitions implements ui.Workflows.
func (p pages) Transitions(ctx context.Context, object, id string) ([]ui.StateField, error) {
	items, err := p.wf.Transitions(ctx, object, id)
	if err != nil {
		return nil, err
	}
	out := make([]ui.StateField, 0, len(items))
	for _, it := range items {
		f := ui.StateField{Field: it.Field}
		f.Current, _ = it.Current.(string)
		for _, t := range it.Transitions {
			f.Next = append(f.Next, ui.Choice{Value: t.To, Label: t.Label})
		}
		out = append(out, f)
	}
	return out, nil
}

// Approvals implements ui.Workflows.
func (p pages) Approvals(ctx context.Context, object, id string) ([]ui.Approval, error) {
	items, err := p.wf.RecordApprovals(ctx, object, id)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Approval, 0, len(items))
	for _, it := range items {
		a := ui.Approval{Process: it.ProcessLabel, State: it.State, Step: it.StepLabel,
			SubmittedBy: userChoice(&it.SubmittedBy), SubmittedAt: it.SubmittedAt, Locked: it.Locked, ApproversMayEdit: it.ApproversMayEdit}
		for i := range it.Approvers {
			a.Approvers = append(a.Approvers, userChoice(&it.Approvers[i]))
		}
		for _, h := range it.History {
			e := ui.ApprovalEvent{Step: h.Step, Decision: h.Decision, Comment: h.Comment, At: h.Time}
			if h.Approver != nil {
				e.Who = userChoice(h.Approver).Label
			}
			a.History = append(a.History, e)
		}
		out = append(out, a)
	}
	return out, nil
}

// Processes implements ui.Workflows.
func (p pages) Processes(object, lang string) []ui.Choice {
	var out []ui.Choice
	for _, proc := range definition.CompiledApprovals(p.wf.eng.Snapshot()).Of(object) {
		out = append(out, ui.Choice{Value: proc.Name, Label: cmp.Or(proc.Label.Get(lang), proc.Name)})
	}
	return out
}

// Waiting implements ui.Workflows: the approvals assigned to the user.
func (p pages) Waiting(ctx context.Context) ([]ui.Task, error) {
	items, err := p.wf.Assigned(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Task, 0, len(items))
	for _, it := range items {
		detail := it.ProcessLabel
		if it.StepLabel != "" {
			detail += " · " + it.StepLabel
		}
		if by := userChoice(&it.SubmittedBy).Label; by != "" {
			detail += " · " + by
		}
		out = append(out, ui.Task{Kind: "approval", Object: it.Object, RecordID: it.RecordID, Title: it.Title, Detail: detail, Since: it.Since})
	}
	return out, nil
}

// userChoice is a user's id and name (display name, else username).
func userChoice(u *UserRef) ui.Choice {
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	return ui.Choice{Value: u.ID, Label: name}
}
