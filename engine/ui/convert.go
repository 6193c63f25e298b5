package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// convertData is the content of a record's conversion page.
type convertData struct {
	Object          *metadata.Object
	ID, Title, Kind string
	Targets         []convertTarget
	Error           string
	Details         []string
}

// convertTarget is one record the conversion creates or attaches, with
// the user's choice: "new" (create it unless it duplicates), "create"
// (create it although it duplicates), "skip" (an optional target),
// "id:<id>" (attach an existing record).
type convertTarget struct {
	Name, Label string
	Optional    bool
	Choice      string
	// Matches are the existing records a new one would duplicate (those
	// the user may read); Hidden counts the others; Allowed reports
	// whether the rule lets the user create it anyway.
	Matches []optionView
	Hidden  int
	Allowed bool
	// TitleField is the new record's title field (an opportunity's
	// name) when the user may set it, TitleLabel its label and Title the
	// value the user gave instead of the mapped one ("" keeps it).
	TitleField, TitleLabel, Title string
}

// convertChoices reads the targets of the object's conversion as the
// page shows them; ok is false when the object has none.
func (u *UI) convertChoices(r *rq, object string, form func(string) string) ([]convertTarget, bool) {
	if u.sales == nil {
		return nil, false
	}
	ts := u.sales.Conversion(r.ctx, object)
	out := make([]convertTarget, 0, len(ts))
	for _, t := range ts {
		ct := convertTarget{Name: t.Name, Label: t.Name, Optional: t.Optional, Choice: form("t_" + t.Name)}
		if o, ok := r.rights.Snapshot().Schema.Object(t.Object); ok {
			ct.Label = o.Title(r.lang)
			if f := o.NamingField(); f != nil && f.Formula == "" {
				if s, err := r.scope(t.Object, metadata.ActionCreate); err == nil && s.Editable(f.Name) {
					ct.TitleField, ct.TitleLabel, ct.Title = f.Name, f.Title(r.lang), strings.TrimSpace(form("v_"+t.Name))
				}
			}
		}
		switch {
		case ct.Choice == "create" || ct.Choice == "new" || strings.HasPrefix(ct.Choice, "id:"):
		case ct.Choice == "skip" && t.Optional:
		default:
			ct.Choice = "new"
		}
		out = append(out, ct)
	}
	return out, len(out) > 0
}

// convertPage answers GET /ui/o/{object}/{id}/convert: what the
// conversion will create, to confirm.
func (u *UI) convertPage(c *fiber.Ctx) error {
	return u.showConvert(c, fiber.StatusOK, nil, nil)
}

// showConvert renders the conversion page for the record of the path,
// with the user's choices, the duplicates found (dup) and an error.
func (u *UI) showConvert(c *fiber.Ctx, status int, dup *engine.DuplicateError, fail error) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	object, id := c.Params("object"), c.Params("id")
	rec, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	form := func(string) string { return "" }
	if c.Method() == fiber.MethodPost {
		form = func(k string) string { return c.FormValue(k) }
	}
	targets, ok := u.convertChoices(r, object, form)
	if !ok {
		return u.fail(c, fmt.Errorf("%w: %s records have no conversion", engine.ErrNotFound, object))
	}
	obj := s.Object()
	d := convertData{Object: obj, ID: id, Title: titleOf(obj, rec), Kind: obj.Title(r.lang), Targets: targets}
	if fail != nil {
		_, d.Error, d.Details = failure(fail)
	}
	if dup != nil {
		d.Error = tr(r.lang, "convert_duplicates")
		for i := range d.Targets {
			t := &d.Targets[i]
			if t.Choice != "new" || !sameObject(u.sales.Conversion(r.ctx, object), t.Name, dup.Object) {
				continue
			}
			t.Choice, t.Allowed = "", dup.Allowed
			for _, m := range dup.Matches {
				if m.ID == "" {
					t.Hidden++
					continue
				}
				label := m.ID
				for _, v := range m.Title {
					label = fmt.Sprint(v)
				}
				t.Matches = append(t.Matches, optionView{Value: "id:" + m.ID, Label: label})
			}
		}
	}
	p := u.newPage(c, tr(r.lang, "convert_title", d.Kind, d.Title))
	p.Section, p.Data = object, d
	return u.render(c, status, "convert", p)
}

// sameObject reports whether target name of ts is of object.
func sameObject(ts []ConversionTarget, name, object string) bool {
	for _, t := range ts {
		if t.Name == name {
			return t.Object == object
		}
	}
	return false
}

// convert answers POST /ui/o/{object}/{id}/convert: the convert action
// (engine.RunAction: read, right and scope checked there) with the
// user's choices; duplicates found are shown to choose from.
func (u *UI) convert(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	object, id := c.Params("object"), c.Params("id")
	targets, ok := u.convertChoices(r, object, func(k string) string { return c.FormValue(k) })
	if !ok {
		return u.fail(c, fmt.Errorf("%w: %s records have no conversion", engine.ErrNotFound, object))
	}
	input := map[string]any{}
	for _, t := range targets {
		switch {
		case strings.HasPrefix(t.Choice, "id:"):
			input[t.Name] = map[string]any{"id": strings.TrimPrefix(t.Choice, "id:")}
		case t.Choice == "skip":
			input[t.Name] = nil
		default: // created: optional targets only when asked, with the title given
			body := map[string]any{}
			if t.Choice == "create" || t.Optional {
				body["create"] = true
			}
			if t.Title != "" {
				body[t.TitleField] = t.Title
			}
			if len(body) > 0 {
				input[t.Name] = body
			}
		}
	}
	_, err = u.eng.RunAction(r.ctx, object, id, metadata.ActionConvert, input)
	if dup, ok := errorsAs[*engine.DuplicateError](err); ok {
		return u.showConvert(c, fiber.StatusConflict, dup, nil)
	}
	if err != nil {
		status, _, _ := api.Classify(err)
		if status >= 500 || errors.Is(err, engine.ErrNotFound) {
			return u.fail(c, err)
		}
		return u.showConvert(c, status, nil, err)
	}
	return c.Redirect("/ui/o/"+object+"/"+id+"?flash=converted", fiber.StatusSeeOther)
}
