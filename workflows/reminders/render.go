package reminders

import (
	"context"
	"fmt"
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
// message shows it in lang (metadata.Display): an option by its label,
// the options of a multi-picklist by their labels, yes or no, a datetime
// in loc, whichever database stored it.
func fieldText(f *metadata.Field, v any, lang string, loc *time.Location) string {
	out, err := metadata.TypeOf(f).Output(f, v)
	if err != nil {
		return ""
	}
	return metadata.Display(f, out, lang, loc)
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
