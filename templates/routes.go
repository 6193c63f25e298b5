package templates

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// Builtin describes a template shipped with the product.
type Builtin struct {
	Manifest
	// Sample reports whether it ships sample data.
	Sample bool `json:"sample"`
}

// Builtins lists the built-in templates (the folders of defaults).
func Builtins() ([]Builtin, error) {
	var out []Builtin
	for _, name := range defaults.Names() {
		fsys, err := defaults.FS(name)
		if err != nil {
			return nil, err
		}
		m, _, err := Load(fsys)
		if err != nil {
			return nil, err
		}
		files, err := sampleFiles(fsys)
		if err != nil {
			return nil, err
		}
		out = append(out, Builtin{Manifest: m, Sample: len(files) > 0})
	}
	return out, nil
}

// Routes is the api.Registrar of /api/templates, for administrators:
//
//	GET  /api/templates                      built-in templates and the installed one
//	POST /api/templates/{name}/install       {"plan": bool, "sample": bool}
//	GET  /api/templates/export               {"files": {path: content}}
//	POST /api/templates/diff                 {"files": {path: content}} → {"changes": […]}
func (sv *Service) Routes(r fiber.Router, s *api.Server) {
	r.Get("/api/templates", s.Authenticate, s.RequireAdmin, sv.listRoute)
	r.Get("/api/templates/export", s.Authenticate, s.RequireAdmin, sv.exportRoute)
	r.Post("/api/templates/diff", s.Authenticate, s.RequireJSON, s.RequireAdmin, sv.diffRoute)
	r.Post("/api/templates/:name/install", s.Authenticate, s.RequireJSON, s.RequireAdmin, sv.installRoute)
	r.Post("/api/templates/:name/upgrade", s.Authenticate, s.RequireJSON, s.RequireAdmin, sv.installRoute)
}

// listRoute answers GET /api/templates.
func (sv *Service) listRoute(c *fiber.Ctx) error {
	list, in, err := sv.list(c.UserContext())
	if err != nil {
		return err
	}
	out := fiber.Map{"items": list, "installed": nil}
	if in != nil {
		out["installed"] = in
	}
	return c.JSON(out)
}

// list returns the built-in templates and the installed one (nil when
// none is known): GET /api/templates and the builder's page.
func (sv *Service) list(ctx context.Context) ([]Builtin, *Installed, error) {
	list, err := Builtins()
	if err != nil {
		return nil, nil, err
	}
	in, err := sv.Current(ctx)
	switch {
	case errors.Is(err, ErrNotInstalled):
		return list, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return list, in, nil
}

// installBody is the body of POST /api/templates/{name}/install.
type installBody struct {
	Plan   bool `json:"plan"`
	Sample bool `json:"sample"`
}

// installRoute answers POST /api/templates/{name}/install (and upgrade):
// the plan, and with sample the sample records created.
func (sv *Service) installRoute(c *fiber.Ctx) error {
	var b installBody
	if len(c.Body()) > 0 {
		if err := c.BodyParser(&b); err != nil {
			return &engine.RequestError{Message: "the body is not a JSON object {plan, sample}: " + err.Error()}
		}
	}
	plan, sample, err := sv.install(c.UserContext(), c.Params("name"), b.Plan, b.Sample, AnyVersion)
	if err != nil {
		return err
	}
	out := fiber.Map{"plan": plan}
	if sample != nil {
		out["sample"] = sample
	}
	status := fiber.StatusOK
	if plan.Applied {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(out)
}

// install installs or upgrades the built-in template name as the user of
// ctx (with plan, a dry run; with base, only while metadata is at that
// version: ApplyFrom) and, with sample and not plan, loads its sample
// records: POST /api/templates/{name}/install and upgrade, and the
// builder's page.
func (sv *Service) install(ctx context.Context, name string, plan, sample bool, base int64) (*Plan, *SampleResult, error) {
	fsys, err := defaults.FS(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", engine.ErrNotFound, err)
	}
	p, _ := access.FromContext(ctx)
	pl, err := sv.ApplyFrom(ctx, fsys, p.Username, plan, base)
	if err != nil {
		return pl, nil, err
	}
	if !sample || plan {
		return pl, nil, nil
	}
	res, err := LoadSample(ctx, sv.eng, p, fsys)
	if err != nil {
		return pl, nil, fmt.Errorf("templates: sample records of %s: %w", name, err)
	}
	return pl, res, nil
}

// filesBody is a template folder sent as JSON.
type filesBody struct {
	Files map[string]string `json:"files"`
}

// exportRoute answers GET /api/templates/export.
func (sv *Service) exportRoute(c *fiber.Ctx) error {
	files, err := sv.Export(c.UserContext())
	if err != nil {
		return err
	}
	out := make(map[string]string, len(files))
	for f, b := range files {
		out[f] = string(b)
	}
	return c.JSON(filesBody{Files: out})
}

// diffRoute answers POST /api/templates/diff: the changes installing the
// folder sent would make to the current metadata.
func (sv *Service) diffRoute(c *fiber.Ctx) error {
	var b filesBody
	if err := c.BodyParser(&b); err != nil || len(b.Files) == 0 {
		return &engine.RequestError{Message: "the body is {\"files\": {\"template.yaml\": \"…\", \"objects/x.yaml\": \"…\"}}"}
	}
	files := make(map[string][]byte, len(b.Files))
	for f, content := range b.Files {
		files[f] = []byte(content)
	}
	changes, err := sv.diffFiles(files)
	if err != nil {
		return err
	}
	var described []string
	for _, ch := range changes {
		described = append(described, ch.String())
	}
	return c.JSON(fiber.Map{"changes": changes, "described": described})
}

// diffFiles lists the changes installing the template folder of files
// (path → content) would make to the current metadata: POST
// /api/templates/diff and the builder's page.
func (sv *Service) diffFiles(files map[string][]byte) ([]metadata.Change, error) {
	mfs := fstest.MapFS{}
	for f, content := range files {
		if !fs.ValidPath(f) {
			return nil, &engine.RequestError{Message: "not a file path in a template: " + f}
		}
		mfs[f] = &fstest.MapFile{Data: content}
	}
	return sv.Diff(defaults.WithBases(mfs))
}
