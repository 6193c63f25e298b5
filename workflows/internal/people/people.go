// Package people turns the people a workflow document names
// (definition.Party: owner, manager, a user, a role, a user field of the
// record) into active users, for approvals' approvers and reminders'
// recipients. It reads users through the access service and records
// through the engine's unit of work, as the system.
package people

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
)

// Context is what the people of a document are relative to.
type Context struct {
	// Object and Record are the record (storage form) the document is
	// about.
	Object string
	Record map[string]any
	// Base is the user whose manager "manager" names: the submitter of
	// an approval, the owner of a reminder's record.
	Base string
	// Submitter is the user who submitted an approval ("" for a
	// reminder).
	Submitter string
}

// Resolve returns the active users the parties name, each once, in the
// order named. Parties naming nobody (no manager, an empty field, an
// inactive user) add no one; what went wrong with each comes back as a
// note for messages.
func Resolve(ctx context.Context, w *engine.Writer, acc *access.Service, parties []definition.Party, c Context) ([]*access.User, []string, error) {
	var out []*access.User
	var notes []string
	add := func(u *access.User) {
		if u != nil && u.Active && !slices.ContainsFunc(out, func(o *access.User) bool { return o.ID == u.ID }) {
			out = append(out, u)
		}
	}
	get := func(ref string) (*access.User, error) {
		if ref == "" {
			return nil, nil
		}
		u, err := acc.GetUser(ctx, ref)
		if errors.Is(err, access.ErrUserNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("people: user %s: %w", ref, err)
		}
		return u, nil
	}
	for _, p := range parties {
		switch {
		case p.User != "":
			u, err := get(p.User)
			if err != nil {
				return nil, nil, err
			}
			if u == nil || !u.Active {
				notes = append(notes, fmt.Sprintf("user %s is not an active user", p.User))
			}
			add(u)
		case p.Role != "":
			users, err := acc.ListUsers(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("people: users of role %s: %w", p.Role, err)
			}
			n := len(out)
			for _, u := range users {
				if slices.Contains(u.Roles, p.Role) {
					add(u)
				}
			}
			if len(out) == n {
				notes = append(notes, fmt.Sprintf("no active user holds role %s", p.Role))
			}
		case p.Field != "":
			id, err := fieldUser(ctx, w, c, p.Field)
			if err != nil {
				return nil, nil, err
			}
			u, err := get(id)
			if err != nil {
				return nil, nil, err
			}
			if u == nil || !u.Active {
				notes = append(notes, fmt.Sprintf("%s names no active user", p.Field))
			}
			add(u)
		case p.Is == definition.PartyOwner:
			owner, _ := c.Record[metadata.OwnerField].(string)
			u, err := get(owner)
			if err != nil {
				return nil, nil, err
			}
			add(u)
		case p.Is == definition.PartySubmitter:
			u, err := get(c.Submitter)
			if err != nil {
				return nil, nil, err
			}
			add(u)
		case p.Is == definition.PartyManager, p.Is == definition.PartyManagerOfManager:
			u, err := get(c.Base)
			if err != nil {
				return nil, nil, err
			}
			levels := 1
			if p.Is == definition.PartyManagerOfManager {
				levels = 2
			}
			for i := 0; i < levels && u != nil; i++ {
				if u, err = get(u.ManagerID); err != nil {
					return nil, nil, err
				}
			}
			if u == nil || !u.Active {
				notes = append(notes, fmt.Sprintf("there is no active %s", map[bool]string{true: "manager", false: "manager's manager"}[levels == 1]))
			}
			add(u)
		}
	}
	return out, notes, nil
}

// fieldUser follows a path of lookups to a user field ("owner_id",
// "account.owner_id") from the record, reading the records on the way as
// the system.
func fieldUser(ctx context.Context, w *engine.Writer, c Context, path string) (string, error) {
	fields, err := definition.UserPath(w.Snapshot().Schema, c.Object, path)
	if err != nil {
		return "", fmt.Errorf("people: %w", err)
	}
	rec := c.Record
	for i, f := range fields {
		v, _ := rec[f.Name].(string)
		if i == len(fields)-1 || v == "" {
			return v, nil
		}
		target, _ := metadata.LookupTarget(f)
		rec, err = w.AsSystem().Load(ctx, target, v)
		if errors.Is(err, engine.ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", nil
}
