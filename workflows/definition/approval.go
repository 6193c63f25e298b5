package definition

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Approval is an approval process: records of Object that meet the entry
// criteria may be submitted; the request then passes its steps in order,
// each decided by its approvers, and field updates mark what happened.
type Approval struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	Object      string         `json:"object"`
	// Order ranks the processes of one object: a submission that names no
	// process takes the first (lowest order, then name) whose entry
	// criteria the record meets.
	Order int `json:"order,omitempty"`
	// EntryCriteria is a condition the record must meet to be submitted;
	// EntryMessage says why it cannot be when it does not.
	EntryCriteria string         `json:"entry_criteria,omitempty"`
	EntryMessage  metadata.Label `json:"entry_message,omitempty"`
	// Locked keeps the record from being edited while a request is
	// pending (true when absent), except by the current approvers on the
	// fields ApproversMayEdit names.
	Locked           *bool         `json:"locked,omitempty"`
	ApproversMayEdit []string      `json:"approvers_may_edit,omitempty"`
	OnSubmit         []FieldUpdate `json:"on_submit,omitempty"`
	Steps            []Step        `json:"steps"`
	OnApproved       []FieldUpdate `json:"on_approved,omitempty"`
	OnRejected       []FieldUpdate `json:"on_rejected,omitempty"`
	OnRecalled       []FieldUpdate `json:"on_recalled,omitempty"`
	// ReopenOn names what an approved record may not change and stay
	// approved: its fields, and objects of its details (a quote's
	// quote_line: a line added, changed or removed). Such a change by a
	// user reopens the request (state reopened) and makes the field
	// updates of OnReopened.
	ReopenOn   []string      `json:"reopen_on,omitempty"`
	OnReopened []FieldUpdate `json:"on_reopened,omitempty"`
}

// Step is one step of an approval process.
type Step struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	// Approvers decide the step: the submitter's manager (manager) or
	// that manager's manager (manager_of_manager), the record's owner, a
	// user by username, every user of a role, or the user in a field of
	// the record.
	Approvers []Party `json:"approvers"`
	// Rule is any (one approval decides the step; the default) or all
	// (every approver must approve). One rejection rejects the request.
	Rule string `json:"rule,omitempty"`
	// SkipIf skips the step when it holds as the step comes up.
	SkipIf    string        `json:"skip_if,omitempty"`
	OnApprove []FieldUpdate `json:"on_approve,omitempty"`
	OnReject  []FieldUpdate `json:"on_reject,omitempty"`
}

// Rules of a step.
const (
	RuleAny = "any"
	RuleAll = "all"
)

// Approvals reads the approval processes of a schema.
var Approvals metadata.Docs[Approval]

// approvalSchema is the JSON Schema of an approval process.
var approvalSchema = kindSchema([]string{"name", "object", "steps"}, `
    "name": {"$ref": "#/$defs/identifier"},
    "label": {"$ref": "#/$defs/label"},
    "description": {"type": "string", "maxLength": 2000},
    "object": {"$ref": "#/$defs/identifier"},
    "order": {"type": "integer", "minimum": 0, "maximum": 1000000},
    "entry_criteria": {"$ref": "#/$defs/formula"},
    "entry_message": {"$ref": "#/$defs/label"},
    "locked": {"type": "boolean"},
    "approvers_may_edit": {"type": "array", "items": {"$ref": "#/$defs/identifier"}},
    "on_submit": {"$ref": "#/$defs/updates"},
    "steps": {
      "type": "array",
      "minItems": 1,
      "maxItems": 20,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "approvers"],
        "properties": {
          "name": {"$ref": "#/$defs/identifier"},
          "label": {"$ref": "#/$defs/label"},
          "approvers": {"$ref": "#/$defs/parties"},
          "rule": {"type": "string", "enum": ["any", "all"]},
          "skip_if": {"$ref": "#/$defs/formula"},
          "on_approve": {"$ref": "#/$defs/updates"},
          "on_reject": {"$ref": "#/$defs/updates"}
        }
      }
    },
    "on_approved": {"$ref": "#/$defs/updates"},
    "on_rejected": {"$ref": "#/$defs/updates"},
    "on_recalled": {"$ref": "#/$defs/updates"},
    "reopen_on": {"type": "array", "items": {"$ref": "#/$defs/identifier"}},
    "on_reopened": {"$ref": "#/$defs/updates"}`, "")

// ActionReassign is the right to hand an approver's pending decision to
// another user (POST …/actions/reassign); no role of the standard template
// holds it, so only administrators may.
const ActionReassign = "reassign"

func init() {
	metadata.RegisterAction(ActionReassign)
	Approvals = metadata.RegisterKind(metadata.KindSpec[Approval]{
		Name:   "approvals",
		Schema: approvalSchema,
		Public: true,
		Check: func(s *metadata.Schema, a *Approval) metadata.Problems {
			_, ps := buildProcess(s, a)
			return ps
		},
		Compile: compileApprovals,
	})
}

// Process is an approval process compiled against one metadata version.
type Process struct {
	*Approval
	Entry      *formulas.Expr
	OnSubmit   []Assignment
	Steps      []*ProcessStep
	OnApproved []Assignment
	OnRejected []Assignment
	OnRecalled []Assignment
	OnReopened []Assignment
}

