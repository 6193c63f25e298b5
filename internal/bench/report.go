package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports/run"
)

// PipelineReport is the report the report scenario runs: the standard
// template's pipeline_by_stage_month (count, amount and weighted amount of
// opportunities by stage and month of expected close, with subtotals).
const PipelineReport = "pipeline_by_stage_month"

// PipelineSQL is what an engineer would write by hand for the figures of
// PipelineReport on dialect: one GROUP BY of the opportunities matching
// where (no WHERE when empty), the weighted amount rounded to cents per
// record (amounts are positive).
func PipelineSQL(dialect, where string) string {
	month := `strftime('%Y-%m', "close_date")`
	if dialect == metadata.DialectPostgres {
		month = `to_char(("close_date")::timestamp, 'YYYY-MM')`
	}
	if where != "" {
		where = " WHERE " + where
	}
	probability := `CASE "stage"`
	for _, st := range Stages {
		probability += fmt.Sprintf(" WHEN '%s' THEN %d", st, stageProbability[st])
	}
	return `SELECT "stage", ` + month + `, COUNT(*), SUM("amount"),
		SUM(("amount" * ` + probability + ` ELSE 0 END + 50) / 100)
		FROM "opportunity"` + where + ` GROUP BY 1, 2`
}

// ReportCase runs PipelineReport as pr against PipelineSQL(where) with
// args ("?" placeholders), the same records when where is pr's record
// scope.
func ReportCase(p *platform.Platform, pr *access.Principal, where string, args ...any) Case {
	r := run.New(p.Engine, p.Access)
	hand := store.Rebind(p.DB.Dialect, PipelineSQL(p.DB.Dialect, where))
	return Case{
		Name: "report", Target: TargetReport,
		Engine: func(ctx context.Context, _ int) error {
			rctx := request(ctx, pr)
			rights, err := r.Rights(rctx)
			if err != nil {
				return err
			}
			plan, err := r.Plan(rctx, rights, PipelineReport)
			if err != nil {
				return err
			}
			res, err := r.Run(rctx, rights, plan, nil)
			if err == nil && len(res.Rows) == 0 {
				err = errors.New("the report has no rows")
			}
			return err
		},
		Plain: func(ctx context.Context, _ int) error {
			rows, err := p.DB.Query(ctx, p.DB.SQL(), hand, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var stage, month, count, sum, weighted any
				if err := rows.Scan(&stage, &month, &count, &sum, &weighted); err != nil {
					return err
				}
				n++
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if n == 0 {
				return errors.New("the query has no rows")
			}
			return nil
		},
	}
}

// report: a rep runs PipelineReport over their opportunities (the
// runner adds their record scope).
func (env *Env) report() Case {
	return ReportCase(env.P, env.Rep, "owner_id = ?", env.Rep.UserID)
}
