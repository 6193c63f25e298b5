package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// kindData is the content of a document kind's page in the builder.
type kindData struct {
	Kind    string
	Docs    []adminItem
	Objects []string
}

// adminKind returns the registered document kind of the path (objects
// and roles have their own pages).
func adminKind(c *fiber.Ctx) (*metadata.DocKind, error) {
	k, ok := metadata.LookupKind(c.Params("kind"))
	if !ok || k.Builtin() {
		return nil, fmt.Errorf("%w: no document kind %q", engine.ErrNotFound, c.Params("kind"))
	}
	return k, nil
}

// kindPage answers GET /ui/admin/kinds/{kind}: the documents of a kind.
func (u *UI) kindPage(c *fiber.Ctx) error {
	k, err := adminKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	if _, err := u.eng.Reload(c.UserContext()); err != nil {
		return u.fail(c, err)
	}
	d := kindData{Kind: k.Name()}
	for _, o := range u.eng.Snapshot().Schema.Objects {
		d.Objects = append(d.Objects, o.Name)
	}
	for _, doc := range u.eng.Snapshot().Schema.Documents(k.Name()) {
		d.Docs = append(d.Docs, adminItem{Name: doc.Name})
	}
	p := u.newPage(c, tr(lang(c), "builder_kind", k.Name()))
	p.Section, p.Data = "admin", d
	return u.render(c, fiber.StatusOK, "admin_kind", p)
}

// docData is the content of the generic document editor: a form
// generated from the kind's JSON Schema (Form), or the document as JSON
// (Text) in the advanced editor.
type docData struct {
	Kind, Name, Text string
	New              bool
	General          []string
	Form             *fnode
	// Fields are the fields of the document's object, offered to its
	// field inputs.
	Fields []string
	// FormHref and JSONHref open the document in the other editor.
	FormHref, JSONHref string
	// Webhook marks a webhook's editor, which shows its newest
	// Deliveries (Config.Webhooks).
	Webhook    bool
	Deliveries []WebhookDelivery
	// Snippet is a web form's HTML for the company's web site, and
	// Hosted the address of the page that shows it on this server.
	Snippet, Hosted string
}

// shownDeliveries is how many deliveries a webhook's editor shows.
const shownDeliveries = 20

// docPage answers GET /ui/admin/kinds/{kind}/{name} ("new" for a new
// one): the document as JSON, to edit.
func (u *UI) docPage(c *fiber.Ctx) error {
	k, err := adminKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	d := docData{Kind: k.Name(), Name: c.Params("name"), New: c.Params("name") == "new"}
	q := url.Values{}
	for _, key := range []string{"from", "object"} {
		if v := c.Query(key); v != "" {
			q.Set(key, v)
		}
	}
	d.FormHref = strings.TrimSuffix("/ui/admin/kinds/"+k.Name()+"/"+c.Params("name")+"?"+q.Encode(), "?")
	q.Set("editor", "json")
	d.JSONHref = "/ui/admin/kinds/" + k.Name() + "/" + c.Params("name") + "?" + q.Encode()
	if d.New {
		d.Name, d.Text = "", "{\n  \"name\": \"\"\n}"
		if o, ok := u.eng.Snapshot().Schema.Object(c.Query("object")); ok && k.Name() == Layouts.Kind().Name() {
			d.Text = jsonText(defaultLayout(u.eng.Snapshot().Schema, o)) // start from the generated default
		}
		if from, ok := u.eng.Snapshot().Schema.Document(k.Name(), c.Query("from")); ok {
			var doc map[string]any // a copy of another document, to change
			raw, err := json.Marshal(from)
			if err == nil {
				err = json.Unmarshal(raw, &doc)
			}
			if err != nil {
				return u.fail(c, err)
			}
			doc["name"] = c.Query("from") + "_copy"
			d.Text = jsonText(doc)
		}
	} else {
		doc, ok := u.eng.Snapshot().Schema.Document(k.Name(), d.Name)
		if !ok {
			return u.fail(c, fmt.Errorf("%w: no %s document %q", engine.ErrNotFound, k.Name(), d.Name))
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return u.fail(c, err)
		}
		d.Text = prettyJSON(raw)
		if u.sales != nil && k.Name() == u.sales.WebFormKind() {
			if d.Snippet, err = u.sales.FormSnippet(d.Name, lang(c), c.BaseURL()); err != nil {
				return u.fail(c, err)
			}
			d.Hosted = c.BaseURL() + "/f/" + url.PathEscape(d.Name) + "?lang=" + lang(c)
		}
		if u.hooks != nil && k.Name() == u.hooks.Kind() {
			d.Webhook = true
			if d.Deliveries, _, err = u.hooks.Deliveries(c.UserContext(), d.Name, DeliveryQuery{Limit: shownDeliveries}); err != nil {
				return u.fail(c, err)
			}
		}
	}
	if c.Query("editor") != "json" {
		var doc any
		dec := json.NewDecoder(strings.NewReader(d.Text))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return u.fail(c, err)
		}
		f := newKindForm(k, lang(c), u.eng.Snapshot().Schema)
		d.Form, d.Fields = f.build(doc), f.fieldNames(doc)
	}
	return u.showDoc(c, d, fiber.StatusOK)
}

