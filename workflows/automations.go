package workflows

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/workflows/definition"
)

// MaxAutomationDepth bounds a chain of automations: one whose write
// triggers another (or itself) counts one level deeper. A write going past
// it is refused with 422 naming the chain, and nothing of it is written.
const MaxAutomationDepth = 8

// chainKey marks the context of an automation's writes with the chain of
// automations that led to them.
type chainKey struct{}

// chainOf returns the automations that led to the writes of ctx, outermost
// first.
func chainOf(ctx context.Context) []string {
	c, _ := ctx.Value(chainKey{}).([]string)
	return c
}

// automate runs the automations of the written record's object, in their
// order, inside the write's unit of work (an after-hook of create and
// update). Every write they make is the system's on behalf of the user
// whose write triggered them: fields of that record, and records they
// create; nothing else.
func (wf *Workflows) automate(ctx context.Context, ev *engine.Event) error {
	autos := definition.CompiledAutomations(ev.Snapshot).Of(ev.Object.Name)
	if len(autos) == 0 {
		return nil
	}
	chain := chainOf(ctx)
	// cur is the record as it is now, after earlier automations' updates:
	// what actions' formulas read.
	cur := ev.New
	for _, a := range autos {
		if !a.Runs(string(ev.Op)) {
			continue
		}
		// Triggers judge the write that happened; what an earlier
		// automation changed ran the automations of its own write.
		ok, err := triggered(ctx, ev.Writer, a, ev.Old, ev.New)
		if err != nil {
			return fmt.Errorf("workflows: automation %s: %w", a.Name, err)
		}
		if !ok {
			continue
		}
		next := append(slices.Clone(chain), ev.Object.Name+"."+a.Name)
		if len(next) > MaxAutomationDepth {
			return &engine.ValidationError{Object: ev.Object.Name, Errors: []engine.FieldError{{Code: "automation_chain",
				Message: fmt.Sprintf("automations triggered one another more than %d deep: %s", MaxAutomationDepth, strings.Join(next, " → "))}}}
		}
		actx := context.WithValue(ctx, chainKey{}, next)
		sys := ev.Writer.AsSystem()
		for _, step := range a.Steps {
			switch {
			case step.Set != nil:
				if err := applyUpdates(actx, ev.Writer, ev.Object.Name, ev.ID, step.Set); err != nil {
					return err
				}
				if cur, err = sys.Load(actx, ev.Object.Name, ev.ID); err != nil {
					return err
				}
			case step.CreateObject != "":
				data, err := values(actx, sys, step.Values, cur)
				if err != nil {
					return err
				}
				if _, err := sys.Create(actx, step.CreateObject, data); err != nil {
					return fmt.Errorf("automation %s: create %s: %w", a.Name, step.CreateObject, err)
				}
			case step.Notify != nil:
				if wf.notify == nil {
					return fmt.Errorf("workflows: automation %s notifies, but no notifier is wired", a.Name)
				}
				if err := wf.notify.Notify(actx, ev.Writer, "automation:"+a.Name, ev.Object.Name, ev.ID, cur, step.Notify); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// triggered reports whether a write (old → rec, storage form; old nil on
// create) triggers an automation: one of its changed fields changed, its
// becomes_true formula turned true, its condition holds.
func triggered(ctx context.Context, w *engine.Writer, a *definition.CompiledAutomation, old, rec map[string]any) (bool, error) {
	if len(a.Changed) > 0 && !slices.ContainsFunc(a.Changed, func(f string) bool {
		if old == nil {
			return rec[f] != nil
		}
		return !reflect.DeepEqual(old[f], rec[f])
	}) {
		return false, nil
	}
	if a.BecomesTrueExpr != nil {
		after, err := w.Eval(ctx, a.BecomesTrueExpr, rec)
		if err != nil || after != true {
			return false, err
		}
		if old != nil {
			before, err := w.Eval(ctx, a.BecomesTrueExpr, old)
			if err != nil || before == true {
				return false, err
			}
		}
	}
	if a.ConditionExpr != nil {
		v, err := w.Eval(ctx, a.ConditionExpr, rec)
		return v == true, err
	}
	return true, nil
}
