package ui

import (
	"context"
	"time"
)

// The parts of the platform built on the engine (workflows, sales rules,
// reports) give the pages what only they know through the small
// interfaces below; internal/server wires them (Config). Each answers as
// the principal of ctx, under the engine's one permission decision: the
// UI shows what they return and decides nothing itself. A nil part leaves
// its pages and panels out.

// Workflows is what the pages show of state workflows and approvals.
type Workflows interface {
	// Transitions lists, per state workflow of the record's object whose
	// field the user may read, the current value and the changes the
	// user may make now.
	Transitions(ctx context.Context, object, id string) ([]StateField, error)
	// Approvals lists the record's approval requests, newest first.
	Approvals(ctx context.Context, object, id string) ([]Approval, error)
	// Waiting lists the approvals waiting for the user's decision.
	Waiting(ctx context.Context) ([]Task, error)
}

// StateField is a field governed by a state workflow on one record.
type StateField struct {
	Field   string
	Current string
	// Next are the values the user may change it to now.
	Next []Choice
}

// Choice is a value with its label in the user's language.
type Choice struct {
	Value, Label string
}

// Approval is an approval request of a record.
type Approval struct {
	Process string
	// State is pending, approved, rejected or recalled.
	State string
	// Step is the label of the step waiting for a decision (pending only).
	Step string
	// Approvers are the user ids and names of those yet to decide the
	// step.
	Approvers   []Choice
	SubmittedBy Choice
	SubmittedAt time.Time
	History     []ApprovalEvent
}

// ApprovalEvent is one event of a request's history.
type ApprovalEvent struct {
	Step, Who, Decision, Comment string
	At                           time.Time
}

// Task is something waiting for the user, listed on the home page: an
// approval to decide, a reminder that is due.
type Task struct {
	// Kind is "approval" or "reminder".
	Kind             string
	Object, RecordID string
	// Title is the record's title as the user may read it; Detail says
	// what waits (the process and step, the reminder's text).
	Title, Detail string
	Since         time.Time
}

// Sales is what the pages offer of the sales rules: lead conversion and
// CSV imports.
type Sales interface {
	// Conversion returns the targets records of object convert into, in
	// order (none when the object has no conversion).
	Conversion(ctx context.Context, object string) []ConversionTarget
	// Converted reports whether a record (as the user reads it) was
	// converted already.
	Converted(ctx context.Context, object string, rec map[string]any) bool
	// AllowDuplicates returns ctx in which a create goes through the
	// duplicate rules that only warn.
	AllowDuplicates(ctx context.Context) context.Context
}

// ConversionTarget is a record a conversion creates or attaches.
type ConversionTarget struct {
	// Name is the target's key in the convert action's input.
	Name, Object string
	Optional     bool
}
