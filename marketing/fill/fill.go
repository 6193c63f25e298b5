// Package fill reads the values of placeholders ({{field}},
// {{lookup.field}}, {{owner.name}}) for records a user read, through the
// engine's one permission decision, and writes them as people read them.
// Mailings and printed documents share it.
package fill

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
)

// Readable refuses (ErrForbidden, naming the field) fields of object and
// placeholder paths the principal of rights may not read: a message never
// writes what its sender could not see.
func Readable(rights *engine.Rights, object string, fields []string, paths []*marketing.Path) error {
	scope, err := rights.ScopeFor(object, metadata.ActionRead)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if !scope.Readable(f) {
			return fmt.Errorf("%w: you may not read %s.%s", engine.ErrForbidden, object, f)
		}
	}
	for _, p := range paths {
		if !scope.Readable(p.Field) {
			return fmt.Errorf("%w: you may not read %s.%s, which {{%s}} writes", engine.ErrForbidden, object, p.Field, p.Path)
		}
		if p.TargetObject == "" {
			continue
		}
		ts, err := rights.ScopeFor(p.TargetObject, metadata.ActionRead)
		if err != nil {
			return fmt.Errorf("{{%s}}: %w", p.Path, err)
		}
		if !ts.Readable(p.Target) {
			return fmt.Errorf("%w: you may not read %s.%s, which {{%s}} writes", engine.ErrForbidden, p.TargetObject, p.Target, p.Path)
		}
	}
	return nil
}

// Values returns, for each record of object (as the principal of ctx read
// it), the text of each path in lang as people read it (metadata.Display;
// datetimes in the time zone of ctx, else the server's): lookups are
// expanded through the same principal's rights (a target out of reach, or
// a field hidden from it, gives nothing), owners are read from the users.
func Values(ctx context.Context, eng *engine.Engine, object string, paths []*marketing.Path, lang string, recs []engine.Record) ([]map[string]string, error) {
	schema := eng.Snapshot().Schema
	obj, ok := schema.Object(object)
	if !ok {
		return nil, fmt.Errorf("%w: no object %s", engine.ErrNotFound, object)
	}
	var lookups, userFields, owners []string
	for _, p := range paths {
		switch {
		case p.Owner:
			if !slices.Contains(userFields, p.Target) {
				userFields = append(userFields, p.Target)
			}
		case p.TargetObject != "" && !slices.Contains(lookups, p.Field):
			lookups = append(lookups, p.Field)
		}
	}
	if err := eng.Expand(ctx, object, recs, lookups); err != nil {
		return nil, fmt.Errorf("fill: read the records of lookups: %w", err)
	}
	var users map[string]map[string]any
	if len(userFields) > 0 {
		for _, r := range recs {
			if id, ok := r[metadata.OwnerField].(string); ok && !slices.Contains(owners, id) {
				owners = append(owners, id)
			}
		}
		var err error
		db := eng.DB()
		if users, err = access.UserValues(ctx, db.SQL(), db.Dialect, owners, userFields); err != nil {
			return nil, fmt.Errorf("fill: read owners: %w", err)
		}
	}
	loc := eng.Location(ctx)
	out := make([]map[string]string, len(recs))
	for i, r := range recs {
		vals := map[string]string{}
		for _, p := range paths {
			switch {
			case p.Owner:
				id, _ := r[metadata.OwnerField].(string)
				vals[p.Path] = metadata.Display(nil, users[id][p.Target], lang, loc)
			case p.TargetObject != "":
				target, _ := r[engine.ExpandKey].(map[string]any)[p.Field].(engine.Record)
				tobj, _ := schema.Object(p.TargetObject)
				var f *metadata.Field
				if tobj != nil {
					f, _ = tobj.FieldOrSystem(p.Target)
				}
				vals[p.Path] = metadata.Display(f, target[p.Target], lang, loc)
			default:
				f, _ := obj.FieldOrSystem(p.Field)
				vals[p.Path] = metadata.Display(f, r[p.Field], lang, loc)
			}
		}
		out[i] = vals
	}
	return out, nil
}
