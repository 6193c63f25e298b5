package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/crmplatform/crm/workflows/internal/reach"
	"github.com/gofiber/fiber/v2"
)

// checkTransition refuses a change of a field governed by a state
// workflow that no transition allows for the user: an after-hook, so a
// condition sees the record as written (computed fields included), and
// the refusal rolls the whole unit of work back. The system's own writes
// (approvals' and automations' field updates) are not checked; a field
// that was empty may take any value (as on create).
func (wf *Workflows) checkTransition(ctx context.Context, ev *engine.Event) error {
	flows := definition.CompiledStates(ev.Snapshot).Of(ev.Object.Name)
	if len(flows) == 0 || ev.Principal.System {
		return nil
	}
	for _, fl := range flows {
		from, _ := ev.Old[fl.Field].(string)
		to, _ := ev.New[fl.Field].(string)
		if from == to || from == "" {
			continue
		}
		ok, why, err := wf.allowed(ctx, ev.Writer, fl, from, to, ev.New)
		if err != nil {
			return err
		}
		if !ok {
			return &engine.ValidationError{Object: ev.Object.Name, Errors: []engine.FieldError{{
				Field: fl.Field, Code: "transition",
				Message: fmt.Sprintf("%s cannot change from %q to %q: %s", fl.Field, from, to, why),
			}}}
		}
	}
	return nil
}

// allowed reports whether the principal of w may change fl's field from
// from to to on rec (storage form, with the new value), and why not.
func (wf *Workflows) allowed(ctx context.Context, w *engine.Writer, fl *definition.StateFlow, from, to string, rec map[string]any) (bool, string, error) {
	var why []string
	var roles []string
	rolesKnown := false
	matched := false
	for _, t := range fl.Transitions {
		if !t.Matches(from, to) {
			continue
		}
		matched = true
		if len(t.Roles) > 0 {
			if !rolesKnown {
				var err error
				if roles, err = wf.effectiveRoles(ctx, w.Snapshot().Schema, w.Principal()); err != nil {
					return false, "", err
				}
				rolesKnown = true
			}
			if !slices.ContainsFunc(t.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
				why = append(why, "only "+strings.Join(t.Roles, ", ")+" may make it")
				continue
			}
		}
		if t.Cond != nil {
			v, err := w.Eval(ctx, t.Cond, rec)
			if err != nil {
				return false, "", fmt.Errorf("workflows: condition of %s from %s to %s: %w", fl.Name, from, to, err)
			}
			if v != true {
				why = append(why, "the condition "+t.Cond.Source()+" does not hold")
				continue
			}
		}
		return true, "", nil
	}
	if !matched {
		next := nextValues(fl, from)
		if len(next) == 0 {
			return false, fmt.Sprintf("state workflow %s allows no change from %q", fl.Name, from), nil
		}
		return false, fmt.Sprintf("state workflow %s allows from %q only %s", fl.Name, from, strings.Join(next, ", ")), nil
	}
	return false, strings.Join(why, "; "), nil
}

// nextValues lists the values a transition leads to from from, in the
// order of the field's options.
func nextValues(fl *definition.StateFlow, from string) []string {
	var out []string
	for _, o := range fl.FieldDef.Options {
		for _, t := range fl.Transitions {
			if t.Matches(from, o.Value) {
				out = append(out, o.Value)
				break
			}
		}
	}
	return out
}

// StateTransitions is the answer of GET /api/records/{object}/{id}/transitions
// for one governed field: its current value and the changes the user may
// make now.
type StateTransitions struct {
	Workflow    string           `json:"workflow"`
	Field       string           `json:"field"`
	Current     any              `json:"current"`
	Transitions []NextTransition `json:"transitions"`
}

// NextTransition is one change the user may make.
type NextTransition struct {
	To string `json:"to"`
	// Label is the transition's label in the request's language, or the
	// option's.
	Label string `json:"label"`
}

// transitionsRoute answers GET /api/records/{object}/{id}/transitions
// (Transitions).
func (wf *Workflows) transitionsRoute(c *fiber.Ctx) error {
	items, err := wf.Transitions(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// Transitions lists, for each state workflow of the object whose field the
// principal of ctx may read, the record's current value and the values
// they may change it to now (none when they may not update the record or
// the field).
func (wf *Workflows) Transitions(ctx context.Context, object, id string) ([]StateTransitions, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	items := []StateTransitions{}
	err := wf.eng.Tx(ctx, p, func(w *engine.Writer) error {
		items = items[:0]
		s, err := w.Rights().ScopeFor(object, metadata.ActionRead)
		if err != nil {
			return err
		}
		rec, err := w.Load(ctx, object, id)
		if err != nil {
			return err
		}
		editable, err := reach.Record(ctx, wf.eng.DB(), w, s, metadata.ActionUpdate, id)
		if err != nil {
			return err
		}
		lang := engine.Language(ctx)
		for _, fl := range definition.CompiledStates(w.Snapshot()).Of(object) {
			if !s.Readable(fl.Field) {
				continue
			}
			from, _ := rec[fl.Field].(string)
			st := StateTransitions{Workflow: fl.Name, Field: fl.Field, Transitions: []NextTransition{}}
			if from != "" {
				st.Current = from
			}
			if editable && s.Editable(fl.Field) {
				if st.Transitions, err = wf.next(ctx, w, fl, from, rec, lang); err != nil {
					return err
				}
			}
			items = append(items, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// next lists the changes of fl's field the principal of w may make from
// from on rec: every option when the field is empty.
func (wf *Workflows) next(ctx context.Context, w *engine.Writer, fl *definition.StateFlow, from string, rec map[string]any, lang string) ([]NextTransition, error) {
	out := []NextTransition{}
	for _, o := range fl.FieldDef.Options {
		if o.Value == from {
			continue
		}
		label := o.Label.Get(lang)
		if from != "" {
			changed := make(map[string]any, len(rec))
			for k, v := range rec {
				changed[k] = v
			}
			changed[fl.Field] = o.Value
			ok, _, err := wf.allowed(ctx, w, fl, from, o.Value, changed)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			for _, t := range fl.Transitions {
				if t.Matches(from, o.Value) && t.Label != nil {
					label = t.Label.Get(lang)
					break
				}
			}
		}
		if label == "" {
			label = o.Value
		}
		out = append(out, NextTransition{To: o.Value, Label: label})
	}
	return out, nil
}
