package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// builderRoutes mounts the administrators' builder: every change is a
// whole metadata document (an object, a role, a document of another kind)
// put or removed through engine.Change, planned first (a dry run showing
// the changes and the SQL) and applied only when the administrator
// confirms, with the same checks and versioning as the API.
func (u *UI) builderRoutes(g fiber.Router) {
	a := g.Group("/admin", u.adminOnly)
	a.Get("/", u.adminHome)
	a.Post("/apply", u.applyProposal)
	a.Post("/objects", u.newObject)
	a.Get("/objects/:name", u.objectPage)
	a.Post("/objects/:name", u.saveObject)
	a.Post("/objects/:name/delete", u.deleteObject)
	a.Get("/objects/:name/fields/new", u.fieldPage)
	a.Get("/objects/:name/fields/:field", u.fieldPage)
	a.Post("/objects/:name/fields", u.saveField)
	a.Post("/objects/:name/fields/:field/delete", u.deleteField)
	a.Post("/roles", u.newRole)
	a.Get("/roles/:name", u.rolePage)
	a.Post("/roles/:name", u.saveRole)
	a.Post("/roles/:name/delete", u.deleteRole)
	a.Get("/kinds/:kind", u.kindPage)
	a.Get("/kinds/:kind/:name", u.docPage)
	a.Post("/kinds/:kind", u.saveDoc)
	a.Post("/kinds/:kind/:name/delete", u.deleteDoc)
	a.Get("/kinds/:kind/:name/deliveries", u.deliveriesPage)
	a.Post("/kinds/:kind/:name/deliveries/:id/resend", u.resendDelivery)
	a.Get("/access", u.explainPage)
	a.Get("/versions", u.versionsPage)
	a.Get("/versions/:version", u.versionPage)
	u.templateRoutes(a)
}

// adminOnly lets through only administrators (every right on every
// object), as the API's metadata routes do.
func (u *UI) adminOnly(c *fiber.Ctx) error {
	if !u.isAdmin(c) {
		return u.fail(c, fmt.Errorf("%w: only an administrator may use the builder", engine.ErrForbidden))
	}
	return c.Next()
}

// proposal is one metadata change the builder proposes: put (add or
// replace) or remove the document Name of Kind. It travels as JSON in the
// review page's form, so applying it applies exactly what was reviewed.
type proposal struct {
	Kind   string          `json:"kind"`
	Name   string          `json:"name"`
	Delete bool            `json:"delete,omitempty"`
	Doc    json.RawMessage `json:"doc,omitempty"`
	// Base is the metadata version the plan was made at.
	Base int64 `json:"base"`
	// Back is the page to return to.
	Back    string `json:"back"`
	Comment string `json:"comment"`
}

// edit returns the edit of a schema the proposal makes: the document is
// parsed through its kind's JSON Schema (as templates and the API are).
func (pr *proposal) edit() (func(*metadata.Schema) error, error) {
	k, ok := metadata.LookupKind(pr.Kind)
	if !ok {
		return nil, fmt.Errorf("%w: no document kind %q", engine.ErrNotFound, pr.Kind)
	}
	var d *metadata.Document
	if !pr.Delete {
		var ps metadata.Problems
		if d, ps = k.Parse(k.Folder()+"/"+pr.Name, pr.Doc); len(ps) > 0 {
			return nil, ps
		}
		if d.Name != pr.Name {
			return nil, metadata.Problems{{Path: "/name", Message: fmt.Sprintf("the definition names %q, not %q", d.Name, pr.Name)}}
		}
	}
	return func(sc *metadata.Schema) error {
		if pr.Delete {
			if !removeDoc(sc, pr.Kind, pr.Name) {
				return fmt.Errorf("%w: no %s %q", engine.ErrNotFound, pr.Kind, pr.Name)
			}
			return nil
		}
		putDoc(sc, pr.Kind, d)
		return nil
	}, nil
}

