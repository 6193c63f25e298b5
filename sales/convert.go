package sales

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/sales/rules"
)

// choice is what the convert action's body says of one target: attach
// an existing record, create one (even when it duplicates others under a
// rule that only warns), or leave it to the conversion; values override
// the mapped ones.
type choice struct {
	id     string
	create bool
	skip   bool
	values map[string]any
}

// parseChoices reads the body of the convert action: one optional key per
// target, {"id": "…"}, {"create": true, …values} or null.
func parseChoices(conv *rules.CompiledConversion, in map[string]any) (map[string]choice, error) {
	out := map[string]choice{}
	bad := func(field, msg string) error {
		return &engine.RequestError{Message: "the body of convert is {\"<target>\": {\"create\": true} | {\"id\": \"…\"} | null}", Details: []engine.FieldError{{Field: field, Code: "invalid", Message: msg}}}
	}
	for _, key := range sortedKeys(in) {
		if _, ok := conv.Target(key); !ok {
			names := make([]string, len(conv.Targets))
			for i, t := range conv.Targets {
				names[i] = t.Name
			}
			return nil, bad(key, "not a target of the conversion ("+strings.Join(names, ", ")+")")
		}
		if in[key] == nil {
			out[key] = choice{skip: true}
			continue
		}
		m, ok := in[key].(map[string]any)
		if !ok {
			return nil, bad(key, "must be an object or null")
		}
		c := choice{values: map[string]any{}}
		for k, v := range m {
			switch k {
			case "id":
				if c.id, ok = v.(string); !ok || c.id == "" {
					return nil, bad(key+".id", "must be the id of an existing record")
				}
			case "create":
				if c.create, ok = v.(bool); !ok {
					return nil, bad(key+".create", "must be true or false")
				}
			default:
				c.values[k] = v
			}
		}
		if c.id != "" && (c.create || len(c.values) > 0) {
			return nil, bad(key, "give either an id or values to create with, not both")
		}
		out[key] = c
	}
	return out, nil
}

// convert runs a record's conversion (the convert action) in the action's
// unit of work: every target is created as the user (or an existing one
// attached), the source gets its converted values and the lookups to the
// targets, and a failure anywhere rolls everything back; the validation
// errors of every target come back together in one 422, each field
// prefixed by its target ("opportunity.amount").
func (s *Sales) convert(ctx context.Context, w *engine.Writer, t engine.Target, in map[string]any) (any, error) {
	source := t.Object.Name
	conv := rules.ConversionOf(w.Snapshot().Compiled(rules.KindConversions), source)
	if conv == nil {
		return nil, fmt.Errorf("%w: %s records have no conversion", engine.ErrNotFound, source)
	}
	choices, err := parseChoices(conv, in)
	if err != nil {
		return nil, err
	}
	whole, err := w.AsSystem().Get(ctx, source, t.ID)
	if err != nil {
		return nil, err
	}
	if converted(conv, whole) {
		return nil, fmt.Errorf("%w: this %s is already converted", engine.ErrConflict, source)
	}
	ids := map[string]string{}
	failed := map[string]bool{}
	verr := &engine.ValidationError{Object: source}
	for i := range conv.Targets {
		tg := &conv.Targets[i]
		ch := choices[tg.Name]
		switch {
		case ch.id != "":
			if _, err := w.Get(ctx, tg.Object, ch.id); err != nil {
				return nil, fmt.Errorf("%s: %w", tg.Name, err)
			}
			ids[tg.Name] = ch.id
			continue
		case ch.skip || (tg.Optional && !ch.create):
			continue
		}
		data, err := s.targetData(ctx, w, t, conv, tg, ids, ch)
		if err != nil {
			return nil, err
		}
		if id, err := matchTarget(ctx, w, tg, data); err != nil || id != "" {
			ids[tg.Name] = id
			if err != nil {
				return nil, err
			}
			continue
		}
		cctx := ctx
		if ch.create {
			cctx = WithAllowDuplicates(ctx)
		}
		var rec engine.Record
		err = w.Savepoint(ctx, "crm_sales", func() error {
			var err error
			rec, err = w.Create(cctx, tg.Object, data)
			return err
		})
		var ve *engine.ValidationError
		switch {
		case errors.As(err, &ve):
			failed[tg.Name] = true
			for _, fe := range ve.Errors {
				if ref, link := tg.Links[fe.Field]; link && failed[ref] {
					continue // the target it links to failed: that is the error
				}
				fe.Field = tg.Name + "." + fe.Field
				verr.Errors = append(verr.Errors, fe)
			}
		case err != nil:
			return nil, fmt.Errorf("%s: %w", tg.Name, err)
		default:
			ids[tg.Name], _ = rec["id"].(string)
		}
	}
	if len(verr.Errors) > 0 {
		return nil, verr
	}
	if err := s.writeBack(ctx, w, conv, t, ids); err != nil {
		return nil, err
	}
	out := map[string]any{}
	data := map[string]any{}
	for _, tg := range conv.Targets {
		if id, ok := ids[tg.Name]; ok {
			out[tg.Name+"_id"], data[tg.Name] = id, id
		} else {
			out[tg.Name+"_id"] = nil
		}
	}
	if err := w.Publish(ctx, engine.DomainEvent{Name: source + ".converted", Object: source, RecordID: t.ID, Data: data}); err != nil {
		return nil, err
	}
	return out, nil
}

