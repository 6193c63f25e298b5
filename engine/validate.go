package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// write is a decoded record write: storage values by column, the
// many-to-many links sent, the values sent for fields the principal may
// not change (accepted when they equal the stored ones, so a record read
// back can be sent back as it is), and the problems found so far (reported
// with those of the merged record, all in one ValidationError).
type write struct {
	vals    map[string]any
	links   map[string][]string
	keep    map[string]any
	version int64
	verr    ValidationError
	// stored and storedLinks are, on an update, the record as it is and
	// its links: a value sent that they already hold is not a new
	// reference to check.
	stored      map[string]any
	storedLinks map[string][]string
}

// kept reports whether v, sent for field, is the value the record already
// holds (an update sending back what it read).
func (w *write) kept(field string, v any) bool {
	return w.stored != nil && reflect.DeepEqual(w.stored[field], v)
}

// keepValue notes a value sent for a field the principal may not change.
func (w *write) keepValue(field string, v any) {
	if w.keep == nil {
		w.keep = map[string]any{}
	}
	w.keep[field] = v
}

// link notes the links sent, or defaulted, for a many-to-many field.
func (w *write) link(field string, ids []string) {
	if w.links == nil {
		w.links = map[string][]string{}
	}
	// In the order reads give them (by id), so that the answer made from
	// them is the record as read.
	w.links[field] = slices.Sorted(slices.Values(ids))
}

// decode checks a request body against the object and the principal's
// field levels and converts its values to storage form. Unknown fields are
// a RequestError; on create, system fields are too, fields the principal
// may not write are ErrForbidden naming the field, and computed fields a
// ValidationError. On update those three are accepted when they carry the
// stored value (checkKept). Bad values are a ValidationError.
func (e *Engine) decode(s *Scope, data map[string]any, op Op) (*write, error) {
	obj := s.obj
	w := &write{vals: make(map[string]any, len(data)), verr: ValidationError{Object: obj.Name}}
	verr := &w.verr
	var shapeErrs map[string]string
	if sch := s.r.snap.recordSchema(obj.Name); sch != nil {
		shapeErrs = metadata.RecordErrors(sch, data)
	}
	var unknown []FieldError
	for key, v := range data {
		if key == "version" && op == OpUpdate {
			vf := fieldDef(obj, "version")
			n, err := metadata.TypeOf(vf).Normalize(vf, v)
			if err != nil || n == nil || n.(int64) < 1 {
				verr.add("version", "invalid", "version must be the record's current version number, a positive whole number")
				continue
			}
			w.version = n.(int64)
			continue
		}
		if key == metadata.OwnerField {
			id, ok := v.(string)
			switch {
			case !ok || id == "":
				verr.add(key, "invalid", "owner_id must be a user id")
			case s.Editable(key):
				w.vals[key] = id
			case op == OpUpdate:
				w.keepValue(key, v)
			default:
				return nil, &access.FieldError{Object: obj.Name, Field: key, Level: s.Level(key), Op: "write"}
			}
			continue
		}
		if metadata.IsSystemField(key) {
			if op == OpUpdate {
				w.keepValue(key, v)
				continue
			}
			unknown = append(unknown, FieldError{Field: key, Code: "read_only", Message: key + " is a system field and cannot be written"})
			continue
		}
		f, ok := obj.Field(key)
		if !ok {
			unknown = append(unknown, FieldError{Field: key, Code: "unknown_field", Message: fmt.Sprintf("%s has no field %q", obj.Name, key)})
			continue
		}
		lvl := s.Level(key)
		if lvl == metadata.FieldHidden || (lvl == metadata.FieldReadOnly && op != OpUpdate) {
			return nil, &access.FieldError{Object: obj.Name, Field: key, Level: lvl, Op: "write"}
		}
		if lvl == metadata.FieldReadOnly || metadata.Computed(f) {
			if op == OpUpdate {
				w.keepValue(key, v)
				continue
			}
			verr.add(key, "read_only", "%s is computed by the system and cannot be written", key)
			continue
		}
		if msg, bad := shapeErrs[key]; bad {
			verr.add(key, "invalid", "%s", msg)
			continue
		}
		val, err := metadata.TypeOf(f).Normalize(f, v)
		if err != nil {
			verr.add(key, "invalid", "%v", err)
			continue
		}
		if metadata.Linked(f) {
			w.link(key, val.([]string))
			continue
		}
		w.vals[key] = val
	}
	if len(unknown) > 0 {
		return nil, &RequestError{Message: "the body has fields that cannot be written", Details: unknown}
	}
	return w, nil
}

