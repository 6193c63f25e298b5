package ui

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// mailingData is the mailing page of a campaign: the form, the preview
// asked for, and the campaign's mailings.
type mailingData struct {
	Object    *metadata.Object
	ID, Title string
	Templates []MailingTemplate
	Request   MailingRequest
	Preview   *MailingPreview
	Mailings  []MailingSummary
	// CountNames are the counts a mailing's row shows, in order.
	CountNames []string
	Error      string
	Details    []string
}

// mailingPage answers GET /ui/o/{object}/{id}/{action}, the mailings'
// action (Config.Mailings; send_mailing on campaigns): the form and the
// record's mailings.
func (u *UI) mailingPage(c *fiber.Ctx) error {
	r, s, err := u.mailingScope(c)
	if err != nil {
		return u.fail(c, err)
	}
	return u.showMailing(c, r, s, nil, nil)
}

// mailing answers POST /ui/o/{object}/{id}/{action}: _do is preview
// (the page again, with the recipients' counts and first messages), test
// (the first message to the user) or send (queued, back to the page).
func (u *UI) mailing(c *fiber.Ctx) error {
	r, s, err := u.mailingScope(c)
	if err != nil {
		return u.fail(c, err)
	}
	id, req := c.Params("id"), mailingRequest(c)
	switch c.FormValue("_do") {
	case "preview":
		p, err := u.mail.Preview(r.ctx, id, req)
		return u.showMailing(c, r, s, p, err)
	case "test":
		err = u.mail.Test(r.ctx, id, req)
	case "send":
		err = u.mail.Send(r.ctx, id, req)
	default:
		err = &engine.RequestError{Message: "preview, test or send the mailing"}
	}
	if err != nil {
		return u.showMailing(c, r, s, nil, err)
	}
	flash := map[string]string{"test": "mailing_tested", "send": "mailing_queued"}[c.FormValue("_do")]
	return c.Redirect(c.Path()+"?flash="+flash, fiber.StatusSeeOther)
}

// showMailing renders the mailing page of the record of the path, read
// through s (mailingScope), with a preview or a failure and the form as
// the user filled it (on a POST).
func (u *UI) showMailing(c *fiber.Ctx, r *rq, s *engine.Scope, preview *MailingPreview, fail error) error {
	object, id := s.Object().Name, c.Params("id")
	rec, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	d := mailingData{Object: obj, ID: id, Title: titleOf(obj, rec), Templates: u.mail.Templates(r.ctx, r.lang), Preview: preview, Request: MailingRequest{Track: true, Language: r.lang},
		CountNames: []string{"recipients", "sent", "opened", "clicked", "unsubscribed", "failed"}}
	if c.Method() == fiber.MethodPost {
		d.Request = mailingRequest(c)
	}
	if d.Mailings, err = u.mail.List(r.ctx, id); err != nil {
		return u.fail(c, err)
	}
	for i, m := range d.Mailings {
		if j := slices.IndexFunc(d.Templates, func(t MailingTemplate) bool { return t.Name == m.Template }); j >= 0 {
			d.Mailings[i].Template = d.Templates[j].Label // a template since removed keeps its name
		}
	}
	status := fiber.StatusOK
	if fail != nil {
		if status, d.Error, d.Details = failure(fail); status >= 500 {
			return u.fail(c, fail)
		}
	}
	p := u.newPage(c, tr(r.lang, "mailing_title", d.Title))
	p.Section, p.Data = object, d
	return u.render(c, status, "mailing", p)
}

// mailingRequest reads the mailing form.
func mailingRequest(c *fiber.Ctx) MailingRequest {
	return MailingRequest{Template: c.FormValue("template"), Filter: c.FormValue("filter"), Members: c.FormValue("members") != "", Track: c.FormValue("track") != "",
		Language: c.FormValue("language")}
}

// mailingScope checks that the path's object has the mailings' action and
// that the user may read it and run the action on it.
func (u *UI) mailingScope(c *fiber.Ctx) (*rq, *engine.Scope, error) {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(u.eng.ActionsOf(s.Object().Name), func(a engine.Action) bool { return a.Name == u.mail.Action() }) {
		return nil, nil, fmt.Errorf("%w: %s records have no mailings", engine.ErrNotFound, s.Object().Name)
	}
	if err := s.Can(u.mail.Action()); err != nil {
		return nil, nil, err
	}
	return r, s, nil
}
