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

// queryOptions builds the filter compiler's options for a request: a
// field the principal cannot read cannot be filtered or sorted on (it
// answers like a field that does not exist), and a path through a lookup
// only reaches records the principal may read.
func (e *Engine) queryOptions(ctx context.Context, r *request) query.Options {
	unknown := func(object, field string) error {
		return &query.Error{Field: field, Message: fmt.Sprintf("unknown field %q on %s", field, object)}
	}
	return query.Options{
		Dialect: e.db.Dialect,
		Now:     e.now().In(e.location(ctx)),
		Schema:  r.snap.Schema,
		CheckField: func(object, field string) error {
			if metadata.IsSystemField(field) {
				return nil
			}
			if object == r.obj.Name {
				if !r.readable(field) {
					return unknown(object, field)
				}
				return nil
			}
			if r.d.CanObject(r.p, object, metadata.ActionRead) != nil || r.d.FieldLevel(r.p, object, field) == metadata.FieldHidden {
				return unknown(object, field)
			}
			return nil
		},
		RecordRule: func(object string) (query.Predicate, error) {
			if r.d.CanObject(r.p, object, metadata.ActionRead) != nil {
				return query.Predicate{SQL: "1 = 0"}, nil
			}
			sql, args, err := r.d.RecordFilter(ctx, r.p, object, metadata.ActionRead)
			return query.Predicate{SQL: sql, Args: args}, err
		},
	}
}

// List returns a page of the records of object that the principal may
// read and that match the filter, in the order asked, after the cursor.
// The record rule, the filter and the cursor all become one WHERE clause.
func (e *Engine) List(ctx context.Context, object string, opt ListOptions) (*ListResult, error) {
	r, err := e.begin(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return nil, &RequestError{Message: fmt.Sprintf("limit %d is above the maximum of %d", limit, MaxLimit), Details: []FieldError{{Field: "limit", Code: "too_large", Message: "at most " + strconv.Itoa(MaxLimit)}}}
	}
	qo := e.queryOptions(ctx, r)
	var filter query.Predicate
	if opt.Filter != "" {
		if filter, err = query.CompileFilter(opt.Filter, r.obj, qo); err != nil {
			return nil, err
		}
	}
	keys, err := query.ParseSort(opt.Sort, r.obj, qo)
	if err != nil {
		return nil, err
	}
	var after query.Predicate
	if opt.Cursor != "" {
		if after, err = query.After(keys, opt.Cursor, r.obj, qo); err != nil {
			return nil, err
		}
	}
	pred, args := andPredicates(filter, after)
	rows, err := e.selectRows(ctx, e.db.SQL(), r, r.columns(e.db.Dialect), metadata.ActionRead, pred, args,
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
	if res.Items, err = e.outputRows(ctx, e.db.SQL(), r, rows); err != nil {
		return nil, err
	}
	if opt.Total {
		n, err := e.count(ctx, r, filter)
		if err != nil {
			return nil, err
		}
		res.Total = &n
	}
	return res, nil
}

// count counts the records the principal may read that match filter.
func (e *Engine) count(ctx context.Context, r *request, filter query.Predicate) (int64, error) {
	rule, ruleArgs, err := r.d.RecordFilter(ctx, r.p, r.obj.Name, metadata.ActionRead)
	if err != nil {
		return 0, err
	}
	q := "SELECT COUNT(*) FROM " + store.Ident(r.obj.Name) + where(rule, filter.SQL)
	args := append(append([]any(nil), ruleArgs...), filter.Args...)
	var n int64
	if err := e.db.SQL().QueryRowContext(ctx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("engine: count %s: %w", r.obj.Name, err)
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
