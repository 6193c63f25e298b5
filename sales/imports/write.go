package imports

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// errDryRun rolls back the unit of work of a dry run.
var errDryRun = errors.New("imports: dry run")

// writeBatch writes a batch of rows in one unit of work, each row in a
// savepoint so a bad row is reported and skipped while the good ones
// commit, and adds what happened to res. When after is set, it runs last
// in the unit of work with the batch's own result (an import job records
// its progress there, so rows and progress commit together). In a dry
// run everything is rolled back and after is not called.
func writeBatch(ctx context.Context, eng *engine.Engine, p *access.Principal, opt Options, batch []row, res *Result, after func(tx store.Querier, got *Result) error) error {
	var got Result
	err := eng.Tx(ctx, p, func(w *engine.Writer) error {
		got = Result{} // the unit of work may run again
		refs := newResolver(w, opt.Object)
		for _, r := range batch {
			updated, err := writeRow(ctx, w, opt, refs, r)
			if problems, ok := rowErrors(r.line, err); ok {
				got.Skipped++
				got.Errors = append(got.Errors, problems...)
				continue
			}
			if err != nil {
				return fmt.Errorf("line %d: %w", r.line, err)
			}
			if updated {
				got.Updated++
			} else {
				got.Created++
			}
		}
		if opt.DryRun {
			return errDryRun
		}
		if after != nil {
			return after(w.SQL(), &got)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return err
	}
	res.add(&got)
	return nil
}

// add adds the counts and errors of got to res.
func (res *Result) add(got *Result) {
	res.Created += got.Created
	res.Updated += got.Updated
	res.Skipped += got.Skipped
	for _, e := range got.Errors {
		if len(res.Errors) < MaxErrors {
			res.Errors = append(res.Errors, e)
		}
	}
}

// writeRow creates a row's record, or updates the one with its key, in a
// savepoint of the unit of work.
func writeRow(ctx context.Context, w *engine.Writer, opt Options, refs *resolver, r row) (updated bool, err error) {
	err = w.Savepoint(ctx, "crm_import_row", func() error {
		var err error
		updated, err = writeRecord(ctx, w, opt, refs, r)
		return err
	})
	return updated, err
}

// writeRecord creates a row's record, or updates the one with its key.
func writeRecord(ctx context.Context, w *engine.Writer, opt Options, refs *resolver, r row) (updated bool, err error) {
	if err := refs.resolve(ctx, w, r.data); err != nil {
		return false, err
	}
	if opt.Key != "" {
		if v, ok := r.data[opt.Key]; ok {
			res, err := w.List(ctx, opt.Object, engine.ListOptions{Filter: opt.Key + " == " + literal(v), Limit: 2})
			if err != nil {
				return false, err
			}
			switch len(res.Items) {
			case 1:
				id, _ := res.Items[0]["id"].(string)
				_, err := w.Update(ctx, opt.Object, id, r.data)
				return true, err
			case 2:
				return false, &engine.ValidationError{Object: opt.Object, Errors: []engine.FieldError{{Field: opt.Key, Code: "ambiguous", Message: fmt.Sprintf("several records have this %s", opt.Key)}}}
			}
		}
	}
	_, err = w.Create(ctx, opt.Object, r.data)
	return false, err
}

// resolver turns the lookups of a batch's rows given by name into the ids
// of their records, as the list export writes them: a cell that is an id
// is kept (the write checks it); otherwise it names the record of the
// lookup's object whose naming field (metadata.Object.NamingField) has
// that text, among the records the importing user may read (the engine's
// list, under its permission decision). Where several have it, those
// related to the row's other lookups are kept (a quote's contact named
// 王伟 is the 王伟 of the quote's account). A name that no such record
// has, or several still have, is an error of the row. A batch's unit of
// work makes one (newResolver), anew when it runs again.
type resolver struct {
	object string
	// lookups are the object's lookup fields, each with its object.
	lookups []lookup
	// found are the records the batch's names found so far, by object
	// and name (those one record has): the rows of a file often name the
	// same few records (contacts of the same accounts), each looked up
	// once per batch.
	found map[string]string
}

// lookup is a lookup field and the object it points to.
type lookup struct {
	field  *metadata.Field
	target *metadata.Object
}

// newResolver finds the lookups of object under w's snapshot.
func newResolver(w *engine.Writer, object string) *resolver {
	rs := &resolver{object: object, found: map[string]string{}}
	schema := w.Snapshot().Schema
	obj, ok := schema.Object(object)
	if !ok {
		return rs
	}
	for _, f := range obj.Fields {
		in := metadata.FormInput(f)
		if target, ok := schema.Object(in.Target); ok && in.Kind == metadata.InputLookup {
			rs.lookups = append(rs.lookups, lookup{f, target})
		}
	}
	return rs
}

// resolve sets the ids of the records a row's lookups name in data.
func (rs *resolver) resolve(ctx context.Context, w *engine.Writer, data map[string]any) error {
	var refs []*ref
	for _, l := range rs.lookups {
		f := l.field
		switch x := data[f.Name].(type) {
		case string:
			refs = append(refs, &ref{field: f, target: l.target, name: x, set: func(id string) { data[f.Name] = id }})
		case []any:
			for i, e := range x {
				if name, ok := e.(string); ok {
					refs = append(refs, &ref{field: f, target: l.target, name: name, set: func(id string) { x[i] = id }})
				}
			}
		}
	}
	// Names first, then what several records have, narrowed by the ids the
	// row's other lookups found.
	related := map[string][]string{} // object → ids of the row's lookups
	for _, r := range refs {
		key := r.target.Name + "\x00" + r.name
		if id, ok := rs.found[key]; ok {
			r.id = id
		} else if err := r.find(ctx, w, nil); err != nil {
			return err
		} else if r.id != "" {
			rs.found[key] = r.id
		}
		if r.id != "" {
			related[r.target.Name] = append(related[r.target.Name], r.id)
		}
	}
	verr := &engine.ValidationError{Object: rs.object}
	for _, r := range refs {
		if r.id == "" && r.several {
			if err := r.find(ctx, w, related); err != nil {
				return err
			}
		}
		switch {
		case r.id != "":
			r.set(r.id)
		case r.several:
			verr.Errors = append(verr.Errors, engine.FieldError{Field: r.field.Name, Code: "ambiguous", Message: fmt.Sprintf("several %s records have the %s %q: give the id", r.target.Name, r.target.NamingField().Name, r.name)})
		default:
			verr.Errors = append(verr.Errors, engine.FieldError{Field: r.field.Name, Code: "unknown_reference", Message: r.problem})
		}
	}
	if len(verr.Errors) > 0 {
		return verr
	}
	return nil
}

// ref is a lookup's cell of an imported row: the id it names once found,
// or why none is.
type ref struct {
	field   *metadata.Field
	target  *metadata.Object
	name    string
	set     func(id string)
	id      string
	several bool
	problem string
}

// find looks up the record r names: an id is kept as it is; otherwise
// the record of r's object with that name the principal may read, among
// those related to the records in related (by object: the candidate's
// lookup to one of them) when given.
func (r *ref) find(ctx context.Context, w *engine.Writer, related map[string][]string) error {
	if uuid.Validate(r.name) == nil {
		r.id = r.name
		return nil
	}
	naming := r.target.NamingField()
	if naming == nil {
		r.problem = fmt.Sprintf("%q is not the id of a %s", r.name, r.target.Name)
		return nil
	}
	filter := naming.Name + " == " + strconv.Quote(r.name)
	if related != nil {
		scope, err := w.Rights().ScopeFor(r.target.Name, metadata.ActionRead)
		if err != nil {
			return fmt.Errorf("imports: find the %s named %q: %w", r.target.Name, r.name, err)
		}
		var near []string
		for _, f := range r.target.Fields {
			if in := metadata.FormInput(f); in.Kind == metadata.InputLookup && !in.Multiple && scope.Readable(f.Name) {
				for _, id := range related[in.Target] {
					near = append(near, f.Name+" == "+strconv.Quote(id))
				}
			}
		}
		if len(near) == 0 {
			return nil
		}
		filter += " && (" + strings.Join(near, " || ") + ")"
	}
	res, err := w.List(ctx, r.target.Name, engine.ListOptions{Filter: filter, Limit: 2})
	if err != nil {
		return fmt.Errorf("imports: find the %s named %q: %w", r.target.Name, r.name, err)
	}
	switch len(res.Items) {
	case 0:
		if related == nil {
			r.problem = fmt.Sprintf("no %s you may read has the %s %q", r.target.Name, naming.Name, r.name)
		}
	case 1:
		r.id, _ = res.Items[0]["id"].(string)
	default:
		r.several = true
	}
	return nil
}

// literal writes a key value as a filter literal.
func literal(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// rowErrors turns the error of a row that the row itself caused (bad
// values, a duplicate, a field it may not write) into row errors.
func rowErrors(line int, err error) ([]RowError, bool) {
	var ve *engine.ValidationError
	var re *engine.RequestError
	var de *engine.DuplicateError
	var fe *access.FieldError
	var out []RowError
	switch {
	case err == nil:
		return nil, false
	case errors.As(err, &ve):
		for _, e := range ve.Errors {
			out = append(out, RowError{Line: line, Field: e.Field, Message: e.Message})
		}
	case errors.As(err, &re):
		out = append(out, RowError{Line: line, Message: re.Message})
		for _, e := range re.Details {
			out = append(out, RowError{Line: line, Field: e.Field, Message: e.Message})
		}
	case errors.As(err, &de):
		out = append(out, RowError{Line: line, Message: de.Error()})
	case errors.As(err, &fe):
		out = append(out, RowError{Line: line, Field: fe.Field, Message: fe.Error()})
	case errors.Is(err, engine.ErrForbidden), errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrConflict):
		out = append(out, RowError{Line: line, Message: err.Error()})
	default:
		return nil, false
	}
	return out, true
}