// putDoc adds or replaces a document of any kind in a schema.
func putDoc(sc *metadata.Schema, kind string, d *metadata.Document) {
	switch kind {
	case metadata.DocObject:
		o := d.Value.(*metadata.Object)
		for i, cur := range sc.Objects {
			if cur.Name == o.Name {
				sc.Objects[i] = o
				return
			}
		}
		sc.Objects = append(sc.Objects, o)
	case metadata.DocRole:
		r := d.Value.(*metadata.Role)
		for i, cur := range sc.Roles {
			if cur.Name == r.Name {
				sc.Roles[i] = r
				return
			}
		}
		sc.Roles = append(sc.Roles, r)
	default:
		sc.PutDocument(kind, d)
	}
}

// removeDoc removes a document of any kind from a schema.
func removeDoc(sc *metadata.Schema, kind, name string) bool {
	switch kind {
	case metadata.DocObject:
		for i, cur := range sc.Objects {
			if cur.Name == name {
				sc.Objects = append(sc.Objects[:i], sc.Objects[i+1:]...)
				return true
			}
		}
		return false
	case metadata.DocRole:
		for i, cur := range sc.Roles {
			if cur.Name == name {
				sc.Roles = append(sc.Roles[:i], sc.Roles[i+1:]...)
				return true
			}
		}
		return false
	}
	return sc.RemoveDocument(kind, name)
}

// planData is the content of the review page.
type planData struct {
	Proposal string
	Comment  string
	Changes  []string
	SQL      string
	Back     string
	Moved    bool
	Empty    bool
	// Losses say what the change loses (a change refused unless forced);
	// applying it then needs the force box ticked.
	Losses []string
	// Action is where the Apply button posts, with Base (the metadata
	// version reviewed) instead of a proposal: a template's install.
	Action string
	Base   int64
	// Conflicts are a template upgrade's values kept as the
	// administrators changed them; OfferSample offers to load the
	// template's sample records.
	Conflicts   []string
	OfferSample bool
}

// review plans a proposal (a dry run of engine.Change: every check a real
// change makes) and shows the plan with a button to apply it; problems
// go back to the form through problems.
func (u *UI) review(c *fiber.Ctx, pr proposal, problems func(error) error) error {
	edit, err := pr.edit()
	if err != nil {
		return problems(err)
	}
	p, _ := access.FromContext(c.UserContext())
	dry := func(force bool) (*store.Plan, int64, error) {
		return u.eng.Change(c.UserContext(), edit, engine.ApplyOptions{Author: p.Username, Comment: pr.Comment, DryRun: true, Force: force})
	}
	plan, version, err := dry(false)
	var losses []string
	if err != nil {
		// A change that loses data is refused unless forced: when forcing
		// is all it lacks, its plan is shown with what it loses, and
		// applying it needs the administrator's explicit consent.
		var ps metadata.Problems
		fplan, fversion, ferr := dry(true)
		if !errors.As(err, &ps) || ferr != nil {
			return problems(err)
		}
		for _, pb := range ps {
			losses = append(losses, strings.TrimSuffix(pb.Path+": "+pb.Message, store.RefusedUnlessForced))
		}
		plan, version = fplan, fversion
	}
	pr.Base = version - 1
	raw, err := json.Marshal(pr)
	if err != nil {
		return err
	}
	d := planData{Proposal: string(raw), Comment: pr.Comment, SQL: plan.SQL(), Back: pr.Back, Empty: len(plan.Changes) == 0, Losses: losses}
	for _, ch := range plan.Changes {
		d.Changes = append(d.Changes, describeChange(ch))
	}
	pg := u.newPage(c, tr(lang(c), "review_change"))
	pg.Section, pg.Data = "admin", d
	return u.render(c, fiber.StatusOK, "plan", pg)
}

// describeChange writes one planned change for people.
func describeChange(ch metadata.Change) string {
	parts := []string{string(ch.Kind)}
	switch {
	case ch.DocKind != "":
		parts = append(parts, ch.DocKind, ch.Name)
	case ch.Field != "":
		parts = append(parts, ch.Object+"."+ch.Field)
	case ch.Object != "":
		parts = append(parts, ch.Object)
	}
	if len(ch.Options) > 0 {
		parts = append(parts, "("+strings.Join(ch.Options, ", ")+")")
	}
	if ch.Lossy {
		parts = append(parts, "— loses data")
	}
	if ch.Reason != "" {
		parts = append(parts, "— "+ch.Reason)
	}
	return strings.Join(parts, " ")
}

