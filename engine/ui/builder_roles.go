package ui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// roleData is the content of a role's page: the grid of objects ×
// actions with each object's record scope, the grid of fields × levels,
// and the sharing rules.
type roleData struct {
	Role    *metadata.Role
	Label   string
	LabelEn string
	LabelZh string
	Actions []string
	Objects []rolePermRow
	// Wildcard holds a permission on every object ("*"), kept as it is.
	Wildcard *metadata.ObjectPermission
	Rules    []metadata.SharingRule
	Roles    []string
	ObjNames []string
	Errors   map[string]string
	General  []string
}

// rolePermRow is one object in the role's grid.
type rolePermRow struct {
	Object, Label string
	Actions       []roleCell
	Records       metadata.RecordScope
	Fields        []roleField
}

// roleCell is one action of one object.
type roleCell struct {
	Action string
	On     bool
}

// roleField is a field's level for the role.
type roleField struct {
	Name, Label string
	Level       metadata.FieldLevel
}

// newRole answers POST /ui/admin/roles: a role without rights yet,
// reviewed before it is created.
func (u *UI) newRole(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("role_name"))
	r := &metadata.Role{Name: name, Label: labelOf(c, "role_label")}
	_, exists := findRole(u.eng.Snapshot().Schema, name)
	return u.proposeNew(c, metadata.DocRole, name, r, exists, "role_name", "/ui/admin/roles/"+name)
}

// findRole returns a role of a schema.
func findRole(sc *metadata.Schema, name string) (*metadata.Role, bool) {
	for _, r := range sc.Roles {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// rolePage answers GET /ui/admin/roles/{name}.
func (u *UI) rolePage(c *fiber.Ctx) error {
	if _, err := u.eng.Reload(c.UserContext()); err != nil {
		return u.fail(c, err)
	}
	r, ok := findRole(u.eng.Snapshot().Schema, c.Params("name"))
	if !ok {
		return u.fail(c, fmt.Errorf("%w: no role %s", engine.ErrNotFound, c.Params("name")))
	}
	return u.showRole(c, r, nil, nil, fiber.StatusOK)
}

// showRole renders a role's page.
func (u *UI) showRole(c *fiber.Ctx, r *metadata.Role, errs map[string]string, general []string, status int) error {
	l := lang(c)
	sc := u.eng.Snapshot().Schema
	d := roleData{Role: r, Label: r.Label.Get(l), LabelEn: r.Label["en"], LabelZh: r.Label["zh"], Actions: metadata.Actions(),
		Rules: append(slices.Clone(r.SharingRules), metadata.SharingRule{}), Errors: errs, General: general}
	if d.Label == "" {
		d.Label = r.Name
	}
	for _, other := range sc.Roles {
		if other.Name != r.Name {
			d.Roles = append(d.Roles, other.Name)
		}
	}
	perms := map[string]metadata.ObjectPermission{}
	for _, p := range r.Permissions {
		if p.Object == "*" {
			w := p
			d.Wildcard = &w
			continue
		}
		perms[p.Object] = p
	}
	for _, o := range sc.Objects {
		d.ObjNames = append(d.ObjNames, o.Name)
		p := perms[o.Name]
		row := rolePermRow{Object: o.Name, Label: o.Title(l), Records: p.Records}
		for _, a := range d.Actions {
			row.Actions = append(row.Actions, roleCell{Action: a, On: slices.Contains(p.Actions, a)})
		}
		for _, f := range o.Fields {
			lvl := p.Fields[f.Name]
			if lvl == "" {
				lvl = metadata.FieldEditable
			}
			row.Fields = append(row.Fields, roleField{Name: f.Name, Label: f.Title(l), Level: lvl})
		}
		d.Objects = append(d.Objects, row)
	}
	p := u.newPage(c, tr(l, "builder_role", d.Label))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_role", p)
}

// sharingPath finds the input of a sharing-rule problem.
var sharingPath = regexp.MustCompile(`^/sharing_rules/(\d+)/(name|object|condition|access)`)

// saveRole answers POST /ui/admin/roles/{name}: the role's rights as the
// grids set them, reviewed before they apply (in force at once for every
// user holding the role).
func (u *UI) saveRole(c *fiber.Ctx) error {
	sc := u.eng.Snapshot().Schema
	cur, ok := findRole(sc, c.Params("name"))
	if !ok {
		return u.fail(c, fmt.Errorf("%w: no role %s", engine.ErrNotFound, c.Params("name")))
	}
	r := &metadata.Role{Name: cur.Name, Label: labelOf(c, "label"), Parent: c.FormValue("parent"), Description: strings.TrimSpace(c.FormValue("description"))}
	args := c.Request().PostArgs()
	for _, p := range cur.Permissions {
		if p.Object == "*" && c.FormValue("keep_wildcard") == "true" {
			r.Permissions = append(r.Permissions, p)
		}
	}
	for _, o := range sc.Objects {
		p := metadata.ObjectPermission{Object: o.Name, Records: metadata.RecordScope(c.FormValue("records." + o.Name))}
		for _, a := range metadata.Actions() {
			if c.FormValue("perm."+o.Name+"."+a) == "true" {
				p.Actions = append(p.Actions, a)
			}
		}
		for _, f := range o.Fields {
			if lvl := metadata.FieldLevel(c.FormValue("field." + o.Name + "." + f.Name)); lvl == metadata.FieldHidden || lvl == metadata.FieldReadOnly {
				if p.Fields == nil {
					p.Fields = map[string]metadata.FieldLevel{}
				}
				p.Fields[f.Name] = lvl
			}
		}
		if len(p.Actions) > 0 {
			r.Permissions = append(r.Permissions, p)
		}
	}
	for i := 0; args.Has("share" + strconv.Itoa(i) + "_name"); i++ {
		k := "share" + strconv.Itoa(i) + "_"
		sr := metadata.SharingRule{Name: strings.TrimSpace(c.FormValue(k + "name")), Object: c.FormValue(k + "object"),
			Condition: strings.TrimSpace(c.FormValue(k + "condition")), Access: c.FormValue(k + "access")}
		if sr.Name == "" && sr.Condition == "" {
			continue
		}
		r.SharingRules = append(r.SharingRules, sr)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return u.fail(c, err)
	}
	pr := proposal{Kind: metadata.DocRole, Name: r.Name, Doc: raw, Back: "/ui/admin/roles/" + r.Name, Comment: "update role " + r.Name}
	return u.review(c, pr, func(err error) error {
		errs, general := problemMap(err, func(path string) string {
			if m := sharingPath.FindStringSubmatch(path); m != nil {
				return "share" + m[1] + "_" + m[2]
			}
			return ""
		})
		return u.showRole(c, r, errs, general, fiber.StatusUnprocessableEntity)
	})
}
