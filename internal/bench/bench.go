// Package bench holds the scenarios that measure the engine against plain
// bun on the same tables, in the same run: `go test -bench` in engine and
// `crm bench` both run them, so the figures in docs/performance.md can be
// reproduced on any database.
package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Case is one scenario: a setup, then the engine's way and plain bun's
// way of doing the same thing, called alternately with the iteration
// number.
type Case struct {
	Name   string
	Setup  func(ctx context.Context) error
	Engine func(ctx context.Context, i int) error
	Plain  func(ctx context.Context, i int) error
}

// Result is the time both ways took over N iterations.
type Result struct {
	Name   string
	N      int
	Engine time.Duration
	Plain  time.Duration
}

// Ratio is how many times longer the engine took.
func (r Result) Ratio() float64 { return float64(r.Engine) / float64(r.Plain) }

// String formats the result as one line.
func (r Result) String() string {
	return fmt.Sprintf("%-8s n=%-6d engine %9.1f µs/op   bun %9.1f µs/op   ratio %.2f", r.Name, r.N,
		float64(r.Engine.Microseconds())/float64(r.N), float64(r.Plain.Microseconds())/float64(r.N), r.Ratio())
}

// Prepare installs the standard template on the platform's empty
// database and returns a context acting for the first admin (a role with
// full policies, decided like any other).
func Prepare(ctx context.Context, p *platform.Platform) (context.Context, error) {
	if p.Engine.Snapshot().Version != 0 {
		return nil, fmt.Errorf("bench: the database already holds metadata; run the benchmark on an empty database")
	}
	fsys, err := defaults.FS("standard")
	if err != nil {
		return nil, err
	}
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "bench"); err != nil {
		return nil, err
	}
	if _, _, err := p.Access.EnsureAdmin(ctx, "bench-admin-password"); err != nil {
		return nil, err
	}
	_, pr, err := p.Access.Login(ctx, "admin", "bench-admin-password")
	if err != nil {
		return nil, err
	}
	return access.WithPrincipal(ctx, pr), nil
}

// Cases returns the scenarios over a prepared platform; actx acts for
// the admin.
func Cases(p *platform.Platform, actx context.Context) []Case {
	db := p.DB
	return []Case{
		{
			Name: "create",
			Engine: func(ctx context.Context, i int) error {
				_, err := p.Engine.Create(actx, "account", map[string]any{"name": fmt.Sprint("E", i), "industry": "retail", "employees": int64(i), "annual_revenue": "1000.50"})
				return err
			},
			Plain: func(ctx context.Context, i int) error {
				now := time.Now().UTC()
				row := map[string]any{"id": uuid.Must(uuid.NewV7()).String(), "created_at": metadata.DBValue(db.Dialect, now), "updated_at": metadata.DBValue(db.Dialect, now),
					"owner_id": "x", "version": 1, "name": fmt.Sprint("B", i), "industry": "retail", "employees": i, "annual_revenue": 100050}
				_, err := db.NewInsert().Model(&row).TableExpr("account").Exec(ctx)
				return err
			},
		},
		{
			Name: "list",
			Setup: func(ctx context.Context) error {
				for i := 0; i < 2000; i++ {
					ind := []string{"retail", "finance", "it"}[i%3]
					if _, err := p.Engine.Create(actx, "lead", map[string]any{"person": fmt.Sprint("P", i), "source": "web", "company": ind, "title": fmt.Sprintf("%04d", i)}); err != nil {
						return err
					}
				}
				return nil
			},
			Engine: func(ctx context.Context, i int) error {
				res, err := p.Engine.List(actx, "lead", engine.ListOptions{Filter: `company == "retail" && title > "0100"`, Sort: "-title", Limit: 50})
				if err == nil && len(res.Items) != 50 {
					err = fmt.Errorf("bench: list returned %d items", len(res.Items))
				}
				return err
			},
			Plain: func(ctx context.Context, i int) error {
				var rows []map[string]any
				err := db.NewSelect().TableExpr("lead").Where("company = ? AND title > ?", "retail", "0100").
					OrderExpr("title DESC, id DESC").Limit(51).Scan(ctx, &rows)
				if err == nil && len(rows) != 51 {
					err = fmt.Errorf("bench: select returned %d rows", len(rows))
				}
				return err
			},
		},
	}
}

// Run runs a case's setup, then n iterations of both ways alternately.
func Run(ctx context.Context, c Case, n int) (Result, error) {
	if c.Setup != nil {
		if err := c.Setup(ctx); err != nil {
			return Result{}, fmt.Errorf("bench %s: setup: %w", c.Name, err)
		}
	}
	return Iterate(ctx, c, n)
}

// Iterate runs n iterations of both ways alternately, without the setup.
func Iterate(ctx context.Context, c Case, n int) (Result, error) {
	r := Result{Name: c.Name, N: n}
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := c.Engine(ctx, i); err != nil {
			return r, fmt.Errorf("bench %s: engine: %w", c.Name, err)
		}
		t1 := time.Now()
		if err := c.Plain(ctx, i); err != nil {
			return r, fmt.Errorf("bench %s: bun: %w", c.Name, err)
		}
		r.Engine += t1.Sub(t0)
		r.Plain += time.Since(t1)
	}
	return r, nil
}
