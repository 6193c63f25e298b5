package engine

import (
	"context"
	"fmt"
	"slices"
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

// SetTotal sets the total a list asks for from the total query parameter
// of a list request: "", "false" or "0" none, "true" or "1" counted up to
// TotalBound, "exact" all. It reports false for any other value.
func (o *ListOptions) SetTotal(v string) bool {
	switch v {
	case "", "false", "0":
		o.Total, o.ExactTotal = false, false
	case "true", "1":
		o.Total, o.ExactTotal = true, false
	case "exact":
		o.Total, o.ExactTotal = true, true
	default:
		return false
	}
	return true
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
	lq, err := e.listQuery(ctx, s, opt)
	if err != nil {
		return nil, err
	}
	items, last, more, err := e.readPage(ctx, q, s, lq)
	if err != nil {
		return nil, err
	}
	res := &ListResult{Items: items}
	if more {
		if res.NextCursor, err = lq.cursor(last); err != nil {
			return nil, err
		}
	}
	if opt.Total || opt.ExactTotal {
		bound := TotalBound
		if opt.ExactTotal {
			bound = 0
		}
		n, capped, _, err := e.count(ctx, q, s.obj.Name, lq.page.Branches, lq.page.Where, bound, nil)
		if err != nil {
			return nil, err
		}
		res.Total, res.TotalCapped = &n, capped
	}
	return res, nil
}

// readPage reads the records of a page and, when the list goes on, the
// storage values of its last one. The cursor's segments are read in turn,
// each ordered and limited to what the page still lacks: a page within
// the first segment (most pages) is one plain SELECT walking the index,
// without the merge and sort of a UNION of every segment. The first read
// asks the record rule's probes (are records shared with the user?) in
// its own statement and assumes they find nothing; when one finds a row
// (seen in the first row, before any record is converted), or no row came
// and a probe asked alone finds one, the page is read again with the
// branches the probes opened. A page is thus one statement (and its
// links) whether or not the user has shares.
func (e *Engine) readPage(ctx context.Context, q store.Querier, s *Scope, lq *listQuery) (items []Record, last []any, more bool, err error) {
	size := lq.page.Limit - 1
	for i := 0; i < lq.segments() && !more; i++ {
		probes := len(lq.page.Probes)
		stmt, args := lq.sql(i, size-len(items))
		r, err := e.readRecords(ctx, q, s, stmt, args, rowShape{limit: size - len(items), probes: probes})
		if err != nil {
			return nil, nil, false, err
		}
		if probes > 0 {
			found := r.found
			if found == nil {
				if found, err = lq.rule.probe(ctx, e.db, q); err != nil {
					return nil, nil, false, err
				}
			}
			if lq.settle(found) {
				return e.readPage(ctx, q, s, lq)
			}
		}
		if items == nil {
			items = r.recs // most pages: one segment
		} else {
			items = append(items, r.recs...)
		}
		if r.last != nil {
			last = r.last
		}
		more = r.more
	}
	return items, last, more, nil
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
	cr, err := e.compileRead(ctx, s, filter, "", false)
	if err != nil {
		return 0, false, err
	}
	var found []bool
	stmt, args := cr.countSQL(s.obj.Name, bound)
	n, capped, found, err = e.countWith(ctx, e.db.SQL(), s.obj.Name, stmt, args, bound, len(cr.rule.probes))
	if err != nil || !anyFound(found) {
		return n, capped, err
	}
	n, capped, _, err = e.count(ctx, e.db.SQL(), s.obj.Name, cr.rule.branches(found), cr.filter, bound, nil)
	return n, capped, err
}

// listQuery is a list request compiled for one scope.
type listQuery struct {
	page query.Page
	// rule is the record rule whose probes page.Probes asks, until
	// settle.
	rule readRule
	// first, when set, is the statement of the first segment's read
	// (segment(0, page.Limit-1).SQL()) as the compiled read keeps it for
	// the first page of a list, until settle.
	first *pageStmt
}

// settle takes the answers of the rule's probes: the page reads without
// them from now on, and with the branches they opened. It reports whether
// one found a row (what was read with the branches that assumed none
// must be read again).
func (lq *listQuery) settle(found []bool) bool {
	lq.page.Probes, lq.first = nil, nil
	if !anyFound(found) {
		return false
	}
	lq.page.Branches = lq.rule.branches(found)
	return true
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

// sql returns the statement reading segment i for at most n records (and
// one more), and its arguments.
func (lq *listQuery) sql(i, n int) (string, []any) {
	if i == 0 && lq.first != nil {
		return lq.first.sql, lq.first.args
	}
	return lq.segment(i, n).SQL()
}

// cursor returns the cursor of the page after the record whose storage
// values, by column (page.Columns), are last.
func (lq *listQuery) cursor(last []any) (string, error) {
	row := make(map[string]any, len(lq.page.Keys))
	for _, k := range lq.page.Keys {
		if i := slices.Index(lq.page.Columns, k.Field); i >= 0 {
			row[k.Field] = last[i]
		}
	}
	return query.EncodeCursor(lq.page.Keys, row)
}

// listQuery compiles a list request: the record rule of the scope as
// disjoint branches (those with a probe left out, their probes asked in
// the statement until settle), the filter, the sort and the cursor's
// segments.
func (e *Engine) listQuery(ctx context.Context, s *Scope, opt ListOptions) (*listQuery, error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return nil, &RequestError{Message: fmt.Sprintf("limit %d is above the maximum of %d", limit, MaxLimit), Details: []FieldError{{Field: "limit", Code: "too_large", Message: "at most " + strconv.Itoa(MaxLimit)}}}
	}
	cr, err := e.compileRead(ctx, s, opt.Filter, opt.Sort, true)
	if err != nil {
		return nil, err
	}
	lq := &listQuery{rule: cr.rule, page: query.Page{Table: s.obj.Name, Columns: s.columns(e.db.Dialect), List: s.selectList(e.db.Dialect), Branches: cr.branches,
		Lateral: e.db.Dialect == metadata.DialectPostgres, Where: cr.filter, Keys: cr.keys, Limit: limit + 1, Probes: cr.rule.probes}}
	if opt.Cursor == "" && opt.Where.Empty() {
		// The first page of a list reads the same way every time.
		if lq.first, err = cr.firstPage(lq.page, s.obj, e.db.Dialect); err != nil {
			return nil, err
		}
		lq.page.Segments = lq.first.segs
		return lq, nil
	}
	if !opt.Where.Empty() {
		sql, args := query.And(cr.filter, opt.Where)
		lq.page.Where = query.Predicate{SQL: sql, Args: args}
	}
	if lq.page.Segments, err = query.Segments(cr.keys, opt.Cursor, s.obj, s.QueryOptions(ctx)); err != nil {
		return nil, err
	}
	return lq, nil
}

// count counts the records of table in the branches that match filter:
// all of them when bound is 0, else up to bound (capped: more match). It
// asks probes in the same statement and returns their answers.
func (e *Engine) count(ctx context.Context, q store.Querier, table string, branches []query.Branch, filter query.Predicate, bound int, probes []query.Predicate) (int64, bool, []bool, error) {
	stmt, args := query.Count(table, branches, filter, bound, probes...)
	return e.countWith(ctx, q, table, stmt, args, bound, len(probes))
}

// countWith runs a count statement (query.Count) with its probe columns.
func (e *Engine) countWith(ctx context.Context, q store.Querier, table, stmt string, args []any, bound, probes int) (int64, bool, []bool, error) {
	var n int64
	dest := make([]any, 1+probes)
	dest[0] = &n
	flags := make([]any, probes)
	for i := range flags {
		dest[1+i] = &flags[i]
	}
	if err := e.db.QueryRow(ctx, q, store.Rebind(e.db.Dialect, stmt), store.Args(e.db.Dialect, args)...).Scan(dest...); err != nil {
		return 0, false, nil, fmt.Errorf("engine: count %s: %w", table, err)
	}
	found, err := probeAnswers(flags)
	if err != nil {
		return 0, false, nil, fmt.Errorf("engine: count %s: %w", table, err)
	}
	if bound > 0 && n > int64(bound) {
		return int64(bound), true, found, nil
	}
	return n, false, found, nil
}

// probeAnswers reads the EXISTS columns of probes (an integer on SQLite,
// a boolean on PostgreSQL).
func probeAnswers(vals []any) ([]bool, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	found := make([]bool, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case bool:
			found[i] = x
		case int64:
			found[i] = x != 0
		default:
			return nil, fmt.Errorf("a probe answered %T", v)
		}
	}
	return found, nil
}
