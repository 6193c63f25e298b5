package ui

import (
	"strings"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// sharesData is the content of a record's sharing page.
type sharesData struct {
	Object    *metadata.Object
	ID, Title string
	Label     string
	Shares    []shareView
	// Users are those the record may be shared with: the active users
	// other than its owner.
	Users []optionView
	// Details names the objects whose records are details of this one
	// (metadata.MasterOf), which a share of it shares too.
	Details string
}

// shareView is one user a record is shared with.
type shareView struct {
	UserID, User, Access, Since string
}

// sharesPage answers GET /ui/o/{object}/{id}/shares: who the record is
// shared with and for what, with the forms to share it with another user
// and to end a share. Like the API, it is for those who may transfer the
// record (engine.Shares decides; anyone else is refused).
func (u *UI) sharesPage(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	object, id := c.Params("object"), c.Params("id")
	shares, err := u.eng.Shares(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	rec, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	d := sharesData{Object: obj, ID: id, Title: titleOf(obj, rec), Label: obj.Title(r.lang), Details: detailsOf(u.eng.Snapshot().Schema, obj.Name, r.lang)}
	shared := map[string]bool{}
	for _, sh := range shares {
		shared[sh.UserID] = true
		d.Shares = append(d.Shares, shareView{UserID: sh.UserID, User: r.userName(sh.UserID), Access: tr(r.lang, "share_"+sh.Access),
			Since: sh.CreatedAt.In(r.loc).Format("2006-01-02 15:04")})
	}
	users, err := u.userChoices(r)
	if err != nil {
		return u.fail(c, err)
	}
	owner, _ := rec[metadata.OwnerField].(string)
	for _, o := range users {
		if o.Value != owner && !shared[o.Value] {
			d.Users = append(d.Users, o)
		}
	}
	p := u.newPage(c, tr(r.lang, "sharing_of", d.Title))
	p.Section, p.Data = object, d
	return u.render(c, fiber.StatusOK, "shares", p)
}

// share answers POST /ui/o/{object}/{id}/shares: the record shared with
// the form's user for its access (read or edit), through engine.Share.
func (u *UI) share(c *fiber.Ctx) error {
	level := c.FormValue("access", access.ShareRead)
	if _, err := u.eng.Share(c.UserContext(), c.Params("object"), c.Params("id"), c.FormValue("user"), level); err != nil {
		return u.fail(c, err)
	}
	return u.backToShares(c, "shared")
}

// unshare answers POST /ui/o/{object}/{id}/shares/{user}/delete: the
// user's share ended, through engine.Unshare.
func (u *UI) unshare(c *fiber.Ctx) error {
	if err := u.eng.Unshare(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("user")); err != nil {
		return u.fail(c, err)
	}
	return u.backToShares(c, "unshared")
}

// backToShares sends the browser back to the record's sharing page with
// a flash message.
func (u *UI) backToShares(c *fiber.Ctx, flash string) error {
	return c.Redirect("/ui/o/"+c.Params("object")+"/"+c.Params("id")+"/shares?flash="+flash, fiber.StatusSeeOther)
}

// detailsOf names, in lang and joined by commas, the objects whose records
// are details of records of object (metadata.MasterOf: a quote's lines).
func detailsOf(schema *metadata.Schema, object, lang string) string {
	var names []string
	for _, o := range schema.Objects {
		for _, f := range o.Fields {
			if master, ok := metadata.MasterOf(f); ok && master == object {
				names = append(names, pluralTitle(o, lang))
				break
			}
		}
	}
	if lang == "zh" {
		return strings.Join(names, "、")
	}
	return strings.Join(names, ", ")
}