// ProcessStep is a compiled step.
type ProcessStep struct {
	*Step
	Index     int
	Skip      *formulas.Expr
	OnApprove []Assignment
	OnReject  []Assignment
}

// IsLocked reports whether the record is locked while a request of the
// process is pending.
func (p *Process) IsLocked() bool { return p.Locked == nil || *p.Locked }

// RuleOf returns the step's rule, any by default.
func (st *ProcessStep) RuleOf() string {
	if st.Rule == "" {
		return RuleAny
	}
	return st.Rule
}

// buildProcess checks an approval process against s and compiles it; the
// process is nil when there are problems.
func buildProcess(s *metadata.Schema, a *Approval) (*Process, metadata.Problems) {
	obj, ok := s.Object(a.Object)
	if !ok {
		return nil, metadata.Problems{metadata.Problemf("/object", "no object %q", a.Object)}
	}
	var ps metadata.Problems
	p := &Process{Approval: a}
	var cps []metadata.Problem
	p.Entry, cps = condition(s, a.Object, a.EntryCriteria, "/entry_criteria")
	ps = append(ps, cps...)
	for i, name := range a.ApproversMayEdit {
		if _, err := writableField(obj, name); err != nil {
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/approvers_may_edit/%d", i), "%v", err))
		}
	}
	updates := func(ups []FieldUpdate, path string) []Assignment {
		as, ups2 := assignments(s, a.Object, a.Object, ups, path)
		ps = append(ps, ups2...)
		return as
	}
	p.OnSubmit = updates(a.OnSubmit, "/on_submit")
	p.OnApproved = updates(a.OnApproved, "/on_approved")
	p.OnRejected = updates(a.OnRejected, "/on_rejected")
	p.OnRecalled = updates(a.OnRecalled, "/on_recalled")
	p.OnReopened = updates(a.OnReopened, "/on_reopened")
	for i, name := range a.ReopenOn {
		if _, ok := obj.FieldOrSystem(name); ok && !metadata.IsSystemField(name) {
			continue
		}
		if !isDetailOf(s, name, a.Object) {
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/reopen_on/%d", i), "%q is neither a field of %s nor an object of its details (a required lookup to %s with on_delete: cascade)", name, a.Object, a.Object))
		}
	}
	var names []string
	for i := range a.Steps {
		st := &a.Steps[i]
		at := fmt.Sprintf("/steps/%d", i)
		if slices.Contains(names, st.Name) {
			ps = append(ps, metadata.Problemf(at+"/name", "step %q is defined twice", st.Name))
		}
		names = append(names, st.Name)
		ps = append(ps, checkParties(s, a.Object, st.Approvers, true, at+"/approvers")...)
		ps2 := &ProcessStep{Step: st, Index: i}
		ps2.Skip, cps = condition(s, a.Object, st.SkipIf, at+"/skip_if")
		ps = append(ps, cps...)
		ps2.OnApprove = updates(st.OnApprove, at+"/on_approve")
		ps2.OnReject = updates(st.OnReject, at+"/on_reject")
		p.Steps = append(p.Steps, ps2)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return p, nil
}

// isDetailOf reports whether object's records are details of master's
// (metadata.MasterOf).
func isDetailOf(s *metadata.Schema, object, master string) bool {
	o, ok := s.Object(object)
	if !ok {
		return false
	}
	return slices.ContainsFunc(o.Fields, func(f *metadata.Field) bool {
		m, ok := metadata.MasterOf(f)
		return ok && m == master
	})
}

// Processes is the compiled form of the approval processes of a metadata
// version: by object, by order then name.
type Processes = Set[*Process]

// compileApprovals compiles every approval process of s.
func compileApprovals(s *metadata.Schema) (any, metadata.Problems) {
	return compileSet(s, Approvals, func(a *Approval) (string, string) { return a.Name, a.Object }, buildProcess,
		func(p *Process) int { return p.Order })
}

// CompiledApprovals returns the compiled approval processes of a metadata
// snapshot (engine.Snapshot), nil when it has none.
func CompiledApprovals(snap interface{ Compiled(string) any }) *Processes {
	p, _ := snap.Compiled(Approvals.Kind().Name()).(*Processes)
	return p
}

// ApprovalFrom decodes an approval process as it was written (the
// document a request keeps), without checking it against the metadata.
func ApprovalFrom(raw map[string]any) (*Approval, error) {
	d, ps := Approvals.Kind().ParseValue("", raw)
	if len(ps) > 0 {
		return nil, ps
	}
	return d.Value.(*Approval), nil
}

// ProcessFrom compiles an approval process as it was written (a running
// request keeps the document it started under) against the metadata s of
// today, so the request finishes under its own steps and approvers. The
// problems say why the document no longer fits the metadata.
func ProcessFrom(s *metadata.Schema, raw map[string]any) (*Process, metadata.Problems) {
	a, err := ApprovalFrom(raw)
	if err != nil {
		return nil, metadata.Problems{{Message: err.Error()}}
	}
	return buildProcess(s, a)
}
