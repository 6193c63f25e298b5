package engine

import (
	"context"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestSnapshotCacheSharesLoadedVersions opens engines over copies of one
// database through one cache: they share the snapshot of the version
// they load; a change makes a new version that another engine loads and
// compiles once more; an engine without the cache compiles its own.
func TestSnapshotCacheSharesLoadedVersions(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cache := NewSnapshotCache()
		open := func(c *SnapshotCache) *Engine {
			t.Helper()
			e, err := New(ctx, Config{DB: storetest.Reopen(t, db), Guard: ownerGuard{}, Snapshots: c})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		a, b, own := open(cache), open(cache), open(nil)
		if a.Snapshot() != b.Snapshot() {
			t.Error("two engines loading one version through one cache compiled it twice")
		}
		if own.Snapshot() == a.Snapshot() || own.Snapshot().Version != a.Snapshot().Version {
			t.Errorf("an engine without the cache: version %d, shared %v", own.Snapshot().Version, own.Snapshot() == a.Snapshot())
		}
		if _, _, err := a.Change(ctx, func(s *metadata.Schema) error {
			o, _ := s.Object("lead")
			o.Fields = append(o.Fields, &metadata.Field{Name: "grade", Type: "text"})
			return nil
		}, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		c := open(cache)
		if c.Snapshot().Version != a.Snapshot().Version {
			t.Fatalf("the new engine loaded version %d, want %d", c.Snapshot().Version, a.Snapshot().Version)
		}
		if _, err := c.Snapshot().Object("lead"); err != nil {
			t.Fatal(err)
		}
		lead, _ := c.Snapshot().Schema.Object("lead")
		if _, ok := lead.Field("grade"); !ok {
			t.Error("the new version's snapshot lacks the new field")
		}
		if c.Snapshot() == b.Snapshot() {
			t.Error("a new version reused the old version's snapshot")
		}
		if len(cache.keys) != 2 || len(cache.snaps) != 2 {
			t.Errorf("the cache holds %d keys and %d snapshots, want 2", len(cache.keys), len(cache.snaps))
		}
	})
}

// TestSnapshotCacheKeepsTheLastUsed fills the cache past its size: it
// keeps the snapshots used last, a reused one among them.
func TestSnapshotCacheKeepsTheLastUsed(t *testing.T) {
	t.Parallel()
	c := NewSnapshotCache()
	s := &metadata.Schema{}
	first, _ := c.loaded(1, s, nil)
	for v := int64(2); v <= snapshotCacheSize+2; v++ {
		c.loaded(v, s, nil)
		if v == snapshotCacheSize {
			if again, _ := c.loaded(1, s, nil); again != first {
				t.Fatal("version 1 was compiled again while cached")
			}
		}
	}
	if len(c.snaps) != snapshotCacheSize || len(c.keys) != snapshotCacheSize {
		t.Fatalf("%d snapshots, %d keys: want %d", len(c.snaps), len(c.keys), snapshotCacheSize)
	}
	if again, _ := c.loaded(1, s, nil); again != first {
		t.Error("the snapshot used last but one was dropped")
	}
	if _, ok := c.snaps[snapshotKey{version: 2, sum: c.keys[0].sum}]; ok {
		t.Error("the least recently used snapshot (version 2) was kept")
	}
}

// TestSnapshotCacheCopiesAppliedSchemas applies a schema through the
// cache, then edits it as a caller of ApplySchema may: the snapshot built
// keeps its own copy, an equal schema applied again reuses it, and the
// edited one is built anew.
func TestSnapshotCacheCopiesAppliedSchemas(t *testing.T) {
	t.Parallel()
	c := NewSnapshotCache()
	s := &metadata.Schema{Objects: []*metadata.Object{{Name: "lead", Label: metadata.Label{"en": "Lead"}, Fields: []*metadata.Field{{Name: "name", Type: "text"}}}}}
	first, ps := c.applied(1, s, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if first.Schema == s {
		t.Fatal("the snapshot holds the caller's schema, not a copy")
	}
	if again, _ := c.applied(1, s.Clone(), nil); again != first {
		t.Error("an equal schema applied again was compiled again")
	}
	s.Objects[0].Fields = append(s.Objects[0].Fields, &metadata.Field{Name: "grade", Type: "text"})
	if lead, _ := first.Schema.Object("lead"); len(lead.Fields) != 1 {
		t.Errorf("editing the applied schema changed the snapshot's: %d fields", len(lead.Fields))
	}
	edited, ps := c.applied(1, s, nil)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if lead, _ := edited.Schema.Object("lead"); edited == first || len(lead.Fields) != 2 {
		t.Errorf("the edited schema: same snapshot %v, %d fields", edited == first, len(lead.Fields))
	}
}
