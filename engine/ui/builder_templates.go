package ui

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/gofiber/fiber/v2"
)

// maxTemplateArchive is the largest template archive the compare form
// takes.
const maxTemplateArchive = 16 << 20

// templatesData is the content of the builder's templates page.
type templatesData struct {
	Builtins  []TemplateInfo
	Installed *TemplateInfo
	// Compared is set once an archive was compared: Changes are what
	// installing it would change (none: the same metadata).
	Compared bool
	Changes  []string
	// Created counts the sample records the last install created.
	Created int
	Errors  map[string]string
	General []string
}

// templateRoutes mounts the builder's templates page on the builder's
// group (administrators only), when the templates part is wired.
func (u *UI) templateRoutes(a fiber.Router) {
	if u.tpls == nil {
		return
	}
	a.Get("/templates", u.templatesPage)
	a.Get("/templates/export", u.exportTemplate)
	a.Post("/templates/compare", u.compareTemplate)
	a.Post("/templates/:name/review", u.reviewTemplate)
	a.Post("/templates/:name/apply", u.applyTemplate)
}

// templatesPage answers GET /ui/admin/templates: the built-in templates
// with a review of their install or upgrade, the installed one, export
// and compare.
func (u *UI) templatesPage(c *fiber.Ctx) error {
	created, _ := strconv.Atoi(c.Query("created"))
	return u.showTemplates(c, templatesData{Created: created}, fiber.StatusOK)
}

// showTemplates renders the templates page with d's compare result or
// problems.
func (u *UI) showTemplates(c *fiber.Ctx, d templatesData, status int) error {
	l := lang(c)
	list, in, err := u.tpls.List(c.UserContext(), l)
	if err != nil {
		return u.fail(c, err)
	}
	d.Builtins, d.Installed = list, in
	p := u.newPage(c, tr(l, "solution_templates"))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_templates", p)
}

// reviewTemplate answers POST /ui/admin/templates/{name}/review: the plan
// of installing or upgrading to the template (a dry run with every check
// the install makes), shown as the builder's other changes are, with a
// button to apply it and, when the template ships them, a box to load its
// sample records.
func (u *UI) reviewTemplate(c *fiber.Ctx) error {
	return u.showTemplatePlan(c, false, fiber.StatusOK)
}

// showTemplatePlan plans the install of the template of the path and
// shows the plan (moved: metadata changed since the last review).
func (u *UI) showTemplatePlan(c *fiber.Ctx, moved bool, status int) error {
	name := c.Params("name")
	if _, err := u.eng.Reload(c.UserContext()); err != nil {
		return u.fail(c, err)
	}
	pl, err := u.tpls.Install(c.UserContext(), name, true, false, -1) // a plan: on any version
	if err != nil {
		return u.fail(c, err)
	}
	comment := "install template " + pl.Template
	if pl.From != "" {
		comment = "upgrade template " + pl.From + " → " + pl.Template
	}
	d := planData{Comment: comment, SQL: pl.SQL, Back: "/ui/admin/templates", Moved: moved, Empty: len(pl.Changes) == 0,
		Action: "/ui/admin/templates/" + name + "/apply", Base: pl.Version - 1, Conflicts: pl.Conflicts}
	for _, ch := range pl.Changes {
		d.Changes = append(d.Changes, describeChange(ch))
	}
	list, _, err := u.tpls.List(c.UserContext(), lang(c))
	if err != nil {
		return u.fail(c, err)
	}
	for _, t := range list {
		d.OfferSample = d.OfferSample || t.Name == name && t.Sample
	}
	p := u.newPage(c, tr(lang(c), "review_template", pl.Template))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "plan", p)
}

// applyTemplate answers POST /ui/admin/templates/{name}/apply: installs
// or upgrades to the reviewed template (with its sample records when
// "sample" is ticked), only while metadata is at the reviewed version
// (base): if it changed since the review, even while the install runs,
// nothing is applied and the new plan is shown instead, to be reviewed
// again (409).
func (u *UI) applyTemplate(c *fiber.Ctx) error {
	base, err := strconv.ParseInt(c.FormValue("base"), 10, 64)
	if err != nil || base < 0 {
		return u.fail(c, &engine.RequestError{Message: "the reviewed install is missing its version; review it again"})
	}
	pl, err := u.tpls.Install(c.UserContext(), c.Params("name"), false, c.FormValue("sample") == "true", base)
	if errors.Is(err, engine.ErrStale) {
		return u.showTemplatePlan(c, true, fiber.StatusConflict)
	}
	if err != nil {
		return u.fail(c, err)
	}
	return c.Redirect(fmt.Sprintf("/ui/admin/templates?flash=template_applied&created=%d", pl.Sample), fiber.StatusSeeOther)
}

// exportTemplate answers GET /ui/admin/templates/export: the current
// metadata as a template folder in a zip archive.
func (u *UI) exportTemplate(c *fiber.Ctx) error {
	f, err := u.tpls.Export(c.UserContext())
	if err != nil {
		return u.fail(c, err)
	}
	return sendFile(c, f)
}

// compareTemplate answers POST /ui/admin/templates/compare (a zip archive
// of a template folder in "archive"): the templates page with the changes
// installing it would make to the current metadata; a problem with the
// archive goes next to its input.
func (u *UI) compareTemplate(c *fiber.Ctx) error {
	archive, err := formArchive(c)
	if err == nil {
		var d templatesData
		changes, cerr := u.tpls.Compare(c.UserContext(), archive)
		if cerr == nil {
			d.Compared = true
			for _, ch := range changes {
				d.Changes = append(d.Changes, describeChange(ch))
			}
			return u.showTemplates(c, d, fiber.StatusOK)
		}
		err = cerr
	}
	errs, general := problemMap(err, func(string) string { return "" })
	if len(general) > 0 {
		errs["archive"], general = general[0], general[1:]
	}
	return u.showTemplates(c, templatesData{Errors: errs, General: general}, fiber.StatusUnprocessableEntity)
}

// formArchive reads the archive uploaded in the compare form.
func formArchive(c *fiber.Ctx) ([]byte, error) {
	fh, err := c.FormFile("archive")
	if err != nil || fh.Size == 0 {
		return nil, &engine.RequestError{Message: "choose a zip archive of a template folder"}
	}
	if fh.Size > maxTemplateArchive {
		return nil, &engine.RequestError{Message: fmt.Sprintf("the archive is larger than %d MiB: compare it with crm template diff", maxTemplateArchive>>20)}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("ui: read the uploaded archive: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTemplateArchive))
	if err != nil {
		return nil, fmt.Errorf("ui: read the uploaded archive: %w", err)
	}
	return data, nil
}
