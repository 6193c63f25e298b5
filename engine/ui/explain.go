package ui

import (
	"github.com/crmplatform/crm/engine"
	"github.com/gofiber/fiber/v2"
)

// explainData is the content of the access explanation page: the
// question asked (user, object, record, field), the choices offered, and
// the engine's answer.
type explainData struct {
	User, Object, Record, Field string
	Users                       []optionView
	Objects                     []optionView
	Answer                      *engine.Explanation
	Error                       string
	Details                     []string
}

// explainPage answers GET /ui/admin/access?user=&object=&record=&field=
// (administrators): whether a user may read and edit an object, one of
// its records and one of its fields, which role, policy or rule decided,
// and the actions the user may take (engine.Explain, as GET
// /api/access/explain answers it). "Why can't Li see this deal?"
func (u *UI) explainPage(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	d := explainData{User: c.Query("user"), Object: c.Query("object"), Record: c.Query("record"), Field: c.Query("field")}
	users, err := u.acc.ListUsers(r.ctx)
	if err != nil {
		return u.fail(c, err)
	}
	for _, usr := range users {
		d.Users = append(d.Users, optionView{Value: usr.Username, Label: userLabel(usr), Selected: usr.Username == d.User})
	}
	for _, o := range u.eng.Snapshot().Schema.Objects {
		d.Objects = append(d.Objects, optionView{Value: o.Name, Label: o.Title(r.lang), Selected: o.Name == d.Object})
	}
	status := fiber.StatusOK
	if d.User != "" && d.Object != "" {
		if d.Answer, err = u.eng.Explain(r.ctx, d.User, d.Object, d.Record, d.Field); err != nil {
			status, d.Error, d.Details = failure(err)
		}
	}
	p := u.newPage(c, tr(r.lang, "explain_access"))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_access", p)
}
