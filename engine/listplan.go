package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// ListPlan is how the database answers a list request: the statement the
// engine runs for the principal of the request (record rule, filter,
// sort, cursor), its arguments and the database's plan for it, so an
// administrator can see whether a list walks an index in sort order or
// reads and sorts every matching record.
type ListPlan struct {
	SQL  string   `json:"sql"`
	Args []any    `json:"args"`
	Plan []string `json:"plan"`
	// CountSQL, CountArgs and CountPlan are those of the total, when it
	// is asked for.
	CountSQL  string   `json:"count_sql,omitempty"`
	CountArgs []any    `json:"count_args,omitempty"`
	CountPlan []string `json:"count_plan,omitempty"`
}

// ExplainList builds the statement List would run for the principal of
// ctx and asks the database for its plan (EXPLAIN QUERY PLAN on SQLite,
// EXPLAIN on PostgreSQL), without reading any record. List reads the
// cursor's segments in turn (query.Segments); the statement is that of the
// first, which answers every page that does not run past its end (the
// empty values of the sort key, which come last, are read only then).
// When records are shared with the user, the statement is the one List
// reads the page with once its first statement saw the shares (the
// probes are asked here on their own).
func (e *Engine) ExplainList(ctx context.Context, object string, opt ListOptions) (*ListPlan, error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	lq, err := e.listQuery(ctx, s, opt)
	if err != nil {
		return nil, err
	}
	if len(lq.page.Probes) > 0 {
		found, err := lq.rule.probe(ctx, e.db, e.db.SQL())
		if err != nil {
			return nil, err
		}
		if anyFound(found) {
			lq.settle(found)
		}
	}
	out := &ListPlan{}
	stmt, args := lq.segment(0, lq.page.Limit-1).SQL()
	if out.SQL, out.Args, out.Plan, err = e.explain(ctx, stmt, args); err != nil {
		return nil, err
	}
	if opt.Total || opt.ExactTotal {
		bound := TotalBound
		if opt.ExactTotal {
			bound = 0
		}
		stmt, args := query.Count(s.obj.Name, lq.page.Branches, lq.page.Where, bound)
		if out.CountSQL, out.CountArgs, out.CountPlan, err = e.explain(ctx, stmt, args); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// explain returns a statement in the dialect's form, its arguments and
// the database's plan for it, one line per step (indented by depth on
// SQLite, as PostgreSQL prints it).
func (e *Engine) explain(ctx context.Context, stmt string, args []any) (string, []any, []string, error) {
	stmt = store.Rebind(e.db.Dialect, stmt)
	args = store.Args(e.db.Dialect, args)
	if e.db.Dialect == metadata.DialectPostgres {
		rows, err := e.db.SQL().QueryContext(ctx, "EXPLAIN "+stmt, args...)
		if err != nil {
			return "", nil, nil, fmt.Errorf("engine: explain: %w", err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return "", nil, nil, fmt.Errorf("engine: explain: %w", err)
			}
			plan = append(plan, line)
		}
		return stmt, args, plan, rows.Err()
	}
	rows, err := e.db.SQL().QueryContext(ctx, "EXPLAIN QUERY PLAN "+stmt, args...)
	if err != nil {
		return "", nil, nil, fmt.Errorf("engine: explain: %w", err)
	}
	defer rows.Close()
	depth := map[int64]int{}
	var plan []string
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", nil, nil, fmt.Errorf("engine: explain: %w", err)
		}
		d := 0
		if parent != 0 {
			d = depth[parent] + 1
		}
		depth[id] = d
		plan = append(plan, strings.Repeat("  ", d)+detail)
	}
	return stmt, args, plan, rows.Err()
}
