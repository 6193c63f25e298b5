package ui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// adminData is the content of the builder's first page.
type adminData struct {
	Objects []adminItem
	Roles   []adminItem
	Kinds   []adminItem
	Version int64
	Errors  map[string]string
	General []string
	Form    map[string]string
	// Templates links the templates page (when the part is wired).
	Templates bool
}

// adminItem is a definition listed in the builder.
type adminItem struct {
	Name, Label string
	Count       int
}

// adminHome answers GET /ui/admin/: objects, roles, other document kinds,
// the version list, and forms for a new object and a new role.
func (u *UI) adminHome(c *fiber.Ctx) error {
	return u.showAdminHome(c, nil, nil, fiber.StatusOK)
}

// showAdminHome renders the builder's first page with the problems of a
// refused new object or role.
func (u *UI) showAdminHome(c *fiber.Ctx, errs map[string]string, general []string, status int) error {
	if _, err := u.eng.Reload(c.UserContext()); err != nil {
		return u.fail(c, err)
	}
	snap := u.eng.Snapshot()
	l := lang(c)
	d := adminData{Version: snap.Version, Errors: errs, General: general, Form: map[string]string{}, Templates: u.tpls != nil}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { d.Form[string(k)] = string(v) })
	for _, o := range snap.Schema.Objects {
		d.Objects = append(d.Objects, adminItem{Name: o.Name, Label: o.Title(l), Count: len(o.Fields)})
	}
	for _, r := range snap.Schema.Roles {
		d.Roles = append(d.Roles, adminItem{Name: r.Name, Label: r.Label.Get(l)})
	}
	for _, k := range metadata.DocKinds() {
		if !k.Builtin() {
			d.Kinds = append(d.Kinds, adminItem{Name: k.Name(), Count: len(snap.Schema.Documents(k.Name()))})
		}
	}
	p := u.newPage(c, tr(l, "builder"))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin", p)
}

