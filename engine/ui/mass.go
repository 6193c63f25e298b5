package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// massData is the page that updates or deletes the records selected in a
// list: the step it is at, the records, and for an update the fields the
// user may set and the chosen field's input.
type massData struct {
	Object *metadata.Object
	// Do is the step: "update" (choose a field, then its value) or
	// "delete" (confirm).
	Do     string
	IDs    []string
	Fields []fieldChoice
	// Field is the chosen field's name and Input its input.
	Field string
	Input *formField
	Error string
}

// ownerChoice is the mass update's choice of the records' owner (a
// transfer), for users holding the transfer right.
const ownerChoice = metadata.OwnerField

// mass answers POST /ui/o/{object}/mass: the records a list's checkboxes
// selected (id, repeated), updated or deleted together, all or none
// (Engine.UpdateMany, DeleteMany, the checks of each record's own write).
// "_do" is the step: "update" shows the fields the user may set and, once
// one is chosen (field), its input; "apply" sets it; "delete" asks to
// confirm and "delete_confirmed" deletes. Each ends on the list with a
// message, or on the page with the error, naming the record that failed.
func (u *UI) mass(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	form := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { form.Add(string(k), string(v)) })
	d := massData{Object: obj, Do: form.Get("_do"), IDs: form["id"], Field: form.Get("_field")}
	if len(d.IDs) == 0 {
		return u.fail(c, &engine.RequestError{Message: tr(r.lang, "select_records_first")})
	}
	switch d.Do {
	case "delete_confirmed":
		if _, err := u.eng.DeleteMany(r.ctx, obj.Name, d.IDs); err != nil {
			d.Do, d.Error = "delete", u.massError(r, obj, err)
			return u.showMass(c, r, d, fiber.StatusUnprocessableEntity)
		}
		return c.Redirect("/ui/o/"+obj.Name+"?flash=records_deleted", fiber.StatusSeeOther)
	case "delete":
		return u.showMass(c, r, d, fiber.StatusOK)
	case "update", "apply":
	default:
		return u.fail(c, &engine.RequestError{Message: fmt.Sprintf("unknown step %q", d.Do)})
	}
	d.Fields = massFields(r, s)
	if d.Field == "" {
		d.Do = "update"
		return u.showMass(c, r, d, fiber.StatusOK)
	}
	in, err := u.massInput(r, s, d.Field, formValues(form))
	if err != nil {
		return u.fail(c, err)
	}
	d.Input = in
	if d.Do == "update" || form.Get("_shown") != d.Field {
		// A field chosen anew shows its input first: its value was not given.
		d.Do = "update"
		return u.showMass(c, r, d, fiber.StatusOK)
	}
	var v any
	if d.Field == ownerChoice {
		v = form.Get(ownerChoice)
	} else {
		f, _ := obj.Field(d.Field)
		if v, err = fromForm(f, form[d.Field], r.loc); err != nil {
			d.Do, d.Error = "update", err.Error()
			return u.showMass(c, r, d, fiber.StatusUnprocessableEntity)
		}
	}
	if _, err := u.eng.UpdateMany(r.ctx, obj.Name, d.IDs, map[string]any{d.Field: v}); err != nil {
		d.Do, d.Error = "update", u.massError(r, obj, err)
		return u.showMass(c, r, d, fiber.StatusUnprocessableEntity)
	}
	return c.Redirect("/ui/o/"+obj.Name+"?flash=records_updated", fiber.StatusSeeOther)
}

// massFields lists what a mass update may set: the fields the user may
// edit that a form can take (no computed fields, no files), and the owner
// for holders of the transfer right.
func massFields(r *rq, s *engine.Scope) []fieldChoice {
	var out []fieldChoice
	if s.Can(metadata.ActionTransfer) == nil {
		out = append(out, fieldChoice{Name: ownerChoice, Label: tr(r.lang, "prop_owner")})
	}
	for _, fv := range s.Describe().Fields {
		if fv.Access == engine.AccessEdit && !metadata.Computed(fv.Field) && !metadata.IsFile(fv.Field) {
			out = append(out, fieldChoice{Name: fv.Name, Label: fv.Title(r.lang)})
		}
	}
	return out
}

// massInput is the input of the field a mass update sets, with the value
// sent so far: a field's form input, or the choice of a user for the
// owner. A field the user may not set is refused.
func (u *UI) massInput(r *rq, s *engine.Scope, field string, vals formValues) (*formField, error) {
	for _, fc := range massFields(r, s) {
		if fc.Name != field {
			continue
		}
		if field == ownerChoice {
			users, err := u.userChoices(r)
			if err != nil {
				return nil, err
			}
			for i := range users {
				users[i].Selected = users[i].Value == vals.first(field)
			}
			return &formField{Name: field, ID: "f_" + field, Label: fc.Label, Kind: metadata.InputSelect, Required: true, Options: users, Object: s.Object().Name}, nil
		}
		for _, fv := range s.Describe().Fields {
			if fv.Name == field {
				ff, err := r.formField(s.Object(), fv, vals, "", nil, nil)
				return &ff, err
			}
		}
	}
	return nil, &engine.RequestError{Message: tr(r.lang, "mass_field_refused"), Details: []engine.FieldError{{Field: field, Code: "forbidden", Message: field}}}
}

// massError says why a mass update or delete failed: the record that
// refused it (named by its title when the user may read it) and why.
func (u *UI) massError(r *rq, obj *metadata.Object, err error) string {
	var be *engine.BatchError
	if !errors.As(err, &be) {
		return errText(r.lang, err)
	}
	name := be.ID
	if rec, gerr := u.eng.Get(r.ctx, obj.Name, be.ID); gerr == nil {
		name = titleOf(obj, rec)
	}
	return tr(r.lang, "mass_failed_on", name, errText(r.lang, be.Err))
}

// errText says err in lang as the error page does: each detail's problem
// (a field's, a rule's), else the message.
func errText(lang string, err error) string {
	_, code, details := api.Classify(err)
	if len(details) == 0 {
		return pageMessage(lang, code, err.Error())
	}
	parts := make([]string, len(details))
	for i, d := range details {
		parts[i] = detailText(lang, d)
		if d.Field != "" && lang == "en" {
			parts[i] = d.Field + ": " + parts[i]
		}
	}
	return strings.Join(parts, "; ")
}

// showMass renders the mass update or delete page.
func (u *UI) showMass(c *fiber.Ctx, r *rq, d massData, status int) error {
	key := "mass_update_title"
	if d.Do == "delete" {
		key = "mass_delete_title"
	}
	p := u.newPage(c, tr(r.lang, key, len(d.IDs)))
	p.Section = d.Object.Name
	p.Data = d
	return u.render(c, status, "mass", p)
}
