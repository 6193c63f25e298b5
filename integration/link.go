package integration

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Link is a custom link of an object's records: a label and a URL
// template whose {{field}} placeholders are filled, URL-encoded, from the
// record as the viewing user may read it.
type Link struct {
	Name   string         `json:"name"`
	Object string         `json:"object"`
	Label  metadata.Label `json:"label"`
	// URL is the template: http or https with a literal host, then
	// placeholders such as {{erp_id}}.
	URL string `json:"url"`
	// Condition, a formula over the record's own fields, shows the link
	// only when it holds.
	Condition string `json:"condition,omitempty"`
}

//go:embed link.schema.json
var linkSchema []byte

// Links reads the custom links of a schema.
var Links metadata.Docs[Link]

// KindLinks is the name of the custom links' document kind (and of their
// template folder and API path /api/meta/links).
const KindLinks = "links"

func init() {
	Links = metadata.RegisterKind(metadata.KindSpec[Link]{
		Name:    KindLinks,
		Schema:  linkSchema,
		Public:  true,
		Check:   checkLink,
		Compile: compileLinks,
	})
}

// urlTemplate is a parsed URL template: literal text and placeholders in
// turn.
type urlTemplate struct {
	parts []templatePart
}

// templatePart is literal text, or the field whose value fills it.
type templatePart struct {
	text, field string
}

// placeholder matches {{field}}, spaces allowed inside the braces.
var placeholder = regexp.MustCompile(`\{\{\s*([a-z][a-z0-9_]*)\s*\}\}`)

// literalHost matches the start a template must have before its first
// placeholder: the scheme and the whole host, ended by a path, query or
// fragment.
var literalHost = regexp.MustCompile(`^https?://[^/?#{}]+[/?#]`)

// parseTemplate parses a URL template; the scheme and host must be
// literal, so a field's value can never send the user elsewhere.
func parseTemplate(src string) (*urlTemplate, error) {
	t := &urlTemplate{}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(src, -1) {
		if m[0] > last {
			t.parts = append(t.parts, templatePart{text: src[last:m[0]]})
		}
		t.parts = append(t.parts, templatePart{field: src[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(src) {
		t.parts = append(t.parts, templatePart{text: src[last:]})
	}
	sample := placeholder.ReplaceAllString(src, "x")
	if strings.Contains(sample, "{{") || strings.Contains(sample, "}}") {
		return nil, fmt.Errorf("a placeholder is {{field}}, a field name in double braces")
	}
	if _, err := parseTarget(sample); err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), ErrNotAllowed.Error()+": "))
	}
	if len(t.parts) > 1 || t.parts[0].field != "" {
		if first := placeholder.FindStringIndex(src); !literalHost.MatchString(src[:first[0]]) {
			return nil, fmt.Errorf("the scheme and host must be written out before the first placeholder (https://host/…{{field}})")
		}
	}
	return t, nil
}

// fields lists the fields the template fills.
func (t *urlTemplate) fields() []string {
	var out []string
	for _, p := range t.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// checkLink checks one custom link against the schema.
func checkLink(s *metadata.Schema, l *Link) metadata.Problems {
	obj, ok := s.Object(l.Object)
	if !ok {
		return metadata.Problems{metadata.Problemf("/object", "no object %q", l.Object)}
	}
	var ps metadata.Problems
	if t, err := parseTemplate(l.URL); err != nil {
		ps = append(ps, metadata.Problemf("/url", "%v", err))
	} else {
		for _, f := range t.fields() {
			if _, ok := obj.FieldOrSystem(f); !ok {
				ps = append(ps, metadata.Problemf("/url", "%s has no field %q", l.Object, f))
			}
		}
	}
	if l.Condition != "" {
		if _, err := linkCondition(s, l); err != nil {
			ps = append(ps, metadata.Problemf("/condition", "%v", err))
		}
	}
	return ps
}

// linkCondition compiles a link's condition, which may read only the
// record's own fields.
func linkCondition(s *metadata.Schema, l *Link) (*formulas.Expr, error) {
	x, err := formulas.CompileCondition(s, l.Object, l.Condition)
	if err != nil {
		return nil, err
	}
	if !x.Local() {
		return nil, fmt.Errorf("a link's condition reads only the record's own fields (no lookups, users or roll-ups), so it can be judged from what the viewing user may read")
	}
	return x, nil
}

// compiledLink is a link with its template and condition compiled.
type compiledLink struct {
	*Link
	tmpl      *urlTemplate
	condition *formulas.Expr
}

// compileLinks compiles the links of a schema that passed every check,
// by object.
func compileLinks(s *metadata.Schema) (any, metadata.Problems) {
	byObject := map[string][]*compiledLink{}
	var ps metadata.Problems
	for _, l := range Links.All(s) {
		cl := &compiledLink{Link: l}
		var err error
		if cl.tmpl, err = parseTemplate(l.URL); err == nil && l.Condition != "" {
			cl.condition, err = linkCondition(s, l)
		}
		if err != nil {
			ps = append(ps, metadata.Problem{File: s.Source(KindLinks, l.Name), Message: err.Error()})
			continue
		}
		byObject[l.Object] = append(byObject[l.Object], cl)
	}
	return byObject, ps
}

// ResolvedLink is a custom link as one user sees it on one record.
type ResolvedLink struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	URL   string `json:"url"`
}

