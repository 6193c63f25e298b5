package mailing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
)

// checkReadable refuses a template whose address or placeholders name a
// field the principal of rights may not read: a mailing never writes
// what its sender could not see.
func checkReadable(rights *engine.Rights, t *marketing.Template) error {
	scope, err := rights.ScopeFor(t.Object, metadata.ActionRead)
	if err != nil {
		return err
	}
	if !scope.Readable(t.To) {
		return fmt.Errorf("%w: you may not read %s.%s, the address of template %s", engine.ErrForbidden, t.Object, t.To, t.Name)
	}
	for _, p := range t.Paths() {
		if !scope.Readable(p.Field) {
			return fmt.Errorf("%w: you may not read %s.%s, which template %s writes", engine.ErrForbidden, t.Object, p.Field, t.Name)
		}
		if p.TargetObject == "" {
			continue
		}
		ts, err := rights.ScopeFor(p.TargetObject, metadata.ActionRead)
		if err != nil {
			return fmt.Errorf("template %s writes {{%s}}: %w", t.Name, p.Path, err)
		}
		if !ts.Readable(p.Target) {
			return fmt.Errorf("%w: you may not read %s.%s, which template %s writes", engine.ErrForbidden, p.TargetObject, p.Target, t.Name)
		}
	}
	return nil
}

// values returns, for each record (as the principal of ctx read it), the
// text of each placeholder of the template in lang: lookups are expanded
// through the same principal's rights (a target out of reach gives
// nothing), owners read from the users.
func (m *Mailer) values(ctx context.Context, schema *metadata.Schema, t *marketing.Template, lang string, recs []engine.Record) ([]map[string]string, error) {
	obj, _ := schema.Object(t.Object)
	var lookups, userFields, owners []string
	for _, p := range t.Paths() {
		switch {
		case p.Owner:
			if !slices.Contains(userFields, p.Target) {
				userFields = append(userFields, p.Target)
			}
		case p.TargetObject != "" && !slices.Contains(lookups, p.Field):
			lookups = append(lookups, p.Field)
		}
	}
	if err := m.eng.Expand(ctx, t.Object, recs, lookups); err != nil {
		return nil, fmt.Errorf("mailing: read the records of lookups: %w", err)
	}
	var users map[string]map[string]any
	if len(userFields) > 0 {
		for _, r := range recs {
			if id, ok := r[metadata.OwnerField].(string); ok && !slices.Contains(owners, id) {
				owners = append(owners, id)
			}
		}
		var err error
		if users, err = access.UserValues(ctx, m.db.SQL(), m.db.Dialect, owners, userFields); err != nil {
			return nil, fmt.Errorf("mailing: read owners: %w", err)
		}
	}
	out := make([]map[string]string, len(recs))
	for i, r := range recs {
		vals := map[string]string{}
		for _, p := range t.Paths() {
			switch {
			case p.Owner:
				id, _ := r[metadata.OwnerField].(string)
				vals[p.Path] = format(nil, users[id][p.Target], lang)
			case p.TargetObject != "":
				target, _ := r[engine.ExpandKey].(map[string]any)[p.Field].(engine.Record)
				tobj, _ := schema.Object(p.TargetObject)
				f, _ := tobj.FieldOrSystem(p.Target)
				vals[p.Path] = format(f, target[p.Target], lang)
			default:
				f, _ := obj.FieldOrSystem(p.Field)
				vals[p.Path] = format(f, r[p.Field], lang)
			}
		}
		out[i] = vals
	}
	return out, nil
}

// yesNo are the words of booleans per language.
var yesNo = map[bool]metadata.Label{true: {"en": "Yes", "zh": "是"}, false: {"en": "No", "zh": "否"}}

// format writes a value (in the API's JSON form) as text: an option's
// label in lang, yes or no, numbers as the API writes them, lists joined
// with commas, nothing for an empty value.
func format(f *metadata.Field, v any, lang string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if f != nil && len(f.Options) > 0 {
			for _, o := range f.Options {
				if o.Value == x && len(o.Label) > 0 {
					return o.Label.Get(lang)
				}
			}
		}
		return x
	case bool:
		return yesNo[x].Get(lang)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, format(f, e, lang))
		}
		return strings.Join(parts, ", ")
	case []string:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, format(f, e, lang))
		}
		return strings.Join(parts, ", ")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// address normalises an address for comparison: e-mail in lower case,
// phone numbers as their digits (a leading + kept).
func address(channel string, v any) string {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if channel == marketing.ChannelEmail {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