// checkKept makes sure every value sent for a field the principal may not
// change equals the stored one: a read-only field changed is ErrForbidden
// naming it, a system field changed a RequestError, a computed one a
// ValidationError.
func (e *Engine) checkKept(ctx context.Context, wr *Writer, s *Scope, id string, old map[string]any, w *write) error {
	var unknown []FieldError
	for key, sent := range w.keep {
		f := fieldDef(s.obj, key)
		var stored any
		if metadata.Linked(f) {
			links, err := e.loadLinks(ctx, wr.tx, s.obj.Name, key, []string{id})
			if err != nil {
				return err
			}
			ids := links[id]
			if ids == nil {
				ids = []string{}
			}
			stored = ids
		} else {
			var err error
			if stored, err = outputValue(f, old[key]); err != nil {
				return err
			}
		}
		if sameValue(f, sent, stored) {
			continue
		}
		switch {
		case metadata.IsSystemField(key) && key != metadata.OwnerField:
			unknown = append(unknown, FieldError{Field: key, Code: "read_only", Message: key + " is a system field and cannot be changed"})
		case s.Level(key) != metadata.FieldEditable:
			return &access.FieldError{Object: s.obj.Name, Field: key, Level: s.Level(key), Op: "write"}
		default:
			w.verr.add(key, "read_only", "%s is computed by the system and cannot be written", key)
		}
	}
	if len(unknown) > 0 {
		return &RequestError{Message: "the body changes fields that cannot be written", Details: unknown}
	}
	return nil
}

// sameValue reports whether a value sent in a request is the stored value
// in JSON form.
func sameValue(f *metadata.Field, sent, stored any) bool {
	if n, err := metadata.TypeOf(f).Normalize(f, sent); err == nil {
		if out, err := outputValue(f, n); err == nil {
			sent = out
		}
	}
	a, errA := json.Marshal(sent)
	b, errB := json.Marshal(stored)
	return errA == nil && errB == nil && string(a) == string(b)
}

// validate checks a merged record (storage form): required fields, each
// type's own record checks (picklist cascades), the references it makes
// and the files it attaches. Problems go into w.verr; the error is for
// failures of the database.
func (e *Engine) validate(ctx context.Context, wr *Writer, s *Scope, rec map[string]any, w *write) error {
	verr := &w.verr
	for _, f := range s.r.snap.recordPlan(s.obj).checked {
		if verr.has(f.Name) {
			continue
		}
		v := rec[f.Name]
		if f.Required && !metadata.Computed(f) {
			if metadata.Linked(f) {
				if ids, sent := w.links[f.Name]; sent && len(ids) == 0 {
					verr.add(f.Name, "required", "%s is required", f.Name)
				}
			} else if v == nil {
				verr.add(f.Name, "required", "%s is required", f.Name)
			}
		}
		for _, vi := range metadata.CheckRecordValue(s.obj, f, v, rec) {
			verr.add(f.Name, vi.Code, "%s", vi.Message)
		}
	}
	if owner, ok := w.vals[metadata.OwnerField].(string); ok && !w.kept(metadata.OwnerField, owner) {
		if err := e.checkOwner(ctx, s, owner, verr); err != nil {
			return err
		}
	}
	for name, v := range w.vals {
		f, ok := s.obj.Field(name)
		if !ok || v == nil || w.kept(name, v) {
			continue
		}
		if _, ok := metadata.LookupTarget(f); ok {
			if err := e.checkRefs(ctx, wr, s, f, []string{v.(string)}, verr); err != nil {
				return err
			}
		}
		if metadata.IsFile(f) {
			if err := e.checkFile(ctx, wr, s, f, rec, verr); err != nil {
				return err
			}
		}
	}
	for name, ids := range w.links {
		if w.stored != nil && slices.Equal(ids, w.storedLinks[name]) {
			continue
		}
		f, _ := s.obj.Field(name)
		if err := e.checkRefs(ctx, wr, s, f, ids, verr); err != nil {
			return err
		}
	}
	return nil
}