// showDoc renders the document editor.
func (u *UI) showDoc(c *fiber.Ctx, d docData, status int) error {
	title := tr(lang(c), "builder_doc", d.Kind, d.Name)
	if d.New {
		title = tr(lang(c), "builder_new_doc", d.Kind)
	}
	p := u.newPage(c, title)
	p.Section, p.Data = "admin", d
	return u.render(c, status, "admin_doc", p)
}

// saveDoc answers POST /ui/admin/kinds/{kind}: the JSON document, checked
// through its kind's schema and checks as /api/meta/{kind} checks it,
// reviewed before it applies.
func (u *UI) saveDoc(c *fiber.Ctx) error {
	k, err := adminKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	text := c.FormValue("doc")
	d := docData{Kind: k.Name(), Name: c.FormValue("original"), Text: text, New: c.FormValue("original") == ""}
	var form *kindForm
	var doc any
	if c.FormValue("editor") == "form" { // the generated form, read back into the document
		form = newKindForm(k, lang(c), u.eng.Snapshot().Schema)
		doc = form.read(func(name string) string { return c.FormValue(name) })
		if op := c.FormValue("_op"); op != "" { // a row added or removed: the form again
			rowOp(doc, op)
			d.Form, d.Fields = form.build(doc), form.fieldNames(doc)
			return u.showDoc(c, d, fiber.StatusOK)
		}
		doc, _ = prune(doc)
		text = jsonText(doc)
	}
	bad := func(general []string) error {
		d.General = general
		return u.showDoc(c, d, fiber.StatusUnprocessableEntity)
	}
	problems := func(err error) error {
		if form == nil {
			_, general := problemMap(err, func(string) string { return "" })
			return bad(general)
		}
		d.Form, d.Fields = form.build(doc), form.fieldNames(doc) // each problem next to the input its pointer names
		paths := map[string]bool{}
		d.Form.paths(paths)
		errs, general := problemMap(err, func(p string) string {
			for ; p != ""; p = p[:max(0, strings.LastIndex(p, "/"))] {
				if paths[p] {
					return p
				}
			}
			return ""
		})
		d.Form.attach(errs)
		return bad(general)
	}
	var head struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(text), &head); err != nil {
		return bad([]string{tr(lang(c), "not_json", err.Error())})
	}
	if !d.New && head.Name != d.Name {
		return problems(metadata.Problems{{Path: "/name", Message: tr(lang(c), "no_rename")}})
	}
	if _, exists := u.eng.Snapshot().Schema.Document(k.Name(), head.Name); d.New && exists {
		return problems(metadata.Problems{{Path: "/name", Message: tr(lang(c), "name_taken")}})
	}
	pr := proposal{Kind: k.Name(), Name: head.Name, Doc: json.RawMessage(text), Back: "/ui/admin/kinds/" + k.Name(), Comment: "update " + k.Name() + " " + head.Name}
	return u.review(c, pr, problems)
}

// deleteDoc answers POST /ui/admin/kinds/{kind}/{name}/delete (reviewed).
func (u *UI) deleteDoc(c *fiber.Ctx) error {
	k, err := adminKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	name := c.Params("name")
	pr := proposal{Kind: k.Name(), Name: name, Delete: true, Back: "/ui/admin/kinds/" + k.Name(), Comment: "delete " + k.Name() + " " + name}
	return u.review(c, pr, func(err error) error { return u.fail(c, err) })
}

// versionsData is the content of the version list.
type versionsData struct {
	Versions []store.Version
}

// versionsPage answers GET /ui/admin/versions: who changed what, when.
func (u *UI) versionsPage(c *fiber.Ctx) error {
	db := u.eng.DB()
	vs, err := db.ListVersions(c.UserContext(), db.SQL(), 200)
	if err != nil {
		return u.fail(c, err)
	}
	p := u.newPage(c, tr(lang(c), "versions"))
	p.Section, p.Data = "admin", versionsData{Versions: vs}
	return u.render(c, fiber.StatusOK, "versions", p)
}

// versionData is the content of one version's page.
type versionData struct {
	Version store.Version
	Changes []string
	Diffs   []docDiff
}

// docDiff is the line diff of one document a version changed.
type docDiff struct {
	Title string
	Lines []diffLine
}