// labelOf reads a label from the inputs <prefix>_en and <prefix>_zh.
func labelOf(c *fiber.Ctx, prefix string) metadata.Label {
	l := metadata.Label{}
	for _, lang := range languages {
		if v := strings.TrimSpace(c.FormValue(prefix + "_" + lang)); v != "" {
			l[lang] = v
		}
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// newObject answers POST /ui/admin/objects: a new object with a name
// field as its title, reviewed before it is created.
func (u *UI) newObject(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	o := &metadata.Object{Name: name, Label: labelOf(c, "label"), PluralLabel: labelOf(c, "plural"), TitleField: "name",
		Fields: []*metadata.Field{{Name: "name", Type: "text", Label: metadata.Label{"en": "Name", "zh": "名称"}, Required: true, MaxLength: 120}}}
	_, exists := u.eng.Snapshot().Schema.Object(name)
	return u.proposeNew(c, metadata.DocObject, name, o, exists, "name", "/ui/admin/objects/"+name)
}

// proposeNew reviews a new document made on the builder's first page;
// a taken name, or problems, show that page again with them next to the
// inputs (the name's is nameInput).
func (u *UI) proposeNew(c *fiber.Ctx, kind, name string, doc any, exists bool, nameInput, back string) error {
	if exists {
		return u.showAdminHome(c, map[string]string{nameInput: tr(lang(c), "name_taken")}, nil, fiber.StatusConflict)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return u.fail(c, err)
	}
	pr := proposal{Kind: kind, Name: name, Doc: raw, Back: back, Comment: "create " + strings.TrimSuffix(kind, "s") + " " + name}
	return u.review(c, pr, func(err error) error {
		errs, general := problemMap(err, func(path string) string {
			if path == "/name" {
				return nameInput
			}
			return ""
		})
		return u.showAdminHome(c, errs, general, fiber.StatusUnprocessableEntity)
	})
}

// objectData is the content of an object's builder page.
type objectData struct {
	Object *metadata.Object
	Label  string
	Fields []fieldRow
	Rules  []ruleRow
	// Indexes are the declared indexes as their inputs show them (the
	// last one empty, to add one); Automatic those the engine keeps by
	// itself on the object's table.
	Indexes   []indexRow
	Automatic []autoIndex
	Types     []string
	Errors    map[string]string
	General   []string
	// Titles are the fields that may name records.
	Titles []string
}

// fieldRow is a field in the object's table.
type fieldRow struct {
	Name, Label, Type, Notes string
}

// ruleRow is a validation rule as its inputs show it (the last one empty,
// to add one).
type ruleRow struct {
	Index                                int
	Name, Condition, Field, MsgEn, MsgZh string
}

// indexRow is a declared index as its inputs show it: the fields one per
// line ("-" before a name for descending).
type indexRow struct {
	Index  int
	Fields string
	Unique bool
	// New marks the empty row that adds an index.
	New bool
}

// autoIndex is an index the engine keeps without a declaration.
type autoIndex struct {
	Name, Columns, Why string
}

// objectPage answers GET /ui/admin/objects/{name}.
func (u *UI) objectPage(c *fiber.Ctx) error {
	o, err := u.adminObject(c)
	if err != nil {
		return u.fail(c, err)
	}
	return u.showObject(c, o, nil, nil, fiber.StatusOK)
}

// adminObject returns the object of the path in the newest metadata.
func (u *UI) adminObject(c *fiber.Ctx) (*metadata.Object, error) {
	if _, err := u.eng.Reload(c.UserContext()); err != nil {
		return nil, err
	}
	o, err := u.eng.Snapshot().Object(c.Params("name"))
	if err != nil {
		return nil, err
	}
	return o.Clone(), nil
}

// showObject renders an object's builder page (o may hold edits refused).
func (u *UI) showObject(c *fiber.Ctx, o *metadata.Object, errs map[string]string, general []string, status int) error {
	l := lang(c)
	d := objectData{Object: o, Label: o.Title(l), Types: metadata.FieldTypeNames(), Errors: errs, General: general}
	for _, f := range o.Fields {
		var notes []string
		for _, n := range []struct {
			on   bool
			text string
		}{{f.Required, tr(l, "note_required")}, {f.Unique, tr(l, "note_unique")}, {f.Formula != "", tr(l, "note_formula")}, {f.DependsOn != "", tr(l, "note_depends_on", f.DependsOn)}, {f.Target != "", "→ " + f.Target}, {f.Tracked, tr(l, "note_tracked")}} {
			if n.on {
				notes = append(notes, n.text)
			}
		}
		d.Fields = append(d.Fields, fieldRow{Name: f.Name, Label: f.Title(l), Type: f.Type, Notes: strings.Join(notes, tr(l, "note_sep"))})
		if metadata.FormInput(f).Kind == metadata.InputText {
			d.Titles = append(d.Titles, f.Name)
		}
	}
	for i, r := range append(slices.Clone(o.ValidationRules), metadata.ValidationRule{}) {
		d.Rules = append(d.Rules, ruleRow{Index: i, Name: r.Name, Condition: r.Condition, Field: r.Field, MsgEn: r.Message["en"], MsgZh: r.Message["zh"]})
	}
	for i, ix := range o.Indexes {
		d.Indexes = append(d.Indexes, indexRow{Index: i, Fields: strings.Join(ix.Fields, "\n"), Unique: ix.Unique})
	}
	d.Indexes = append(d.Indexes, indexRow{Index: len(o.Indexes), New: true})
	d.Automatic = u.automaticIndexes(o.Name)
	p := u.newPage(c, tr(l, "builder_object", o.Title(l)))
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_object", p)
}

// automaticIndexes lists the indexes the engine keeps on the table of
// object without a declaration (engine.WantedIndexes, the owner index,
// the fields sharing rules test and what roll-ups read), as the current metadata wants them.
func (u *UI) automaticIndexes(object string) []autoIndex {
	var out []autoIndex
	snap := u.eng.Snapshot()
	for _, ix := range engine.WantedIndexes(u.eng.DB().Dialect, snap.Schema, snap.Formulas()) {
		if ix.Table != object || strings.HasPrefix(ix.Why, "declared") {
			continue
		}
		cols := make([]string, len(ix.Columns))
		for i, col := range ix.Columns {
			cols[i] = col.Name
			if col.Desc {
				cols[i] = "-" + col.Name
			}
		}
		out = append(out, autoIndex{Name: ix.Name(), Columns: strings.Join(cols, ", "), Why: ix.Why})
	}
	return out
}

// rulePath finds the input of a validation rule problem.
var rulePath = regexp.MustCompile(`^/validation_rules/(\d+)/(name|condition|message|field)`)

// indexPath finds the input of a declared index's problem.
var indexPath = regexp.MustCompile(`^/indexes/(\d+)(/|$)`)

// readIndexes reads the declared indexes of the object form: rows
// index<i>_fields (one field per line or separated by commas),
// index<i>_unique and index<i>_remove; an empty row adds nothing. ok is
// false when the form has no index rows, which leaves the indexes as
// they are.
func readIndexes(c *fiber.Ctx) (ixs []metadata.Index, ok bool) {
	args := c.Request().PostArgs()
	for i := 0; args.Has("index" + strconv.Itoa(i) + "_fields"); i++ {
		ok = true
		p := "index" + strconv.Itoa(i) + "_"
		if c.FormValue(p+"remove") == "true" {
			continue
		}
		fields := strings.FieldsFunc(c.FormValue(p+"fields"), func(r rune) bool { return r == '\n' || r == '\r' || r == ',' })
		ix := metadata.Index{Unique: c.FormValue(p+"unique") == "true"}
		for _, f := range fields {
			if f = strings.TrimSpace(f); f != "" {
				ix.Fields = append(ix.Fields, f)
			}
		}
		if len(ix.Fields) > 0 {
			ixs = append(ixs, ix)
		}
	}
	return ixs, ok
}

// saveObject answers POST /ui/admin/objects/{name}: the object's labels,
// title field, validation rules (conditions checked as formulas, with
// their line and column) and declared indexes, reviewed before they apply
// (the plan shows the CREATE and DROP INDEX statements).
func (u *UI) saveObject(c *fiber.Ctx) error {
	o, err := u.adminObject(c)
	if err != nil {
		return u.fail(c, err)
	}
	o.Label, o.PluralLabel, o.TitleField = labelOf(c, "label"), labelOf(c, "plural"), c.FormValue("title_field")
	o.Description = strings.TrimSpace(c.FormValue("description"))
	o.ValidationRules = nil
	args := c.Request().PostArgs()
	for i := 0; args.Has("rule" + strconv.Itoa(i) + "_name"); i++ {
		p := "rule" + strconv.Itoa(i) + "_"
		name, cond := strings.TrimSpace(c.FormValue(p+"name")), c.FormValue(p+"condition")
		if name == "" && strings.TrimSpace(cond) == "" {
			continue // the empty row for a new rule
		}
		o.ValidationRules = append(o.ValidationRules, metadata.ValidationRule{Name: name, Condition: cond, Field: c.FormValue(p + "field"), Message: labelOf(c, p+"msg")})
	}
	if ixs, ok := readIndexes(c); ok {
		o.Indexes = ixs
	}
	return u.proposeObject(c, o, "update object "+o.Name, func(path string) string {
		if m := rulePath.FindStringSubmatch(path); m != nil {
			if m[2] == "message" {
				return "rule" + m[1] + "_msg_en"
			}
			return "rule" + m[1] + "_" + m[2]
		}
		if m := indexPath.FindStringSubmatch(path); m != nil {
			return "index" + m[1] + "_fields"
		}
		for _, k := range []string{"label", "plural_label", "title_field", "description"} {
			if strings.HasPrefix(path, "/"+k) {
				return k
			}
		}
		return ""
	}, func(errs map[string]string, general []string) error {
		return u.showObject(c, o, errs, general, fiber.StatusUnprocessableEntity)
	})
}

// proposeObject reviews a changed object; problems go to onProblem with
// the inputs inputOf names.
func (u *UI) proposeObject(c *fiber.Ctx, o *metadata.Object, comment string, inputOf func(string) string, onProblem func(map[string]string, []string) error) error {
	raw, err := json.Marshal(o)
	if err != nil {
		return u.fail(c, err)
	}
	pr := proposal{Kind: metadata.DocObject, Name: o.Name, Doc: raw, Back: "/ui/admin/objects/" + o.Name, Comment: comment}
	return u.review(c, pr, func(err error) error {
		if status, _, _ := api.Classify(err); status >= 500 {
			return u.fail(c, err)
		}
		errs, general := problemMap(err, inputOf)
		return onProblem(errs, general)
	})
}

// deleteObject answers POST /ui/admin/objects/{name}/delete (reviewed:
// the table is archived).
func (u *UI) deleteObject(c *fiber.Ctx) error { return u.reviewDelete(c, metadata.DocObject, "object") }

// deleteRole answers POST /ui/admin/roles/{name}/delete: the role's
// removal, reviewed before it applies. A role another role names as its
// parent is refused by the schema's checks, one a user holds by the
// synchronisation of roles when the change applies.
func (u *UI) deleteRole(c *fiber.Ctx) error { return u.reviewDelete(c, metadata.DocRole, "role") }

// reviewDelete reviews the removal of the document of kind named by the
// route, back to the builder's home once applied.
func (u *UI) reviewDelete(c *fiber.Ctx, kind, what string) error {
	name := c.Params("name")
	pr := proposal{Kind: kind, Name: name, Delete: true, Back: "/ui/admin", Comment: "delete " + what + " " + name}
	return u.review(c, pr, func(err error) error { return u.fail(c, err) })
}

// fieldData is the content of the field editor.
type fieldData struct {
	Object  *metadata.Object
	Field   fieldForm
	New     bool
	Types   []string
	Objects []string
	// Controllers are the fields that may control a cascade.
	Controllers []string
	Errors      map[string]string
	General     []string
	// Has says which option groups apply to the type.
	Has map[string]bool
}

// fieldForm is a field definition as the editor's inputs hold it.
type fieldForm struct {
	Name, Type, LabelEn, LabelZh, HelpEn, HelpZh  string
	Required, Unique, Tracked, MasterDetail       bool
	Default, DefaultFormula, Formula              string
	MaxLength, Min, Max, Scale, Pattern, Format   string
	Target, OnDelete, DependsOn, Options, MaxSize string
	Accept, Visibility                            string
}

// fieldPage answers GET /ui/admin/objects/{name}/fields/{field} (and
// …/fields/new?type=…): the field editor.
func (u *UI) fieldPage(c *fiber.Ctx) error {
	o, err := u.adminObject(c)
	if err != nil {
		return u.fail(c, err)
	}
	ff := fieldForm{Type: c.Query("type", "text")}
	isNew := c.Params("field") == ""
	if !isNew {
		f, ok := o.Field(c.Params("field"))
		if !ok {
			return u.fail(c, fmt.Errorf("%w: %s has no field %s", engine.ErrNotFound, o.Name, c.Params("field")))
		}
		ff = formOfField(f)
		if t := c.Query("type"); t != "" {
			ff.Type = t
		}
	}
	return u.showField(c, o, ff, isNew, nil, nil, fiber.StatusOK)
}

// showField renders the field editor.
func (u *UI) showField(c *fiber.Ctx, o *metadata.Object, ff fieldForm, isNew bool, errs map[string]string, general []string, status int) error {
	d := fieldData{Object: o, Field: ff, New: isNew, Types: metadata.FieldTypeNames(), Errors: errs, General: general, Has: typeGroups(ff.Type)}
	for _, other := range u.eng.Snapshot().Schema.Objects {
		d.Objects = append(d.Objects, other.Name)
	}
	for _, f := range o.Fields {
		if _, ok := metadata.TypeOf(f).(metadata.Controller); ok && f.Name != ff.Name {
			d.Controllers = append(d.Controllers, f.Name)
		}
	}
	title := tr(lang(c), "builder_field", o.Name+"."+ff.Name)
	if isNew {
		title = tr(lang(c), "builder_new_field", o.Title(lang(c)))
	}
	p := u.newPage(c, title)
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_field", p)
}

// typeGroups says which option groups of the editor apply to a type, from
// the type's abilities (so a registered type gets the right inputs).
func typeGroups(typ string) map[string]bool {
	t, ok := metadata.LookupFieldType(typ)
	if !ok {
		return map[string]bool{}
	}
	f := &metadata.Field{Name: "x", Type: typ, Target: "x"}
	_, cascader := t.(metadata.Cascader)
	_, referencer := t.(metadata.Referencer)
	_, assigner := t.(metadata.Assigner)
	_, filer := t.(metadata.Filer)
	linker, isLinker := t.(metadata.Linker)
	linked := isLinker && linker.InLinkTable(f)
	k := t.Kind()
	text := k == metadata.KindString && !cascader && !assigner
	return map[string]bool{
		"options": cascader, "target": referencer, "format": assigner, "file": filer,
		"text": text, "number": k.Numeric(), "scale": k == metadata.KindMoney || k == metadata.KindFloat,
		"formula": !assigner && !filer && !linked,
	}
}

// formOfField fills the editor's inputs from a field.
func formOfField(f *metadata.Field) fieldForm {
	ff := fieldForm{Name: f.Name, Type: f.Type, LabelEn: f.Label["en"], LabelZh: f.Label["zh"], HelpEn: f.Help["en"], HelpZh: f.Help["zh"],
		Required: f.Required, Unique: f.Unique, Tracked: f.Tracked, MasterDetail: f.MasterDetail, DefaultFormula: f.DefaultFormula, Formula: f.Formula,
		Pattern: f.Pattern, Format: f.Format, Target: f.Target, OnDelete: f.OnDelete, DependsOn: f.DependsOn,
		Accept: strings.Join(f.Accept, ", "), Visibility: f.Visibility}
	if f.Default != nil {
		if s, ok := f.Default.(string); ok {
			ff.Default = s
		} else if b, err := json.Marshal(f.Default); err == nil {
			ff.Default = string(b)
		}
	}
	if f.MaxLength > 0 {
		ff.MaxLength = strconv.Itoa(f.MaxLength)
	}
	if f.Min != nil {
		ff.Min = strconv.FormatFloat(*f.Min, 'f', -1, 64)
	}
	if f.Max != nil {
		ff.Max = strconv.FormatFloat(*f.Max, 'f', -1, 64)
	}
	if f.Scale != nil {
		ff.Scale = strconv.Itoa(*f.Scale)
	}
	if f.MaxSize > 0 {
		ff.MaxSize = strconv.FormatInt(f.MaxSize, 10)
	}
	var lines []string
	for _, o := range f.Options {
		line := o.Value + " | " + o.Label["en"] + " | " + o.Label["zh"] + " | " + strings.Join(o.When, ", ")
		var attrs []string
		for k, v := range o.Attrs {
			attrs = append(attrs, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(attrs)
		if len(attrs) > 0 {
			line += " | " + strings.Join(attrs, ", ")
		}
		lines = append(lines, strings.TrimRight(line, " |"))
	}
	ff.Options = strings.Join(lines, "\n")
	return ff
}

// readFieldForm reads the editor's inputs.
func readFieldForm(c *fiber.Ctx) fieldForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return fieldForm{Name: v("name"), Type: v("type"), LabelEn: v("label_en"), LabelZh: v("label_zh"), HelpEn: v("help_en"), HelpZh: v("help_zh"),
		Required: c.FormValue("required") == "true", Unique: c.FormValue("unique") == "true", Tracked: c.FormValue("tracked") == "true",
		MasterDetail: c.FormValue("master_detail") == "true",
		Default:      c.FormValue("default"), DefaultFormula: c.FormValue("default_formula"), Formula: c.FormValue("formula"),
		MaxLength: v("max_length"), Min: v("min"), Max: v("max"), Scale: v("scale"), Pattern: c.FormValue("pattern"), Format: v("format"),
		Target: v("target"), OnDelete: v("on_delete"), DependsOn: v("depends_on"), Options: c.FormValue("options"), MaxSize: v("max_size"),
		Accept: v("accept"), Visibility: v("visibility")}
}

// field builds the definition the inputs describe; what cannot be read
// is a problem at the input's JSON pointer.
func (ff fieldForm) field() (*metadata.Field, metadata.Problems) {
	var ps metadata.Problems
	f := &metadata.Field{Name: ff.Name, Type: ff.Type, Required: ff.Required, Unique: ff.Unique, Tracked: ff.Tracked,
		DefaultFormula: strings.TrimSpace(ff.DefaultFormula), Formula: strings.TrimSpace(ff.Formula), Pattern: ff.Pattern, Format: ff.Format,
		Target: ff.Target, OnDelete: ff.OnDelete, MasterDetail: ff.MasterDetail, DependsOn: ff.DependsOn, Visibility: ff.Visibility}
	f.Label = labelFrom(ff.LabelEn, ff.LabelZh)
	f.Help = labelFrom(ff.HelpEn, ff.HelpZh)
	num := func(path, s string, set func(float64)) {
		if s == "" {
			return
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("%q is not a number", s)})
			return
		}
		set(n)
	}
	num("/max_length", ff.MaxLength, func(n float64) { f.MaxLength = int(n) })
	num("/min", ff.Min, func(n float64) { f.Min = &n })
	num("/max", ff.Max, func(n float64) { f.Max = &n })
	num("/scale", ff.Scale, func(n float64) { s := int(n); f.Scale = &s })
	num("/max_size", ff.MaxSize, func(n float64) { f.MaxSize = int64(n) })
	if ff.Accept != "" {
		for _, a := range strings.Split(ff.Accept, ",") {
			if a = strings.TrimSpace(a); a != "" {
				f.Accept = append(f.Accept, a)
			}
		}
	}
	if d := strings.TrimSpace(ff.Default); d != "" {
		f.Default = d
		if t, ok := metadata.LookupFieldType(ff.Type); ok && t.Kind() != metadata.KindString && t.Kind() != metadata.KindDate && t.Kind() != metadata.KindDateTime {
			var v any
			if json.Unmarshal([]byte(d), &v) == nil {
				f.Default = v
			}
		}
	}
	for i, line := range strings.Split(ff.Options, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		o := metadata.Option{Value: parts[0]}
		if len(parts) > 2 {
			o.Label = labelFrom(parts[1], parts[2])
		} else if len(parts) > 1 {
			o.Label = labelFrom(parts[1], "")
		}
		if len(parts) > 3 && parts[3] != "" {
			for _, w := range strings.Split(parts[3], ",") {
				o.When = append(o.When, strings.TrimSpace(w))
			}
		}
		if len(parts) > 4 && parts[4] != "" {
			o.Attrs = map[string]any{}
			for _, kv := range strings.Split(parts[4], ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/options/%d", i), Message: fmt.Sprintf("attribute %q is not key=value", kv)})
					continue
				}
				var val any = strings.TrimSpace(v)
				if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					val = n
				}
				o.Attrs[strings.TrimSpace(k)] = val
			}
		}
		f.Options = append(f.Options, o)
	}
	return f, ps
}