// ResolveLinks returns the custom links of a record for the principal of
// ctx, in name order: the record is read through the principal's Scope
// (not found when out of their reach), and a link whose placeholders or
// condition need a field the principal may not read is left out, as is
// one whose condition does not hold.
func (x *Integration) ResolveLinks(ctx context.Context, object, id string) ([]ResolvedLink, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	rights, err := x.eng.Rights(ctx, p)
	if err != nil {
		return nil, err
	}
	scope, err := rights.ScopeFor(object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	rec, err := x.eng.GetWith(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	byObject, _ := rights.Snapshot().Compiled(KindLinks).(map[string][]*compiledLink)
	lang := engine.Language(ctx)
	out := []ResolvedLink{}
	var stored map[string]any
	for _, l := range byObject[object] {
		if !allReadable(scope, l.tmpl.fields()) {
			continue
		}
		if l.condition != nil {
			if !allReadable(scope, l.condition.Reads()) {
				continue
			}
			if stored == nil {
				stored = storageForm(scope.Object(), rec)
			}
			holds, err := l.condition.Eval(formulas.WithNow(ctx, x.eng.Now()), stored, nil)
			if err != nil {
				x.log.Warn("integration: link condition failed; link left out", "link", l.Name, "object", object, "id", id, "err", err)
				continue
			}
			if b, _ := holds.(bool); !b {
				continue
			}
		}
		u, ok := l.tmpl.fill(rec)
		if !ok {
			continue
		}
		out = append(out, ResolvedLink{Name: l.Name, Label: l.Label.Get(lang), URL: u})
	}
	return out, nil
}

// PageLinks gives the links of a record's page in the web UI
// (ui.Config.Links): those of ResolveLinks.
func (x *Integration) PageLinks(ctx context.Context, object, id string) ([]ui.Link, error) {
	links, err := x.ResolveLinks(ctx, object, id)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Link, len(links))
	for i, l := range links {
		out[i] = ui.Link{Label: l.Label, URL: l.URL}
	}
	return out, nil
}

// allReadable reports whether the scope's principal may read every field.
func allReadable(s *engine.Scope, fields []string) bool {
	for _, f := range fields {
		if !s.Readable(f) {
			return false
		}
	}
	return true
}

// storageForm turns a record as read (JSON form) back into the storage
// form formulas take.
func storageForm(obj *metadata.Object, rec engine.Record) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		f, ok := obj.FieldOrSystem(k)
		if !ok {
			continue
		}
		if s, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(v)); err == nil {
			out[k] = s
		}
	}
	return out
}

// fill resolves the template with a record's values, each URL-encoded;
// false when a value cannot be written into a URL (a file, say).
func (t *urlTemplate) fill(rec engine.Record) (string, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := text(rec[p.field])
		if !ok {
			return "", false
		}
		b.WriteString(escape(v))
	}
	return b.String(), true
}

// text renders a value in JSON form as text: strings as they are,
// numbers and booleans as written, lists joined with commas, nothing for
// an empty value; false for anything else.
func text(v any) (string, bool) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	var x any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return "", false
	}
	switch y := x.(type) {
	case nil:
		return "", true
	case string:
		return y, true
	case json.Number:
		return y.String(), true
	case bool:
		return fmt.Sprint(y), true
	case []any:
		parts := make([]string, 0, len(y))
		for _, e := range y {
			s, ok := text(e)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

// escape percent-encodes everything but the unreserved characters of RFC
// 3986, so a value is one safe piece of a path or a query.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
