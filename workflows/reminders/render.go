package reminders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/internal/reach"
)

// valueFor returns how a recipient whose Scope of the record's object is
// s sees each field of rec (storage form) in a message: "" for a field it
// may not read; an option's label in lang; a lookup as the title of the
// record it points to, when the recipient may read that one; dates as
// 2006-01-02 and datetimes in the server's time zone.
func (rm *Reminders) valueFor(ctx context.Context, w *engine.Writer, s *engine.Scope, rec map[string]any, lang string) func(field string) string {
	obj := s.Object()
	return func(field string) string {
		v := rec[field]
		f, ok := obj.FieldOrSystem(field)
		if !ok || v == nil || !s.Readable(field) {
			return ""
		}
		if target, lookup := metadata.LookupTarget(f); lookup {
			return rm.title(ctx, w, s, target, fmt.Sprint(v))
		}
		return fieldText(f, v, lang, rm.zone())
	}
}

// fieldText writes v, a value (storage form, not empty) of field f, as a
// message shows it in lang: an option by its label, the options of a
// multi-picklist by their labels, yes or no, a datetime in loc.
func fieldText(f *metadata.Field, v any, lang string, loc *time.Location) string {
	if metadata.SingleOption(f) {
		return f.OptionLabel(fmt.Sprint(v), lang)
	}
	out, err := metadata.TypeOf(f).Output(f, v)
	if err != nil {
		return ""
	}
	if metadata.TypeOf(f).Kind() == metadata.KindDateTime {
		// Stored as a time (PostgreSQL) or its UTC text (SQLite), answered
		// as the latter.
		if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(out)); err == nil {
			return t.In(loc).Format("2006-01-02 15:04")
		}
	}
	switch x := out.(type) {
	case bool:
		return map[bool]map[string]string{true: {"en": "yes", "zh": "是"}, false: {"en": "no", "zh": "否"}}[x][langOr(lang)]
	case []string:
		labels := make([]string, len(x))
		for i, value := range x {
			labels[i] = f.OptionLabel(value, lang)
		}
		return strings.Join(labels, ", ")
	}
	return fmt.Sprint(out)
}

// langOr returns lang when messages are written in it, else English.
func langOr(lang string) string {
	if lang == "zh" {
		return lang
	}
	return "en"
}

// title returns the title of a record of object as the principal of s
// may read it: "" when it may not read the record or its title field.
func (rm *Reminders) title(ctx context.Context, w *engine.Writer, s *engine.Scope, object, id string) string {
	ts, err := s.Rights().Scope(object)
	if err != nil || ts.Object().TitleField == "" || !ts.Readable(ts.Object().TitleField) {
		return ""
	}
	if ok, err := reach.Record(ctx, rm.eng.DB(), w, ts, metadata.ActionRead, id); err != nil || !ok {
		return ""
	}
	rec, err := w.AsSystem().Load(ctx, object, id)
	if err != nil || rec[ts.Object().TitleField] == nil {
		return ""
	}
	return fmt.Sprint(rec[ts.Object().TitleField])
}