// labelFrom builds a label from its English and Chinese texts.
func labelFrom(en, zh string) metadata.Label {
	l := metadata.Label{}
	if en = strings.TrimSpace(en); en != "" {
		l["en"] = en
	}
	if zh = strings.TrimSpace(zh); zh != "" {
		l["zh"] = zh
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// fieldPath finds the input of a problem with field i of an object.
func fieldPath(i int) func(string) string {
	prefix := "/fields/" + strconv.Itoa(i) + "/"
	return func(path string) string {
		if !strings.HasPrefix(path, prefix) {
			return ""
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(path, prefix), "/")
		if key == "label" || key == "help" {
			return key + "_en"
		}
		return key
	}
}

// saveField answers POST /ui/admin/objects/{name}/fields: adds the field
// or, when "original" names one, replaces it; reviewed before it applies.
func (u *UI) saveField(c *fiber.Ctx) error {
	o, err := u.adminObject(c)
	if err != nil {
		return u.fail(c, err)
	}
	ff := readFieldForm(c)
	orig := c.FormValue("original")
	f, ps := ff.field()
	idx := len(o.Fields)
	if orig != "" {
		idx = slices.IndexFunc(o.Fields, func(cur *metadata.Field) bool { return cur.Name == orig })
		if idx < 0 {
			return u.fail(c, fmt.Errorf("%w: %s has no field %s", engine.ErrNotFound, o.Name, orig))
		}
	}
	back := func(errs map[string]string, general []string) error {
		return u.showField(c, o, ff, orig == "", errs, general, fiber.StatusUnprocessableEntity)
	}
	if len(ps) > 0 {
		errs, general := problemMap(ps, func(p string) string { return fieldPath(0)("/fields/0" + p) })
		return back(errs, general)
	}
	switch {
	case orig == "" && slices.ContainsFunc(o.Fields, func(cur *metadata.Field) bool { return cur.Name == f.Name }):
		return back(map[string]string{"name": tr(lang(c), "name_taken")}, nil)
	case orig != "" && f.Name != orig:
		return back(map[string]string{"name": tr(lang(c), "no_rename")}, nil)
	}
	work := o.Clone()
	if orig == "" {
		work.Fields = append(work.Fields, f)
	} else {
		work.Fields[idx] = f
	}
	verb := map[bool]string{true: "add field ", false: "update field "}[orig == ""]
	return u.proposeObject(c, work, verb+o.Name+"."+f.Name, fieldPath(idx), back)
}

// deleteField answers POST /ui/admin/objects/{name}/fields/{field}/delete
// (reviewed: the column is archived).
func (u *UI) deleteField(c *fiber.Ctx) error {
	o, err := u.adminObject(c)
	if err != nil {
		return u.fail(c, err)
	}
	name := c.Params("field")
	i := slices.IndexFunc(o.Fields, func(cur *metadata.Field) bool { return cur.Name == name })
	if i < 0 {
		return u.fail(c, fmt.Errorf("%w: %s has no field %s", engine.ErrNotFound, o.Name, name))
	}
	o.Fields = append(o.Fields[:i], o.Fields[i+1:]...)
	return u.proposeObject(c, o, "delete field "+o.Name+"."+name, func(string) string { return "" }, func(_ map[string]string, general []string) error {
		return u.fail(c, metadata.Problems{{Message: strings.Join(general, "; ")}})
	})
}