// prepare finishes a record before it is written: when its fields are
// valid the before-hooks run (automations' field updates); then computed
// fields are computed and the validation rules checked. Every problem of
// the record, field or rule, comes back in one ValidationError.
func (e *Engine) prepare(ctx context.Context, s *Scope, ev *Event, verr *ValidationError) error {
	if len(verr.Errors) == 0 {
		if err := e.hooks.run(ctx, true, ev); err != nil {
			return err
		}
	}
	fails, err := e.formulaCompute(ctx, ev)
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		verr.Errors = append(verr.Errors, ve.Errors...)
	}
	verr.Errors = append(verr.Errors, fails...)
	return verr.err()
}

// userChecker is the optional ability of a Decision to say whether an id
// is an active user.
type userChecker interface {
	ActiveUser(ctx context.Context, id string) (bool, error)
}

// checkOwner makes sure a record is given to an active user.
func (e *Engine) checkOwner(ctx context.Context, s *Scope, owner string, verr *ValidationError) error {
	uc, ok := s.r.d.(userChecker)
	if !ok {
		return nil
	}
	active, err := uc.ActiveUser(ctx, owner)
	if err != nil {
		return fmt.Errorf("engine: check owner: %w", err)
	}
	if !active {
		verr.add(metadata.OwnerField, "not_found", "no active user with id %s", owner)
	}
	return nil
}

// checkTransfer makes sure the principal may give record id away: it must
// reach the record through the transfer right (its owner, someone whose
// record scope covers it, or a role holding transfer), never through a
// share.
func (e *Engine) checkTransfer(ctx context.Context, wr *Writer, s *Scope, id string) error {
	ok, err := e.reaches(ctx, wr, s, metadata.ActionTransfer, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: you may not transfer this %s or manage its shares: only its owner, someone whose record scope covers it, or a role with the transfer right may", ErrForbidden, s.obj.Name)
	}
	return nil
}

// reaches reports whether the principal reaches record id for action.
func (e *Engine) reaches(ctx context.Context, wr *Writer, s *Scope, action, id string) (bool, error) {
	if s.Can(action) != nil {
		return false, nil
	}
	rows, err := e.selectRows(ctx, wr.tx, s, []string{"id"}, action, `"id" = ?`, []any{id}, "")
	if err != nil {
		return false, err
	}
	return len(rows) == 1, nil
}

// checkRefs checks that referenced records exist and that the principal
// may read them; one the principal cannot see answers as missing.
func (e *Engine) checkRefs(ctx context.Context, wr *Writer, s *Scope, f *metadata.Field, ids []string, verr *ValidationError) error {
	if len(ids) == 0 {
		return nil
	}
	name, _ := metadata.ReferenceTarget(f)
	target, err := s.r.Scope(name)
	if err != nil {
		return err
	}
	found, ask := wr.batch.known(wr.rows, name, ids)
	found, ask = wr.ownCreated(target, found, ask)
	asked, err := e.readableIDs(ctx, wr, target, ask)
	if err != nil {
		return fmt.Errorf("check %s references: %w", f.Name, err)
	}
	for _, id := range ids {
		if !found[id] && !asked[id] {
			verr.add(f.Name, "not_found", "no %s with id %s", name, id)
		}
	}
	return nil
}

// ownCreated moves from ask into found the records of target's object that
// the unit of work created owned by its principal and has not changed since:
// the principal reads them without asking the database, when it may read
// the object at all (every record scope reaches one's own records, as
// answersFromMemory assumes). A lead's conversion refers to the account it
// has just created, and so does each line of a new quote to the quote.
func (w *Writer) ownCreated(target *Scope, found map[string]bool, ask []string) (map[string]bool, []string) {
	if len(w.rows.created) == 0 || target.Can(metadata.ActionRead) != nil {
		return found, ask
	}
	rest := ask[:0:0]
	for _, id := range ask {
		if !w.rows.ownCreated(target.obj.Name, id, w.rights.p.UserID) {
			rest = append(rest, id)
			continue
		}
		if found == nil {
			found = map[string]bool{}
		}
		found[id] = true
	}
	return found, rest
}

// readableIDs returns which of ids name records of target's object the
// principal may read (none when they may not read the object at all).
func (e *Engine) readableIDs(ctx context.Context, wr *Writer, target *Scope, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		rows, err := e.selectRows(ctx, wr.tx, target, []string{"id"}, metadata.ActionRead, store.In(`"id"`, len(chunk)), anySlice(chunk), "")
		if errors.Is(err, ErrForbidden) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			found[r["id"].(string)] = true
		}
	}
	return found, nil
}

// anySlice converts strings to arguments.
func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
