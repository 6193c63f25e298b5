package definition

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// Message is a text per language with {{field}} placeholders naming
// fields of one object (system fields included), parsed once.
type Message struct {
	texts map[string][]part
}

// part is a literal text or a placeholder.
type part struct {
	text  string
	field string
}

// parseMessage parses a label's texts; problems are under path.
func parseMessage(obj *metadata.Object, l metadata.Label, path string) (*Message, []metadata.Problem) {
	m := &Message{texts: map[string][]part{}}
	var ps []metadata.Problem
	langs := make([]string, 0, len(l))
	for lang := range l {
		langs = append(langs, lang)
	}
	slices.Sort(langs)
	for _, lang := range langs {
		parts, err := parseText(obj, l[lang])
		if err != nil {
			ps = append(ps, metadata.Problemf(path, "%s: %v", lang, err))
			continue
		}
		m.texts[lang] = parts
	}
	return m, ps
}

// parseText splits a text into literals and placeholders.
func parseText(obj *metadata.Object, s string) ([]part, error) {
	var out []part
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				out = append(out, part{text: s})
			}
			return out, nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("a {{ without its }}")
		}
		if i > 0 {
			out = append(out, part{text: s[:i]})
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		if _, ok := obj.FieldOrSystem(name); !ok {
			return nil, fmt.Errorf("{{%s}}: %s has no field %q", name, obj.Name, name)
		}
		out = append(out, part{field: name})
		s = s[i+j+2:]
	}
}

// Fields lists the fields the placeholders name, sorted, each once.
func (m *Message) Fields() []string {
	var out []string
	for _, parts := range m.texts {
		for _, p := range parts {
			if p.field != "" && !slices.Contains(out, p.field) {
				out = append(out, p.field)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Render writes the text in lang (else English, else any language there
// is), each placeholder replaced by value(field): the caller decides what
// a reader sees of each field ("" for one it may not read).
func (m *Message) Render(lang string, value func(field string) string) string {
	if m == nil {
		return ""
	}
	parts, ok := m.texts[lang]
	if !ok {
		parts, ok = m.texts["en"]
	}
	if keys := slices.Sorted(maps.Keys(m.texts)); !ok && len(keys) > 0 {
		parts = m.texts[keys[0]]
	}
	var b strings.Builder
	for _, p := range parts {
		if p.field != "" {
			b.WriteString(value(p.field))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// CompiledNotification is a notification with its texts parsed.
type CompiledNotification struct {
	*Notification
	Subject *Message
	Message *Message
}

// buildNotification checks a notification about records of object.
func buildNotification(s *metadata.Schema, object string, n *Notification, path string) (*CompiledNotification, []metadata.Problem) {
	obj, ok := s.Object(object)
	if !ok {
		return nil, nil
	}
	var ps []metadata.Problem
	needsTo, needsURL := false, false
	for _, ch := range n.Channels {
		needsTo = needsTo || ch != ChannelWebhook
		needsURL = needsURL || ch == ChannelWebhook
	}
	if needsTo && len(n.To) == 0 {
		ps = append(ps, metadata.Problemf(path+"/to", "name the recipients of the in_app, email and sms channels"))
	}
	if needsURL && n.URL == "" {
		ps = append(ps, metadata.Problemf(path+"/url", "the webhook channel needs the url to post to"))
	}
	ps = append(ps, checkParties(s, object, n.To, false, path+"/to")...)
	c := &CompiledNotification{Notification: n}
	var mps []metadata.Problem
	c.Subject, mps = parseMessage(obj, n.Subject, path+"/subject")
	ps = append(ps, mps...)
	c.Message, mps = parseMessage(obj, n.Message, path+"/message")
	ps = append(ps, mps...)
	return c, ps
}