// versionPage answers GET /ui/admin/versions/{version}: the changes of a
// version against the one before it (metadata.Diff) and a line diff of
// every document it changed.
func (u *UI) versionPage(c *fiber.Ctx) error {
	n, err := strconv.ParseInt(c.Params("version"), 10, 64)
	if err != nil || n < 1 {
		return u.fail(c, fmt.Errorf("%w: no version %q", engine.ErrNotFound, c.Params("version")))
	}
	db := u.eng.DB()
	v, err := db.LoadVersion(c.UserContext(), db.SQL(), n)
	if err != nil {
		return u.fail(c, err)
	}
	var prev *metadata.Schema
	if n > 1 {
		pv, err := db.LoadVersion(c.UserContext(), db.SQL(), n-1)
		if err != nil {
			return u.fail(c, err)
		}
		prev = pv.Schema
	}
	d := versionData{Version: *v}
	for _, ch := range metadata.Diff(prev, v.Schema) {
		d.Changes = append(d.Changes, describeChange(ch))
	}
	d.Diffs = schemaDiffs(prev, v.Schema)
	p := u.newPage(c, tr(lang(c), "version_n", n))
	p.Section, p.Data = "admin", d
	return u.render(c, fiber.StatusOK, "version", p)
}

// schemaDiffs returns the line diffs of the documents that differ
// between two schemas (objects, roles, every other kind).
func schemaDiffs(old, cur *metadata.Schema) []docDiff {
	if old == nil {
		old = &metadata.Schema{}
	}
	docs := func(sc *metadata.Schema) map[string]string {
		out := map[string]string{}
		for _, o := range sc.Objects {
			out["objects/"+o.Name] = jsonText(o)
		}
		for _, r := range sc.Roles {
			out["roles/"+r.Name] = jsonText(r)
		}
		for kind, ds := range sc.Docs {
			for _, d := range ds {
				out[kind+"/"+d.Name] = jsonText(d)
			}
		}
		return out
	}
	a, b := docs(old), docs(cur)
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	var out []docDiff
	for _, k := range keys {
		if a[k] == b[k] {
			continue
		}
		out = append(out, docDiff{Title: k, Lines: lineDiff(splitLines(a[k]), splitLines(b[k]))})
	}
	return out
}

// jsonText writes a value as indented JSON.
func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return prettyJSON(raw)
}

// splitLines splits text into lines ("" has none).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// deliveriesData is the content of a webhook's page of deliveries.
type deliveriesData struct {
	Kind, Name string
	// State is the state shown (all, pending, delivered, failed), States
	// those to choose from.
	State  string
	States []string
	// Deliveries are the page's; Next links the following page, First
	// the first one (when this one is not).
	Deliveries  []WebhookDelivery
	Next, First string
}

// deliveriesPerPage is how many deliveries a page of them lists.
const deliveriesPerPage = 50

// deliveriesPage answers GET /ui/admin/kinds/webhooks/{name}/deliveries
// ?state=&cursor=: a webhook's deliveries, newest first, in a state or
// all, a page at a time (Webhooks.Deliveries, as the API lists them).
func (u *UI) deliveriesPage(c *fiber.Ctx) error {
	k, err := u.webhookKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	d := deliveriesData{Kind: k, Name: c.Params("name"), State: c.Query("state", "all"), States: []string{"all", "pending", "delivered", "failed"}}
	state := d.State
	if state == "all" {
		state = ""
	}
	items, next, err := u.hooks.Deliveries(c.UserContext(), d.Name, DeliveryQuery{State: state, Cursor: c.Query("cursor"), Limit: deliveriesPerPage})
	if err != nil {
		return u.fail(c, err)
	}
	d.Deliveries = items
	base := "/ui/admin/kinds/" + k + "/" + url.PathEscape(d.Name) + "/deliveries?state=" + url.QueryEscape(d.State)
	if next != "" {
		d.Next = base + "&cursor=" + url.QueryEscape(next)
	}
	if c.Query("cursor") != "" {
		d.First = base
	}
	p := u.newPage(c, tr(lang(c), "deliveries_of", d.Name))
	p.Section, p.Data = "admin", d
	return u.render(c, fiber.StatusOK, "admin_deliveries", p)
}

// webhookKind returns the webhooks' kind when it is the path's (the
// only one with deliveries).
func (u *UI) webhookKind(c *fiber.Ctx) (string, error) {
	k, err := adminKind(c)
	if err != nil {
		return "", err
	}
	if u.hooks == nil || k.Name() != u.hooks.Kind() {
		return "", fmt.Errorf("%w: %s have no deliveries", engine.ErrNotFound, k.Name())
	}
	return k.Name(), nil
}

// resendDelivery answers POST /ui/admin/kinds/{kind}/{name}/deliveries/{id}/resend
// for the webhooks' kind: the delivery is queued again, and the page it
// was resent from (the form's back: the webhook's editor by default, or
// its page of deliveries) shown again.
func (u *UI) resendDelivery(c *fiber.Ctx) error {
	k, err := u.webhookKind(c)
	if err != nil {
		return u.fail(c, err)
	}
	if err := u.hooks.Resend(c.UserContext(), c.Params("name"), c.Params("id")); err != nil {
		return u.fail(c, err)
	}
	back := c.FormValue("back")
	if back == "" {
		back = "/ui/admin/kinds/" + k + "/" + url.PathEscape(c.Params("name"))
	}
	return c.Redirect(withFlash(back, "delivery_resent"), fiber.StatusSeeOther)
}
