package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// checklist is the Go type of a document kind registered by this test, as
// another package would register one.
type checklist struct {
	Name   string   `json:"name"`
	Object string   `json:"object"`
	Steps  []string `json:"steps"`
	Weight float64  `json:"weight,omitempty"`
}

var checklists = metadata.RegisterKind(metadata.KindSpec[checklist]{
	Name: "checklists",
	Schema: []byte(`{"type": "object", "required": ["name", "object", "steps"], "additionalProperties": false,
		"properties": {"name": {"$ref": "crm://metadata.schema.json#/$defs/identifier"}, "object": {"type": "string"},
		"steps": {"type": "array", "items": {"type": "string"}}, "weight": {"type": "number"}}}`),
})

// TestDocumentsRoundTripThroughVersions stores a schema with documents of
// a registered kind as a metadata version and reads it back, on both
// databases.
func TestDocumentsRoundTripThroughVersions(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s := &metadata.Schema{Objects: []*metadata.Object{{Name: "thing", Fields: []*metadata.Field{{Name: "n", Type: "text"}}}}}
		for _, doc := range []string{
			`{"name": "onboard", "object": "thing", "steps": ["call", "visit"], "weight": 1.5}`,
			`{"name": "audit", "object": "thing", "steps": ["check"]}`,
		} {
			d, ps := checklists.Kind().Parse("test", []byte(doc))
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			s.PutDocument("checklists", d)
		}
		if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: 1, Author: "me", Schema: s}); err != nil {
			t.Fatal(err)
		}
		v, err := db.LoadVersion(ctx, db.SQL(), 1)
		if err != nil {
			t.Fatal(err)
		}
		all := checklists.All(v.Schema)
		if len(all) != 2 || all[0].Name != "audit" || all[1].Name != "onboard" || all[1].Weight != 1.5 || len(all[1].Steps) != 2 {
			t.Fatalf("documents after a round trip: %+v", all)
		}
		if changes := metadata.Diff(s, v.Schema); len(changes) != 0 {
			t.Fatalf("the stored version differs: %v", changes)
		}
	})
}

// TestSharedLockSeesVersionCommittedWhileWaiting holds the exclusive
// metadata lock in one transaction while another asks for the shared lock
// and the version: once the first commits a new version, the second must
// answer that version, not the one committed before it started waiting.
func TestSharedLockSeesVersionCommittedWhileWaiting(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s := &metadata.Schema{Objects: []*metadata.Object{{Name: "thing", Fields: []*metadata.Field{{Name: "n", Type: "text"}}}}}
		if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: 1, Author: "me", Schema: s}); err != nil {
			t.Fatal(err)
		}
		change, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer change.Rollback()
		if err := db.LockMetadata(ctx, change); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveVersion(ctx, change, &store.Version{Version: 2, Author: "me", Schema: s}); err != nil {
			t.Fatal(err)
		}
		seen := make(chan int64, 1)
		failed := make(chan error, 1)
		go func() {
			tx, v, err := db.BeginWrite(ctx)
			if err != nil {
				failed <- err
				return
			}
			defer tx.Rollback()
			seen <- v
		}()
		select {
		case v := <-seen:
			t.Fatalf("the shared lock was granted (version %d) while the change held the exclusive one", v)
		case err := <-failed:
			t.Fatal(err)
		case <-time.After(200 * time.Millisecond):
		}
		if err := change.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-seen:
			if v != 2 {
				t.Fatalf("the write saw metadata version %d after waiting for a change to version 2", v)
			}
		case err := <-failed:
			t.Fatal(err)
		}
	})
}
