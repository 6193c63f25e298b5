package ui

import (
	"context"
	"slices"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// rq is one signed-in request: its context, language, time zone and the
// engine's one permission decision for its principal, which every page
// asks (never deciding on its own).
type rq struct {
	u      *UI
	c      *fiber.Ctx
	ctx    context.Context
	lang   string
	loc    *time.Location
	p      *access.Principal
	rights *engine.Rights
	users  map[string]string
}

// req builds the request's rq.
func (u *UI) req(c *fiber.Ctx) (*rq, error) {
	ctx := c.UserContext()
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	rights, err := u.eng.Rights(ctx, p)
	if err != nil {
		return nil, err
	}
	return &rq{u: u, c: c, ctx: ctx, lang: lang(c), loc: u.location(c), p: p, rights: rights, users: map[string]string{}}, nil
}

// scoped builds the request's rq and the principal's scope of the object
// of the path for action.
func (u *UI) scoped(c *fiber.Ctx, action string) (*rq, *engine.Scope, error) {
	r, err := u.req(c)
	if err != nil {
		return nil, nil, err
	}
	s, err := r.scope(c.Params("object"), action)
	return r, s, err
}

// scope returns the principal's scope of object for action.
func (r *rq) scope(object, action string) (*engine.Scope, error) {
	return r.rights.ScopeFor(object, action)
}

// userName names a user by id (their display name, else username).
func (r *rq) userName(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := r.users[id]; ok {
		return n
	}
	n := id
	if usr, err := r.u.acc.GetUser(r.ctx, id); err == nil {
		n = usr.Username
		if usr.DisplayName != "" {
			n = usr.DisplayName
		}
	}
	r.users[id] = n
	return n
}

// cell is one value shown on a page, with a link when it names a record
// or a file.
type cell struct {
	Text string
	Href string
}

// userFields are the system fields holding user ids.
var userFields = []string{metadata.OwnerField, "created_by", "updated_by"}

// fieldDef returns a field of obj or a system field.
func fieldDef(obj *metadata.Object, name string) (*metadata.Field, bool) {
	if f, ok := obj.Field(name); ok {
		return f, true
	}
	return metadata.SystemField(name)
}

// titles holds the names of records that many-to-many values point to,
// by field and id.
type titles map[string]map[string]string

// display formats the value of field name of rec for reading.
func (r *rq) display(obj *metadata.Object, name string, rec engine.Record, t titles) cell {
	f, ok := fieldDef(obj, name)
	if !ok {
		return cell{}
	}
	v := rec[name]
	if v == nil {
		return cell{}
	}
	if slices.Contains(userFields, name) {
		id, _ := v.(string)
		return cell{Text: r.userName(id)}
	}
	id, _ := rec[idField].(string)
	in := metadata.FormInput(f)
	switch {
	case in.Kind == metadata.InputLookup && !in.Multiple:
		ref, _ := v.(string)
		exp, _ := rec[engine.ExpandKey].(map[string]any)
		target, _ := r.rights.Snapshot().Schema.Object(in.Target)
		if tr, ok := exp[name].(engine.Record); ok && target != nil {
			return cell{Text: titleOf(target, tr), Href: "/ui/o/" + in.Target + "/" + ref}
		}
		if exp == nil {
			return cell{Text: ref}
		}
		return cell{}
	case in.Kind == metadata.InputLookup:
		var names []string
		for _, ref := range strList(v) {
			if n, ok := t[name][ref]; ok {
				names = append(names, n)
			}
		}
		return cell{Text: joinComma(names)}
	case in.Kind == metadata.InputFile:
		return cell{Text: metadata.Display(f, v, r.lang, r.loc), Href: "/ui/o/" + obj.Name + "/" + id + "/files/" + name}
	}
	return cell{Text: metadata.Display(f, v, r.lang, r.loc)}
}

// joinComma joins names with a comma.
func joinComma(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// enrich reads what the shown fields of recs point to, through the
// engine as the principal: the records of lookups (engine.Expand) and
// the names of many-to-many targets.
func (r *rq) enrich(s *engine.Scope, recs []engine.Record, fields []string) (titles, error) {
	var lookups []string
	t := titles{}
	for _, name := range fields {
		f, ok := s.Object().Field(name)
		if !ok || !s.Readable(name) {
			continue
		}
		in := metadata.FormInput(f)
		if in.Kind != metadata.InputLookup {
			continue
		}
		if !in.Multiple {
			if len(lookups) < engine.MaxExpand {
				lookups = append(lookups, name)
			}
			continue
		}
		var ids []string
		for _, rec := range recs {
			ids = append(ids, strList(rec[name])...)
		}
		names, err := r.recordTitles(in.Target, ids)
		if err != nil {
			return nil, err
		}
		t[name] = names
	}
	if err := r.u.eng.Expand(r.ctx, s.Object().Name, recs, lookups); err != nil {
		return nil, err
	}
	return t, nil
}

// recordTitles names the records of object among ids that the principal
// may read (engine.List: the others are left out).
func (r *rq) recordTitles(object string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	ids = uniq(ids)
	if len(ids) == 0 {
		return out, nil
	}
	s, err := r.scope(object, metadata.ActionRead)
	if err != nil {
		return out, nil // not readable: no names
	}
	for chunk := range slices.Chunk(ids, engine.MaxLimit) {
		res, err := r.u.eng.List(r.ctx, object, engine.ListOptions{Filter: "id in " + quoteList(chunk), Limit: len(chunk)})
		if err != nil {
			return nil, err
		}
		for _, rec := range res.Items {
			out[rec[idField].(string)] = titleOf(s.Object(), rec)
		}
	}
	return out, nil
}

// uniq drops repeated and empty strings, keeping the order.
func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
