package marketing

import (
	_ "embed"
	"maps"
	"slices"

	"github.com/crmplatform/crm/metadata"
)

// Channels of a message template.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// KindMessageTemplates is the name of the kind (its template folder and
// API path /api/meta/message_templates).
const KindMessageTemplates = "message_templates"

// ActionSendMailing is the right to send mailings of a campaign, granted
// in role metadata (`actions: [read, send_mailing]` on campaign).
const ActionSendMailing = "send_mailing"

// Opt-out fields: a boolean field of this name on the recipient object
// marks a record that receives no mailing of the channel.
const (
	OptOutEmail = "email_opt_out"
	OptOutSMS   = "sms_opt_out"
)

// MessageTemplate is an e-mail or SMS text for the records of one object.
type MessageTemplate struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	// Object is the object of the recipients (contact, lead …).
	Object string `json:"object"`
	// Channel is email or sms.
	Channel string `json:"channel"`
	// To is the field holding the address (an email field for e-mail, a
	// phone field for SMS); the object's first such field when empty.
	To string `json:"to,omitempty"`
	// Subject, HTML and Text are the texts per language with {{field}}
	// placeholders. An e-mail needs a subject and an HTML or text body; an
	// SMS has only Text.
	Subject metadata.Label `json:"subject,omitempty"`
	HTML    metadata.Label `json:"html,omitempty"`
	Text    metadata.Label `json:"text,omitempty"`
}

//go:embed message_template.schema.json
var messageTemplateSchema []byte

// MessageTemplates reads the message templates of a schema.
var MessageTemplates metadata.Docs[MessageTemplate]

func init() {
	metadata.RegisterAction(ActionSendMailing)
	MessageTemplates = metadata.RegisterKind(metadata.KindSpec[MessageTemplate]{
		Name:    KindMessageTemplates,
		Schema:  messageTemplateSchema,
		Public:  true,
		Check:   checkTemplate,
		Compile: compileTemplates,
	})
}

// checkTemplate checks one message template against the schema.
func checkTemplate(s *metadata.Schema, t *MessageTemplate) metadata.Problems {
	_, ps := build(s, t)
	return ps
}

// compileTemplates compiles the templates of a schema that passed every
// check, by name (Compiled.Get reads them).
func compileTemplates(s *metadata.Schema) (any, metadata.Problems) {
	out := Compiled{}
	ps := MessageTemplates.Each(s, func(t *MessageTemplate) metadata.Problems {
		c, ps := build(s, t)
		if c != nil {
			out[t.Name] = c
		}
		return ps
	})
	return out, ps
}

// Compiled holds the compiled message templates of a metadata version, by
// name: engine.Snapshot.Compiled(KindMessageTemplates).
type Compiled map[string]*Template

// build checks a template and compiles it; nil when it has problems.
func build(s *metadata.Schema, t *MessageTemplate) (*Template, metadata.Problems) {
	obj, ok := s.Object(t.Object)
	if !ok {
		return nil, metadata.Problems{metadata.Problemf("/object", "no object %q", t.Object)}
	}
	var ps metadata.Problems
	c := &Template{MessageTemplate: t, subject: map[string]*Text{}, text: map[string]*Text{}, html: map[string]*htmlPart{}}
	want := "email"
	if t.Channel == ChannelSMS {
		want = "phone"
	}
	c.To = t.To
	if c.To == "" {
		c.To = addressField(obj, want)
		if c.To == "" {
			ps = append(ps, metadata.Problemf("/to", "%s has no %s field to send to", obj.Name, want))
		}
	} else if f, ok := obj.Field(c.To); !ok || f.Type != want {
		ps = append(ps, metadata.Problemf("/to", "%s has no %s field %q", obj.Name, want, c.To))
	}
	optOut := OptOutEmail
	if t.Channel == ChannelSMS {
		optOut = OptOutSMS
	}
	if f, ok := obj.Field(optOut); !ok || f.Type != "boolean" {
		ps = append(ps, metadata.Problemf("/object", "%s needs a boolean field %s: mailings honour each recipient's opt-out", obj.Name, optOut))
	}
	c.OptOut = optOut
	switch t.Channel {
	case ChannelEmail:
		if len(t.Subject) == 0 {
			ps = append(ps, metadata.Problemf("/subject", "an e-mail needs a subject"))
		}
		if len(t.HTML) == 0 && len(t.Text) == 0 {
			ps = append(ps, metadata.Problemf("/html", "an e-mail needs an html or a text body"))
		}
	case ChannelSMS:
		if len(t.Text) == 0 {
			ps = append(ps, metadata.Problemf("/text", "an SMS needs a text"))
		}
		if len(t.Subject) > 0 || len(t.HTML) > 0 {
			ps = append(ps, metadata.Problemf("/html", "an SMS has only a text"))
		}
	}
	for _, lang := range sortedLangs(t.Subject) {
		p, err := ParseText(s, obj, t.Subject[lang])
		if err != nil {
			ps = append(ps, metadata.Problemf("/subject/"+lang, "%v", err))
			continue
		}
		c.subject[lang] = p
	}
	for _, lang := range sortedLangs(t.Text) {
		p, err := ParseText(s, obj, t.Text[lang])
		if err != nil {
			ps = append(ps, metadata.Problemf("/text/"+lang, "%v", err))
			continue
		}
		c.text[lang] = p
	}
	for _, lang := range sortedLangs(t.HTML) {
		h, err := parseHTML(s, obj, t.HTML[lang])
		if err != nil {
			ps = append(ps, metadata.Problemf("/html/"+lang, "%v", err))
			continue
		}
		c.html[lang] = h
	}
	if len(ps) > 0 {
		return nil, ps
	}
	c.collect()
	return c, nil
}

// addressField returns the first field of obj of the type ("email" or
// "phone"); for phones a field named mobile comes first.
func addressField(obj *metadata.Object, typ string) string {
	if f, ok := obj.Field("mobile"); typ == "phone" && ok && f.Type == typ {
		return f.Name
	}
	for _, f := range obj.Fields {
		if f.Type == typ {
			return f.Name
		}
	}
	return ""
}

// sortedLangs returns the languages of a text, sorted.
func sortedLangs(l metadata.Label) []string {
	return slices.Sorted(maps.Keys(l))
}
