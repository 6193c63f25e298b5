package engine

import (
	"context"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestMain removes the seeds' databases after the tests.
func TestMain(m *testing.M) { storetest.Main(m) }

// snapshots is the cache of compiled metadata versions the tests' engines
// share.
var snapshots = NewSnapshotCache()

// standard is a database with the standard template installed, where
// most engine tests start (through storetest.DialectsFrom and newEngine).
var standard = storetest.NewSeed("engine_standard", func(ctx context.Context, db *store.DB) error {
	_, err := installStandard(ctx, db)
	return err
})

// withFormulasSeed is standard with withFormulas' metadata applied, where
// the formula tests start.
var withFormulasSeed = storetest.NewSeed("engine_formulas", func(ctx context.Context, db *store.DB) error {
	e, err := installStandard(ctx, db)
	if err != nil {
		return err
	}
	if err := e.UseFormulas(ctx); err != nil {
		return err
	}
	_, _, err = e.ApplySchema(ctx, formulasSchema(e.Snapshot().Schema.Clone()), ApplyOptions{Author: "test"})
	return err
})

// installStandard opens an engine on db and installs the standard
// template.
func installStandard(ctx context.Context, db *store.DB) (*Engine, error) {
	e, err := New(ctx, Config{DB: db, Guard: ownerGuard{}})
	if err != nil {
		return nil, err
	}
	fsys, err := defaults.FS("standard")
	if err != nil {
		return nil, err
	}
	_, err = e.InstallTemplate(ctx, fsys, "test")
	return e, err
}
