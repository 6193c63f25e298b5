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
	// TotalBound is where a list's total stops counting unless the exact
	// count is asked for (ListOptions.ExactTotal): a larger total is
	// reported as TotalBound with ListResult.TotalCapped set, so asking
	// for a total never costs more than reading TotalBound index entries.
	TotalBound = 1000
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
	// Total asks for the number of matching records, counted up to
	// TotalBound.
	Total bool
	// ExactTotal asks for the exact number of matching records, however
	// many (it implies Total).
	ExactTotal bool
	// Where is one more condition, SQL over the object's table with "?"
	// placeholders, set by code (a report's drill-down), never taken from
	// a request; it is added to the filter.
	Where query.Predicate
}

// ListResult is one page of records.
type ListResult struct {
	Items      []Record `json:"items"`
	NextCursor string   `json:"next_cursor,omitempty"`
	Total      *int64   `json:"total,omitempty"`
	// TotalCapped says that more than Total records match: the count
	// stopped at TotalBound.
	TotalCapped bool `json:"total_capped,omitempty"`
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
	lq, err := e.listQuery(ctx, q, s, opt)
	if err != nil {
		return nil, err
	}
	// The cursor's segments are read in turn, each ordered and limited to
	// what the page still lacks: a page within the first segment (most
	// pages) is one plain SELECT walking the index, without the merge
	// and sort of a UNION of every segment.
	size := lq.page.Limit - 1
	items := make([]Record, 0, min(size, 64))
	var last map[string]any
	more := false
	for i := 0; i < lq.segments() && !more; i++ {
		stmt, args := lq.segment(i, size-len(items)).SQL()
		recs, raw, m, err := e.readRecords(ctx, q, s, stmt, args, size-len(items))
		if err != nil {
			return nil, err
		}
		items = append(items, recs...)
		if raw != nil {
			last = raw
		}
		more = m
	}
	res := &ListResult{Items: items}
	if more {
		var err error
		if res.NextCursor, err = query.EncodeCursor(lq.page.Keys, last); err != nil {
			return nil, err
		}
	}
	if opt.Total || opt.ExactTotal {
		bound := TotalBound
		if opt.ExactTotal {
			bound = 0
		}
		n, capped, err := e.count(ctx, q, s.obj.Name, lq.page.Branches, lq.page.Where, bound)
		if err != nil {
			return nil, err
		}
		res.Total, res.TotalCapped = &n, capped
	}
	return res, nil
}

// Count returns how many records of object the principal of ctx may read
// match filter (every record when empty): all of them when bound is 0,
// else up to bound, with capped set when more match. It is the total of a
// list, counted by the same decision.
func (e *Engine) Count(ctx context.Context, object, filter string, bound int) (n int64, capped bool, err error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return 0, false, err
	}
	var where query.Predicate
	if filter != "" {
		if where, err = query.CompileFilter(filter, s.obj, s.QueryOptions(ctx)); err != nil {
			return 0, false, err
		}
	}
	branches, err := s.branches(ctx, e.db.SQL(), metadata.ActionRead)
	if err != nil {
		return 0, false, err
	}
	return e.count(ctx, e.db.SQL(), s.obj.Name, branches, where, bound)
}

// listQuery is a list request compiled for one scope.
type listQuery struct {
	page query.Page
}

// segments is how many segments of the sorted rows a list reads (at
// least one).
func (lq *listQuery) segments() int { return max(1, len(lq.page.Segments)) }

// segment returns the read of segment i for at most n records, and one
// more to tell whether the list goes on.
func (lq *listQuery) segment(i, n int) query.Page {
	p := lq.page
	if len(p.Segments) > 0 {
		p.Segments = p.Segments[i : i+1]
	}
	p.Limit = n + 1
	return p
}

// listQuery compiles a list request: the record rule of the scope as
// disjoint branches (those that select nothing on q left out), the
// filter, the sort and the cursor's segments.
func (e *Engine) listQuery(ctx context.Context, q store.Querier, s *Scope, opt ListOptions) (*listQuery, error) {
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
	if !opt.Where.Empty() {
		sql, args := query.And(filter, opt.Where)
		filter = query.Predicate{SQL: sql, Args: args}
	}
	keys, err := query.ParseSort(opt.Sort, s.obj, qo)
	if err != nil {
		return nil, err
	}
	segs, err := query.Segments(keys, opt.Cursor, s.obj, qo)
	if err != nil {
		return nil, err
	}
	branches, err := s.branches(ctx, q, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return &listQuery{page: query.Page{Table: s.obj.Name, Columns: s.columns(e.db.Dialect), Branches: branches,
		Where: filter, Segments: segs, Keys: keys, Limit: limit + 1}}, nil
}

// count counts the records of table in the branches that match filter:
// all of them when bound is 0, else up to bound (capped: more match).
func (e *Engine) count(ctx context.Context, q store.Querier, table string, branches []query.Predicate, filter query.Predicate, bound int) (int64, bool, error) {
	stmt, args := query.Count(table, branches, filter, bound)
	var n int64
	if err := e.db.QueryRow(ctx, q, store.Rebind(e.db.Dialect, stmt), store.Args(e.db.Dialect, args)...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("engine: count %s: %w", table, err)
	}
	if bound > 0 && n > int64(bound) {
		return int64(bound), true, nil
	}
	return n, false, nil
}
