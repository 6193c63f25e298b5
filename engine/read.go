package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Record is a record in its JSON form: system fields and the fields the
// principal may read.
type Record map[string]any

// Get reads one record as the principal of ctx may see it; a record out
// of its reach is not found.
func (e *Engine) Get(ctx context.Context, object, id string) (Record, error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return e.getWith(ctx, e.db.SQL(), s, id)
}

// Get reads one record inside the unit of work, as its principal may see
// it.
func (w *Writer) Get(ctx context.Context, object, id string) (Record, error) {
	s, err := w.rights.ScopeFor(object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return w.e.getWith(ctx, w.tx, s, id)
}

// GetWith reads one record through s, a Scope of a Rights the caller
// holds (a reader that needs the scope as well as the record decides once:
// custom links): as s's principal may see it, and not found when it is out
// of their reach.
func (e *Engine) GetWith(ctx context.Context, s *Scope, id string) (Record, error) {
	if err := s.Can(metadata.ActionRead); err != nil {
		return nil, err
	}
	return e.getWith(ctx, e.db.SQL(), s, id)
}

// GetWith reads one record inside the unit of work through s, a Scope of
// another principal's Rights (Rights.For) at the unit of work's snapshot:
// as that principal may see it, and not found when it is out of their
// reach. What the unit of work wrote before is visible.
func (w *Writer) GetWith(ctx context.Context, s *Scope, id string) (Record, error) {
	if s.r.snap != w.rights.snap {
		return nil, fmt.Errorf("engine: read %s %s: the scope belongs to metadata version %d, the unit of work to %d", s.obj.Name, id, s.r.snap.Version, w.rights.snap.Version)
	}
	if err := s.Can(metadata.ActionRead); err != nil {
		return nil, err
	}
	return w.e.getWith(ctx, w.tx, s, id)
}

// getWith reads one record for a scope on q.
func (e *Engine) getWith(ctx context.Context, q store.Querier, s *Scope, id string) (Record, error) {
	rule, err := s.Predicate(ctx, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	stmt := "SELECT " + s.selectList(e.db.Dialect) + s.linkList() + " FROM " + store.Ident(s.obj.Name) + where(rule.SQL, `"id" = ?`)
	r, err := e.readRecords(ctx, q, s, stmt, append(append(make([]any, 0, len(rule.Args)+1), rule.Args...), id), rowShape{limit: 1, links: true})
	if err != nil {
		return nil, err
	}
	if len(r.recs) == 0 {
		return nil, notFound("no %s with id %s", s.obj.Name, id)
	}
	return r.recs[0], nil
}

// rowsRead is what readRecords read.
type rowsRead struct {
	recs []Record
	// last holds the storage values of the limit-th record, by column
	// (Scope.columns), for the cursor of the next page.
	last []any
	// more tells that the query had a row beyond limit.
	more bool
	// found holds the answers of the statement's probe columns, taken
	// from its first row; nil when no row came.
	found []bool
}

// rowShape is what a statement readRecords runs selects besides s's
// columns, and how many of its rows are wanted.
type rowShape struct {
	// limit is the most records read.
	limit int
	// links tells that s's columns are followed by the links of its
	// readable many-to-many fields (Scope.linkList); otherwise they are
	// read after the rows, for all of them at once (addLinks).
	links bool
	// probes is the number of record-rule probe answers that end the
	// statement's columns (query.Page.Probes).
	probes int
}

// readRecords runs a query (with "?" placeholders and storage-form
// arguments) selecting s's columns (Scope.columns, in their order), and
// the links when sh.links, and turns up to sh.limit rows into the records
// the principal sees, converting each value as it is scanned, with their
// many-to-many links. The statement's last sh.probes columns are the
// answers of record-rule probes: when one found a row, readRecords stops
// at the first row and returns only the answers (the caller reads again
// with the branches they open).
func (e *Engine) readRecords(ctx context.Context, q store.Querier, s *Scope, stmt string, args []any, sh rowShape) (rowsRead, error) {
	var out rowsRead
	rows, err := e.db.Query(ctx, q, store.Rebind(e.db.Dialect, stmt), store.Args(e.db.Dialect, args)...)
	if err != nil {
		return out, fmt.Errorf("engine: read %s: %w", s.obj.Name, err)
	}
	defer rows.Close()
	cols, defs := s.columns(e.db.Dialect), s.columnDefs(e.db.Dialect)
	var links []*metadata.Field
	if sh.links {
		links = s.linksRead()
	}
	n := len(cols) + len(links)
	vals, ptrs := store.ScanTargets(n + sh.probes)
	limit := sh.limit
	out.recs = make([]Record, 0, min(limit, 64))
	for rows.Next() {
		if len(out.recs) == limit {
			out.more = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, fmt.Errorf("engine: read %s: %w", s.obj.Name, err)
		}
		if sh.probes > 0 && out.found == nil {
			if out.found, err = probeAnswers(vals[n:]); err != nil {
				return out, fmt.Errorf("engine: read %s: %w", s.obj.Name, err)
			}
			if anyFound(out.found) {
				out.recs = nil
				return out, nil
			}
		}
		if len(out.recs) == limit-1 {
			out.last = slices.Clone(vals[:len(cols)])
		}
		rec := make(Record, len(cols))
		for i, v := range vals[:len(cols)] {
			d := defs[i]
			o, err := d.typ.Output(d.f, v)
			if err != nil {
				return out, fmt.Errorf("read %s.%s: %w", s.obj.Name, cols[i], err)
			}
			rec[cols[i]] = o
		}
		for i, f := range links {
			if rec[f.Name], err = splitLinks(vals[len(cols)+i]); err != nil {
				return out, fmt.Errorf("read %s.%s: %w", s.obj.Name, f.Name, err)
			}
		}
		out.recs = append(out.recs, rec)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("engine: read %s: %w", s.obj.Name, err)
	}
	rows.Close()
	if !sh.links {
		if err := e.addLinks(ctx, q, s, out.recs); err != nil {
			return out, err
		}
	}
	return out, nil
}

// linksColumn is the column that selects, with a row of object, the ids
// its many-to-many field links to: sorted, joined by commas (ids are
// UUIDs), NULL when there is none. The same SQL on both databases (SQLite
// 3.44 and later know string_agg with ORDER BY); the link table's primary
// key gives the ids in order.
func linksColumn(object, field string) string {
	return `(SELECT string_agg("target_id", ',' ORDER BY "target_id") FROM ` + store.Ident(store.LinkTable(object, field)) +
		` WHERE "source_id" = ` + store.Ident(object) + `."id")`
}

// splitLinks turns a linksColumn value into the field's JSON form.
func splitLinks(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return noLinks, nil
	case string:
		return strings.Split(v, ","), nil
	case []byte:
		return strings.Split(string(v), ","), nil
	}
	return nil, fmt.Errorf("links read as %T", v)
}

// selectRows runs a SELECT of cols limited by the record predicate of
// action plus an extra predicate; tail is appended (ORDER BY, LIMIT, FOR
// UPDATE).
func (e *Engine) selectRows(ctx context.Context, q store.Querier, s *Scope, cols []string, action, pred string, args []any, tail string) ([]map[string]any, error) {
	return e.selectList(ctx, q, s, query.SelectList(cols), action, pred, args, tail)
}

// selectList is selectRows with its select list written out.
func (e *Engine) selectList(ctx context.Context, q store.Querier, s *Scope, list, action, pred string, args []any, tail string) ([]map[string]any, error) {
	rule, err := s.Predicate(ctx, action)
	if err != nil {
		return nil, err
	}
	stmt := "SELECT " + list + " FROM " + store.Ident(s.obj.Name) + where(rule.SQL, pred) + tail
	all := append(append(make([]any, 0, len(rule.Args)+len(args)), rule.Args...), args...)
	rows, err := e.db.Query(ctx, q, store.Rebind(e.db.Dialect, stmt), store.Args(e.db.Dialect, all)...)
	if err != nil {
		return nil, fmt.Errorf("engine: read %s: %w", s.obj.Name, err)
	}
	return store.ScanMaps(rows)
}

// outputRows converts rows to records and adds their many-to-many links.
func (e *Engine) outputRows(ctx context.Context, q store.Querier, s *Scope, rows []map[string]any) ([]Record, error) {
	recs := make([]Record, len(rows))
	for i, raw := range rows {
		rec, err := s.output(raw)
		if err != nil {
			return nil, err
		}
		recs[i] = rec
	}
	return recs, e.addLinks(ctx, q, s, recs)
}

// noLinks is the value of a many-to-many field without links, shared by
// every record that has none (an empty slice cannot be changed in place).
var noLinks any = []string{}

// addLinks adds to records the ids of the records their readable
// many-to-many fields link to.
func (e *Engine) addLinks(ctx context.Context, q store.Querier, s *Scope, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	var ids []any
	for _, f := range s.linksRead() {
		if ids == nil {
			ids = make([]any, len(recs))
			for i, r := range recs {
				ids[i] = r["id"]
			}
		}
		links, err := e.linksOf(ctx, q, s.obj.Name, f.Name, ids)
		if err != nil {
			return err
		}
		for i, id := range ids {
			id, _ := id.(string)
			if l, ok := links[id]; ok {
				recs[i][f.Name] = l
			} else {
				recs[i][f.Name] = noLinks
			}
		}
	}
	return nil
}

// loadLinks reads the links of a many-to-many field for a page of records.
func (e *Engine) loadLinks(ctx context.Context, q store.Querier, object, field string, ids []string) (map[string][]string, error) {
	return e.linksOf(ctx, q, object, field, anySlice(ids))
}

// linksOf reads the links of a many-to-many field for records by id (as
// arguments: a page's ids as its records hold them).
func (e *Engine) linksOf(ctx context.Context, q store.Querier, object, field string, ids []any) (map[string][]string, error) {
	out := map[string][]string{}
	var s, t string
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		query := "SELECT \"source_id\", \"target_id\" FROM " + store.Ident(store.LinkTable(object, field)) + " WHERE " + store.In(`"source_id"`, len(chunk)) + " ORDER BY \"source_id\", \"target_id\""
		rows, err := e.db.Query(ctx, q, store.Rebind(e.db.Dialect, query), chunk...)
		if err != nil {
			return nil, fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
		}
		for rows.Next() {
			if err := rows.Scan(&s, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
			}
			out[s] = append(out[s], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
		}
	}
	return out, nil
}

// where joins predicates with AND, skipping empty ones.
func where(preds ...string) string {
	var parts []string
	for _, p := range preds {
		if p != "" {
			parts = append(parts, "("+p+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(parts, " AND ")
}

// fieldDef returns the definition of a column: a field or a system field.
func fieldDef(obj *metadata.Object, col string) *metadata.Field {
	f, _ := obj.FieldOrSystem(col)
	return f
}

// toStorage turns a driver row into storage form, field by field.
func toStorage(obj *metadata.Object, raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for col, v := range raw {
		f := fieldDef(obj, col)
		if f == nil || v == nil {
			out[col] = v
			continue
		}
		j, err := metadata.TypeOf(f).Output(f, v)
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", obj.Name, col, err)
		}
		s, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(j))
		if err != nil {
			// Stored values that no longer pass today's rules (an option
			// since removed) are kept as read.
			s = v
		}
		out[col] = s
	}
	return out, nil
}

// output turns a driver row into the JSON form the principal may see.
func (s *Scope) output(raw map[string]any) (Record, error) {
	s.reads()
	rec := make(Record, len(raw))
	for col, v := range raw {
		c, ok := s.readable[col]
		if !ok {
			continue
		}
		out, err := c.typ.Output(c.f, v)
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", s.obj.Name, col, err)
		}
		rec[col] = out
	}
	return rec, nil
}