// converted reports whether a source record (read whole) was converted:
// it has every value of the conversion's set, or a written-back lookup.
func converted(conv *rules.CompiledConversion, rec engine.Record) bool {
	for _, tg := range conv.Targets {
		if v, ok := rec[tg.WriteBack]; tg.WriteBack != "" && ok && v != nil && v != "" {
			return true
		}
	}
	if len(conv.Set) == 0 {
		return false
	}
	for k, v := range conv.Set {
		if fmt.Sprint(rec[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// targetData builds the values of a target from the source record as the
// user may read it: mapped fields the user may not read are not copied
// (the target keeps its default), nor target fields the user may not
// write; then the links to earlier targets and the body's own values.
func (s *Sales) targetData(ctx context.Context, w *engine.Writer, t engine.Target, conv *rules.CompiledConversion, tg *rules.ConversionTarget, ids map[string]string, ch choice) (map[string]any, error) {
	dst, err := w.Rights().Scope(tg.Object)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	for sf, tf := range tg.Fields {
		if v, ok := t.Record[sf]; ok && v != nil && t.Scope.Readable(sf) && dst.Editable(tf) {
			data[tf] = v
		}
	}
	if xs := conv.Formulas[tg.Name]; len(xs) > 0 {
		src := storageForm(t.Object, t.Record)
	formulas:
		for tf, x := range xs {
			if !dst.Editable(tf) {
				continue
			}
			for _, f := range x.Reads() {
				if !t.Scope.Readable(f) {
					continue formulas
				}
			}
			v, err := w.Eval(ctx, x, src)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", tg.Name, tf, err)
			}
			f, _ := dst.Object().Field(tf)
			out, err := metadata.TypeOf(f).Output(f, v)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", tg.Name, tf, err)
			}
			data[tf] = out
		}
	}
	for tf, ref := range tg.Links {
		if id, ok := ids[ref]; ok {
			data[tf] = id
		}
	}
	for k, v := range ch.values {
		data[k] = v
	}
	return data, nil
}

// storageForm turns a record read as JSON back into storage form, for
// formulas; values that do not convert are left out.
func storageForm(obj *metadata.Object, rec engine.Record) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		f, ok := obj.FieldOrSystem(k)
		if !ok || v == nil {
			continue
		}
		if sv, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(v)); err == nil {
			out[k] = sv
		}
	}
	return out
}

// matchTarget finds an existing record of the target, among those the
// user may read, with the values of every match field (the contact with
// this email on this account); "" when there is none or a match field has
// no text value.
func matchTarget(ctx context.Context, w *engine.Writer, tg *rules.ConversionTarget, data map[string]any) (string, error) {
	if len(tg.Match) == 0 {
		return "", nil
	}
	conds := make([]string, len(tg.Match))
	for i, f := range tg.Match {
		v, ok := data[f].(string)
		if !ok || v == "" {
			return "", nil
		}
		conds[i] = f + " == " + strconv.Quote(v)
	}
	res, err := w.List(ctx, tg.Object, engine.ListOptions{Filter: strings.Join(conds, " && "), Sort: "created_at", Limit: 1})
	if errors.Is(err, engine.ErrForbidden) {
		return "", nil
	}
	if err != nil || len(res.Items) == 0 {
		return "", err
	}
	id, _ := res.Items[0]["id"].(string)
	return id, nil
}

// writeBack sets the conversion's values and the lookups to the targets
// on the source: as the user when it may edit them all, otherwise as the
// system on the user's behalf (a status users may only read).
func (s *Sales) writeBack(ctx context.Context, w *engine.Writer, conv *rules.CompiledConversion, t engine.Target, ids map[string]string) error {
	data := map[string]any{}
	for k, v := range conv.Set {
		data[k] = v
	}
	for _, tg := range conv.Targets {
		if id, ok := ids[tg.Name]; ok && tg.WriteBack != "" {
			data[tg.WriteBack] = id
		}
	}
	if len(data) == 0 {
		return nil
	}
	asUser := true
	if sc, err := w.Rights().ScopeFor(t.Object.Name, metadata.ActionUpdate); err != nil {
		asUser = false
	} else {
		for k := range data {
			asUser = asUser && sc.Editable(k)
		}
	}
	if asUser {
		err := w.Savepoint(ctx, "crm_sales", func() error {
			_, err := w.Update(ctx, t.Object.Name, t.ID, data)
			return err
		})
		if !errors.Is(err, engine.ErrForbidden) {
			return err
		}
	}
	_, err := w.AsSystem().Update(ctx, t.Object.Name, t.ID, data)
	return err
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
