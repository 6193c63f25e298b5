package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Explanation is the access explanation of engine/access completed with
// what the engine decides on top of it: the named actions and the rule
// for computed fields.
type Explanation struct {
	*access.Explanation
	// Actions lists the record operations and named actions the user may
	// take on the object.
	Actions []string `json:"actions"`
	// Computed says why a computed field is shown or hidden.
	Computed string `json:"computed,omitempty"`
}

// explainer is the optional ability of a Decision to explain itself.
type explainer interface {
	Explain(ctx context.Context, username, object, recordID, field string) (*access.Explanation, error)
}

// ErrNoExplanation is returned by Explain when the engine's Guard cannot
// explain its decisions.
var ErrNoExplanation = errors.New("engine: the permission decision cannot explain itself")

// Explain says whether the user named username may read and edit object
// (a record, a field), which policy or rule decided, which actions the
// user may take, and for a computed field why it is shown or hidden.
func (e *Engine) Explain(ctx context.Context, username, object, recordID, field string) (*Explanation, error) {
	snap := e.Snapshot()
	d, err := e.guard.Decide(ctx, snap.Schema)
	if err != nil {
		return nil, fmt.Errorf("engine: permissions: %w", err)
	}
	x, ok := d.(explainer)
	if !ok {
		return nil, ErrNoExplanation
	}
	ax, err := x.Explain(ctx, username, object, recordID, field)
	if err != nil {
		return nil, err
	}
	p := &access.Principal{UserID: ax.UserID, Username: ax.User, Roles: ax.Roles}
	r := (&Rights{e: e, snap: snap, d: d}).with(p)
	s, err := r.Scope(object)
	if err != nil {
		return nil, err
	}
	out := &Explanation{Explanation: ax, Actions: []string{}}
	for _, a := range metadata.Actions() {
		if s.Can(a) == nil {
			out.Actions = append(out.Actions, a)
		}
	}
	if f, ok := s.obj.Field(field); ok && f.Formula != "" {
		out.Computed = r.computedReason(object, f)
		if s.Level(field) == metadata.FieldHidden && ax.FieldLevel != metadata.FieldHidden {
			ax.FieldLevel = metadata.FieldHidden
			ax.Read.Allowed, ax.Edit.Allowed = false, false
			ax.Read.Reasons = append(ax.Read.Reasons, out.Computed)
		}
	}
	return out, nil
}

// computedReason says why computed field f of object is shown or hidden
// to the principal of r.
func (r *Rights) computedReason(object string, f *metadata.Field) string {
	if f.Visibility == metadata.VisibilityAll {
		return fmt.Sprintf("%s is computed and declared visibility: all: everyone who may read the record sees it", f.Name)
	}
	op := r.snap.Formulas().Object(object)
	if op == nil {
		return ""
	}
	in := op.Inputs(f.Name)
	var reads []string
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fr := range in.Fields {
		reads = append(reads, fr.Object+"."+fr.Field)
		if fr.Object != formulas.UserObject && r.levelLocked(fr.Object, fr.Field) == metadata.FieldHidden {
			return fmt.Sprintf("%s is hidden: it is computed from %s.%s, which the user may not read", f.Name, fr.Object, fr.Field)
		}
	}
	for _, target := range in.Through {
		if !r.readsEvery(target) {
			return fmt.Sprintf("%s is hidden: it reads %s records through a lookup, and the user may not read them all (record scope all)", f.Name, target)
		}
	}
	for _, ru := range in.Rollups {
		reads = append(reads, ru.Func+" over "+ru.Child)
		if !r.readsEvery(ru.Child) {
			return fmt.Sprintf("%s is hidden: it aggregates every %s record, and the user may not read them all (record scope all)", f.Name, ru.Child)
		}
		for _, name := range ru.Reads {
			if r.levelLocked(ru.Child, name) == metadata.FieldHidden {
				return fmt.Sprintf("%s is hidden: it aggregates %s.%s, which the user may not read", f.Name, ru.Child, name)
			}
		}
	}
	return fmt.Sprintf("%s is computed from %s, all of which the user may read", f.Name, strings.Join(reads, ", "))
}