// applyProposal answers POST /ui/admin/apply: the reviewed proposal is
// applied with engine.Change. If metadata changed since the review, the
// new plan is shown instead, to be reviewed again.
func (u *UI) applyProposal(c *fiber.Ctx) error {
	var pr proposal
	if err := json.Unmarshal([]byte(c.FormValue("proposal")), &pr); err != nil {
		return u.fail(c, &engine.RequestError{Message: "the reviewed change is missing or damaged; start again"})
	}
	pr.Back = safeNext(pr.Back)
	if snap := u.eng.Snapshot(); snap.Version != pr.Base {
		if _, err := u.eng.Reload(c.UserContext()); err != nil {
			return u.fail(c, err)
		}
	}
	if u.eng.Snapshot().Version != pr.Base {
		c.Status(fiber.StatusConflict)
		return u.review(c, pr, func(err error) error { return u.fail(c, err) })
	}
	edit, err := pr.edit()
	if err != nil {
		return u.fail(c, err)
	}
	p, _ := access.FromContext(c.UserContext())
	if _, _, err := u.eng.Change(c.UserContext(), edit, engine.ApplyOptions{Author: p.Username, Comment: pr.Comment, Force: c.FormValue("force") == "true"}); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect(pr.Back+flashSep(pr.Back)+"flash=applied", fiber.StatusSeeOther)
}

// flashSep is the separator before a query parameter added to a URL.
func flashSep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// problemMap sorts the problems of a refused change: those whose JSON
// pointer names an input (through name) go next to it, the others are
// returned for the top of the form.
func problemMap(err error, name func(path string) string) (map[string]string, []string) {
	errs := map[string]string{}
	var general []string
	var ps metadata.Problems
	if !errors.As(err, &ps) {
		_, _, details := api.Classify(err)
		if len(details) == 0 {
			return errs, []string{cleanMessage(err.Error())}
		}
		for _, d := range details {
			general = append(general, strings.TrimSpace(d.Field+" "+d.Path+" "+d.Message))
		}
		return errs, general
	}
	for _, p := range ps {
		if key := name(p.Path); key != "" {
			if errs[key] != "" {
				errs[key] += "; "
			}
			errs[key] += p.Message
			continue
		}
		general = append(general, strings.TrimSpace(p.Path+": "+p.Message))
	}
	return errs, general
}

// prettyJSON indents a JSON document for reading and editing.
func prettyJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// binput is one input of a builder form.
type binput struct {
	Name, ID, Label, Value, Error, Help string
	Area, Wide                          bool
	Rows                                int
	Choices                             []optionView
}

// newInput builds a builder input with the problem named after it.
func newInput(name, label, value string, errs map[string]string, help string) binput {
	return binput{Name: name, ID: "b_" + name, Label: label, Value: value, Error: errs[name], Help: help}
}

// builderFuncs are the template functions of the builder's forms.
var builderFuncs = map[string]any{
	"bin": newInput,
	"barea": func(name, label, value string, errs map[string]string, help string) binput {
		in := newInput(name, label, value, errs, help)
		in.Area, in.Wide, in.Rows = true, true, max(3, min(12, strings.Count(value, "\n")+2))
		return in
	},
	"bsel": func(name, label, value string, choices []string, errs map[string]string) binput {
		in := newInput(name, label, value, errs, "")
		in.Choices = append(in.Choices, optionView{Value: "", Label: "—", Selected: value == ""})
		for _, ch := range choices {
			in.Choices = append(in.Choices, optionView{Value: ch, Label: ch, Selected: ch == value})
		}
		return in
	},
	"boolStr": strconv.FormatBool,
	"list":    func(s ...string) []string { return s },
	"join":    strings.Join,
	"fieldNamesOf": func(o *metadata.Object) []string {
		out := make([]string, len(o.Fields))
		for i, f := range o.Fields {
			out[i] = f.Name
		}
		return out
	},
	"actionName": actionLabel,
	"diffClass": func(op string) string {
		switch op {
		case "+":
			return "add"
		case "-":
			return "del"
		}
		return "same"
	},
}
