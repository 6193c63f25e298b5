package imports

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
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
		for _, r := range batch {
			updated, err := writeRow(ctx, w, opt, r)
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
func writeRow(ctx context.Context, w *engine.Writer, opt Options, r row) (updated bool, err error) {
	err = w.Savepoint(ctx, "crm_import_row", func() error {
		var err error
		updated, err = writeRecord(ctx, w, opt, r)
		return err
	})
	return updated, err
}

// writeRecord creates a row's record, or updates the one with its key.
func writeRecord(ctx context.Context, w *engine.Writer, opt Options, r row) (updated bool, err error) {
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
