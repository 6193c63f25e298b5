package marketing

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// Template is a compiled message template.
type Template struct {
	*MessageTemplate
	// To is the field holding the recipient's address.
	To string
	// OptOut is the boolean field that opts a recipient out of the
	// channel.
	OptOut  string
	subject map[string]*Text
	text    map[string]*Text
	html    map[string]*htmlPart
	paths   []string
	byPath  map[string]*Path
}

// htmlPart is a parsed HTML body: an html/template whose actions are the
// placeholders and the tracked links.
type htmlPart struct {
	tmpl  *template.Template
	paths []*Path
	// links are the literal http(s) links of the body's <a href>, in
	// order; Tracking.Link replaces them.
	links []string
}

// anchor matches the href of an <a> tag whose value is a literal http or
// https URL (no placeholder).
var anchor = regexp.MustCompile(`(?is)(<a\s[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'{}\s<>]+)(["'])`)

// parseHTML compiles an HTML body: placeholders become html/template
// actions (escaped for the context they stand in), literal links become
// actions that give their tracked URL. A placeholder may not begin a URL
// attribute: html/template refuses values that are not safe there.
func parseHTML(s *metadata.Schema, obj *metadata.Object, src string) (*htmlPart, error) {
	if err := strayBraces(src); err != nil {
		return nil, err
	}
	h := &htmlPart{}
	var b strings.Builder
	last := 0
	for _, m := range anchor.FindAllStringSubmatchIndex(src, -1) {
		open, url, closing := src[m[4]:m[5]], src[m[6]:m[7]], src[m[8]:m[9]]
		if open != closing {
			continue // mismatched quotes: left as written
		}
		b.WriteString(src[last:m[6]])
		fmt.Fprintf(&b, "{{call $.Link %d}}", len(h.links))
		h.links = append(h.links, html.UnescapeString(url))
		last = m[7]
	}
	b.WriteString(src[last:])
	withLinks := b.String()
	seen := map[string]bool{}
	var perr error
	body := placeholder.ReplaceAllStringFunc(withLinks, func(ph string) string {
		path := placeholder.FindStringSubmatch(ph)[1]
		p, err := ResolvePath(s, obj, path)
		if err != nil {
			perr = err
			return ""
		}
		if !seen[path] {
			seen[path] = true
			h.paths = append(h.paths, p)
		}
		return fmt.Sprintf("{{index $.V %q}}", path)
	})
	if perr != nil {
		return nil, perr
	}
	t, err := template.New("html").Option("missingkey=zero").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("not a usable HTML body: %v", err)
	}
	h.tmpl = t
	// html/template finds the contexts of its actions at the first run:
	// run it once now, so an unusable place is refused when defined.
	if err := h.tmpl.Execute(io.Discard, htmlData{V: map[string]string{}, Link: func(int) string { return "" }}); err != nil {
		return nil, fmt.Errorf("a placeholder stands where a value cannot be written safely: %v", err)
	}
	return h, nil
}

// htmlData is what an HTML body's template runs on.
type htmlData struct {
	V    map[string]string
	Link func(i int) string
}

// Tracking is what a rendered e-mail carries besides its texts.
type Tracking struct {
	// Link returns the URL that stands for link i of the body (url as
	// written); nil keeps the links as written.
	Link func(i int, url string) string
	// Pixel is the URL of the open pixel; none when empty.
	Pixel string
	// Unsubscribe is the URL of the unsubscribe page, added to every
	// e-mail body; none when empty (a preview).
	Unsubscribe string
}

// Message is a rendered message.
type Message struct {
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
	Text    string `json:"text"`
}

// Paths returns the placeholders the template uses, sorted, each once.
func (t *Template) Paths() []*Path {
	out := make([]*Path, 0, len(t.paths))
	for _, p := range t.paths {
		out = append(out, t.byPath[p])
	}
	return out
}

// collect indexes the template's placeholders by path, once when it is
// compiled.
func (t *Template) collect() {
	by := map[string]*Path{}
	add := func(parts map[string]*Text) {
		for _, p := range parts {
			for _, x := range p.Paths() {
				by[x.Path] = x
			}
		}
	}
	add(t.subject)
	add(t.text)
	for _, h := range t.html {
		for _, p := range h.paths {
			by[p.Path] = p
		}
	}
	t.byPath = by
	t.paths = slices.Sorted(maps.Keys(by))
}

// Links returns the literal links of the HTML body in lang, in order.
func (t *Template) Links(lang string) []string {
	if h := Pick(t.html, lang); h != nil {
		return h.links
	}
	return nil
}

// Pick returns the text in lang, else English, else the first language;
// nil when there is none.
func Pick[T any](m map[string]*T, lang string) *T {
	if v, ok := m[lang]; ok {
		return v
	}
	if v, ok := m["en"]; ok {
		return v
	}
	if keys := slices.Sorted(maps.Keys(m)); len(keys) > 0 {
		return m[keys[0]]
	}
	return nil
}

// footer is the unsubscribe line of an e-mail, per language.
var footer = metadata.Label{"en": "Unsubscribe", "zh": "退订"}

// Render fills the template in lang (else English) with values by
// placeholder path (a missing value is empty): the subject on one line,
// the HTML body with every value escaped for its place, the text body as
// it is. E-mails get the unsubscribe link and the open pixel of tr.
func (t *Template) Render(lang string, values map[string]string, tr Tracking) (Message, error) {
	var m Message
	if p := Pick(t.subject, lang); p != nil {
		m.Subject = p.Render(values, true)
	}
	if p := Pick(t.text, lang); p != nil {
		m.Text = p.Render(values, false)
	}
	if h := Pick(t.html, lang); h != nil {
		link := func(i int) string {
			if tr.Link == nil {
				return h.links[i]
			}
			return tr.Link(i, h.links[i])
		}
		var b strings.Builder
		if err := h.tmpl.Execute(&b, htmlData{V: values, Link: link}); err != nil {
			return Message{}, fmt.Errorf("marketing: render %s: %w", t.Name, err)
		}
		m.HTML = b.String()
	}
	if t.Channel != ChannelEmail {
		return m, nil
	}
	label := footer.Get(lang)
	if tr.Unsubscribe != "" {
		if m.Text != "" {
			m.Text += "\n\n--\n" + label + ": " + tr.Unsubscribe + "\n"
		}
		if m.HTML != "" {
			m.HTML = beforeBodyEnd(m.HTML, fmt.Sprintf(`<p style="font-size:12px;color:#888"><a href="%s">%s</a></p>`, html.EscapeString(tr.Unsubscribe), html.EscapeString(label)))
		}
	}
	if tr.Pixel != "" && m.HTML != "" {
		m.HTML = beforeBodyEnd(m.HTML, fmt.Sprintf(`<img src="%s" width="1" height="1" alt="" style="display:none">`, html.EscapeString(tr.Pixel)))
	}
	return m, nil
}

// closingBody finds the body's end tag.
var closingBody = regexp.MustCompile(`(?i)</body\s*>`)

// beforeBodyEnd inserts s before </body>, or at the end.
func beforeBodyEnd(doc, s string) string {
	if loc := closingBody.FindStringIndex(doc); loc != nil {
		return doc[:loc[0]] + s + doc[loc[0]:]
	}
	return doc + s
}
