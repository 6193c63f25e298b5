package marketing_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
)

// objects are the objects the templates of these tests address.
var objects = map[string]string{
	"objects/account.yaml": `name: account
fields:
  - {name: name, type: text}
  - {name: logo, type: image}
  - name: industry
    type: picklist
    options:
      - {value: retail, label: {en: Retail, zh: 零售}}`,
	"objects/contact.yaml": `name: contact
fields:
  - {name: name, type: text}
  - {name: email, type: email}
  - {name: mobile, type: phone}
  - {name: account, type: lookup, target: account}
  - {name: email_opt_out, type: boolean}
  - {name: sms_opt_out, type: boolean}
  - {name: photo, type: image}`,
	"objects/note.yaml": `name: note
fields:
  - {name: body, type: text}`,
}

// compile loads the objects with one template and returns it compiled,
// or the problems.
func compile(t *testing.T, doc string) (*marketing.Template, metadata.Problems) {
	t.Helper()
	m := fstest.MapFS{"template.yaml": {Data: []byte("name: t")}, "message_templates/m.yaml": {Data: []byte(doc)}}
	for name, body := range objects {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	_, s, ps := metadata.LoadFS(m)
	if len(ps) > 0 {
		return nil, ps
	}
	res, ps := check.Schema(s)
	if len(ps) > 0 {
		return nil, ps
	}
	return res.Kinds[marketing.KindMessageTemplates].(marketing.Compiled)["m"], nil
}

func TestTemplateChecks(t *testing.T) {
	cases := []struct {
		name, doc string
		path, msg string // the problem expected; none when msg is ""
	}{
		{"a sound e-mail", "name: m\nobject: contact\nchannel: email\nsubject: {en: 'Hi {{name}}', zh: '{{name}}，您好'}\nhtml: '<p>{{account.name}} {{owner.name}} {{account.industry}}</p>'", "", ""},
		{"a sound SMS", "name: m\nobject: contact\nchannel: sms\ntext: '{{name}}: 回T退订'", "", ""},
		{"an unknown object", "name: m\nobject: ship\nchannel: email\nsubject: x\ntext: y", "/object", "ship"},
		{"an unknown field", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: 'Hi {{nickname}}'", "/text/en", "nickname"},
		{"an unknown field of a lookup's target", "name: m\nobject: contact\nchannel: email\nsubject: x\nhtml: '{{account.size}}'", "/html/en", "size"},
		{"through a field that is no lookup", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{name.size}}'", "/text/en", "not a lookup"},
		{"a lookup without a field", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{account}}'", "/text/en", "account.name"},
		{"an unknown owner field", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{owner.phone}}'", "/text/en", "owner has"},
		{"a file", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{photo}}'", "/text/en", "file"},
		{"a file of a lookup's target", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{account.logo}}'", "/text/en", "file"},
		{"stray braces", "name: m\nobject: contact\nchannel: email\nsubject: 'x {{ name'\ntext: y", "/subject/en", "not a placeholder"},
		{"three segments", "name: m\nobject: contact\nchannel: email\nsubject: x\ntext: '{{account.owner.name}}'", "/text/en", "not a placeholder"},
		{"a placeholder as a link's scheme", "name: m\nobject: contact\nchannel: email\nsubject: x\nhtml: '<a href=\"{{name}}\">x</a>'", "", ""},
		{"a placeholder in an unclosed attribute", "name: m\nobject: contact\nchannel: email\nsubject: x\nhtml: '<a title=\"{{name}}>x'", "/html/en", "placeholder"},
		{"no subject", "name: m\nobject: contact\nchannel: email\ntext: y", "/subject", "subject"},
		{"no body", "name: m\nobject: contact\nchannel: email\nsubject: x", "/html", "body"},
		{"an SMS with a subject", "name: m\nobject: contact\nchannel: sms\nsubject: x\ntext: y", "/html", "only a text"},
		{"no address field", "name: m\nobject: note\nchannel: email\nsubject: x\ntext: y", "/to", "email"},
		{"an address field of the wrong type", "name: m\nobject: contact\nchannel: sms\nto: email\ntext: y", "/to", "phone"},
		{"no opt-out field", "name: m\nobject: account\nchannel: email\nto: name\nsubject: x\ntext: y", "/object", "email_opt_out"},
		{"an unknown channel", "name: m\nobject: contact\nchannel: fax\ntext: y", "/channel", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, ps := compile(t, c.doc)
			if c.msg == "" && c.path == "" {
				if len(ps) > 0 || tmpl == nil {
					t.Fatalf("want no problem, got %v", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Path == c.path && strings.Contains(p.Message, c.msg) {
					return
				}
			}
			t.Fatalf("want a problem at %s with %q, got %v", c.path, c.msg, ps)
		})
	}
}

func TestRender(t *testing.T) {
	tmpl, ps := compile(t, `name: m
object: contact
channel: email
subject: {en: "Offer for {{name}}", zh: "{{name}}的优惠"}
text: "Dear {{name}} of {{account.name}}, see https://shop.example.com"
html:
  en: <html><body><p>Dear {{name}} of <b>{{account.name}}</b> ({{owner.name}})</p><a title="{{name}}" href="https://shop.example.com/spring?a=1&amp;b=2">Shop</a> <a href='http://x.example.com/'>X</a> <a href="{{account.name}}">bad</a></body></html>
  zh: <p>{{name}}，您好</p>`)
	if ps != nil {
		t.Fatal(ps)
	}
	var paths []string
	for _, p := range tmpl.Paths() {
		paths = append(paths, p.Path)
	}
	if got := strings.Join(paths, ","); got != "account.name,name,owner.name" {
		t.Errorf("paths %s", got)
	}
	if tmpl.To != "email" || tmpl.OptOut != "email_opt_out" {
		t.Errorf("to %s opt-out %s", tmpl.To, tmpl.OptOut)
	}
	if got := strings.Join(tmpl.Links("en"), " "); got != "https://shop.example.com/spring?a=1&b=2 http://x.example.com/" {
		t.Errorf("links %s", got)
	}
	values := map[string]string{"name": `Li "Lei" <script>alert(1)</script>`, "account.name": "javascript:alert(2)", "owner.name": "Ann & Bob"}
	tracked := func(i int, url string) string { return "https://crm.example.com/m/c/TOKEN" + string(rune('0'+i)) }
	m, err := tmpl.Render("en", values, marketing.Tracking{Link: tracked, Pixel: "https://crm.example.com/m/o/P", Unsubscribe: "https://crm.example.com/m/u/U"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Dear Li &#34;Lei&#34; &lt;script&gt;alert(1)&lt;/script&gt; of <b>javascript:alert(2)</b> (Ann &amp; Bob)`,
		`title="Li &#34;Lei&#34; &lt;script&gt;`,
		`href="https://crm.example.com/m/c/TOKEN0"`,
		`href='https://crm.example.com/m/c/TOKEN1'`,
		`href="#ZgotmplZ"`,
		`<a href="https://crm.example.com/m/u/U">Unsubscribe</a></p><img src="https://crm.example.com/m/o/P" width="1" height="1" alt="" style="display:none"></body></html>`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks %s:\n%s", want, m.HTML)
		}
	}
	for _, bad := range []string{"<script>", "shop.example.com", "href=\"javascript"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("html has %s:\n%s", bad, m.HTML)
		}
	}
	if m.Subject != `Offer for Li "Lei" <script>alert(1)</script>` {
		t.Errorf("subject %q", m.Subject)
	}
	if want := "Dear Li \"Lei\" <script>alert(1)</script> of javascript:alert(2), see https://shop.example.com\n\n--\nUnsubscribe: https://crm.example.com/m/u/U\n"; m.Text != want {
		t.Errorf("text %q", m.Text)
	}
	zh, err := tmpl.Render("zh", map[string]string{"name": "李雷\r\nBcc: x@example.com"}, marketing.Tracking{Unsubscribe: "https://crm.example.com/m/u/U"})
	if err != nil {
		t.Fatal(err)
	}
	if zh.Subject != "李雷 Bcc: x@example.com的优惠" || !strings.Contains(zh.HTML, "<p>李雷\r\nBcc: x@example.com，您好</p>") || !strings.Contains(zh.HTML, ">退订</a>") {
		t.Errorf("zh %q %q", zh.Subject, zh.HTML)
	}
	fr, err := tmpl.Render("fr", values, marketing.Tracking{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fr.HTML, `href="https://shop.example.com/spring?a=1&amp;b=2"`) || strings.Contains(fr.HTML, "Unsubscribe") || strings.Contains(fr.HTML, "<img") {
		t.Errorf("untracked preview in English: %s", fr.HTML)
	}
}
