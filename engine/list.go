package engine

import (
	"context"
	"fmt"
	"strconv"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ListOptions selects, orders and pages a list.
type ListOptions struct {
	// Filter is a boolean expression over the object's fields.
	Filter string
	// Sort is a comma-separated list of fields, "-" for descending.
	Sort string
	// Limit is the page size (DefaultLimit when 0, at most MaxLimit).
	Limit int
	// Cursor continues after the page that returned it.
	Cursor string
	// Total asks for the number of matching records.
	Total bool
}

// ListResult is one page of records.
type ListResult struct {
	Items      []Record `json:"items"`
	NextCursor string   `json:"next_cursor,omitempty"`
	Total      *int64   `json:"total,omitempty"`
}

// List returns a page of the records of object that the principal of ctx
// may read and that match the filter, in the order asked, after the
// cursor. The record predicate, the filter and the cursor all become one
// WHERE clause.
func (e *Engine) List(ctx context.Context, object string, opt ListOptions) (*ListResult, error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return e.list(ctx, e.db.SQL(), s, opt)
}

// List returns a page of records inside the unit of work, as its
// principal may see them.
func (w *Writer) List(ctx context.Context, object string, opt ListOptions) (*ListResult, error) {
	s, err := w.rights.ScopeFor(object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return w.e.list(ctx, w.tx, s, opt)
}

// list reads a page for a scope on q.
func (e *Engine) list(ctx context.Context, q store.Querier, s *Scope, opt ListOptions) (*ListResult, error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return nil, &RequestError{Message: fmt.Sprintf("limit %d is above the maximum of %d", limit, MaxLimit), Details: []FieldError{{Field: "limit", Code: "too_large", Message: "at most " + strconv.Itoa(MaxLimit)}}}
	}
	qo := s.QueryOptions(ctx)
	var filter query.Predicate
	var err error
	if opt.Filter != "" {
		if filter, err = query.CompileFilter(opt.Filter, s.obj, qo); err != nil {
			return nil, err
		}
	}
	keys, err := query.ParseSort(opt.Sort, s.obj, qo)
	if err != nil {
		return nil, err
	}
	var after query.Predicate
	if opt.Cursor != "" {
		if after, err = query.After(keys, opt.Cursor, s.obj, qo); err != nil {
			return nil, err
		}
	}
	pred, args := andPredicates(filter, after)
	rows, err := e.selectRows(ctx, q, s, s.columns(e.db.Dialect), metadata.ActionRead, pred, args,
		" ORDER BY "+query.OrderBy(keys)+" LIMIT "+strconv.Itoa(limit+1))
	if err != nil {
		return nil, err
	}
	res := &ListResult{}
	if len(rows) > limit {
		rows = rows[:limit]
		if res.NextCursor, err = query.EncodeCursor(keys, rows[len(rows)-1]); err != nil {
			return nil, err
		}
	}
	if res.Items, err = e.outputRows(ctx, q, s, rows); err != nil {
		return nil, err
	}
	if opt.Total {
		n, err := e.count(ctx, q, s, filter)
		if err != nil {
			return nil, err
		}
		res.Total = &n
	}
	return res, nil
}

// count counts the records the principal may read that match filter.
func (e *Engine) count(ctx context.Context, q store.Querier, s *Scope, filter query.Predicate) (int64, error) {
	rule, err := s.Predicate(ctx, metadata.ActionRead)
	if err != nil {
		return 0, err
	}
	stmt := "SELECT COUNT(*) FROM " + store.Ident(s.obj.Name) + where(rule.SQL, filter.SQL)
	args := append(append([]any(nil), rule.Args...), filter.Args...)
	var n int64
	if err := q.QueryRowContext(ctx, store.Rebind(e.db.Dialect, stmt), store.Args(e.db.Dialect, args)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("engine: count %s: %w", s.obj.Name, err)
	}
	return n, nil
}

// andPredicates joins predicates with AND.
func andPredicates(ps ...query.Predicate) (string, []any) {
	var sqls []string
	var args []any
	for _, p := range ps {
		if p.SQL != "" {
			sqls = append(sqls, p.SQL)
			args = append(args, p.Args...)
		}
	}
	if len(sqls) == 0 {
		return "", nil
	}
	return where(sqls...)[len(" WHERE "):], args
}
