package engine

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/crmplatform/crm/metadata"
)

// SnapshotCache keeps the snapshots an engine built of the metadata
// versions it loaded from the database or applied, for other engines of
// the same process that load or apply the same version with the same
// schema (and for the dry runs of a change that changes nothing): they
// reuse the snapshot (immutable) instead of compiling the schema again. Tests open
// many engines over copies of one database and share one cache per
// package; a server has no use for one. It keeps the few snapshots used
// last and is safe for concurrent use.
type SnapshotCache struct {
	mu    sync.Mutex
	keys  []snapshotKey // least recently used first
	snaps map[snapshotKey]*Snapshot
}

// snapshotCacheSize is how many snapshots a SnapshotCache keeps.
const snapshotCacheSize = 8

// snapshotKey identifies a stored metadata version by its number and the
// hash of its schema's stored form.
type snapshotKey struct {
	version int64
	sum     [sha256.Size]byte
}

// NewSnapshotCache returns an empty cache for Config.Snapshots.
func NewSnapshotCache() *SnapshotCache {
	return &SnapshotCache{snaps: map[snapshotKey]*Snapshot{}}
}

// applied is loaded for the schema a metadata change (or its dry run)
// is about to store as version: with a cache, the dry runs of a change
// that changes nothing (a form posted back as it was shown) and the same
// change applied to two copies of a database compile once. A snapshot
// built here holds a copy of s, which the caller of ApplySchema may go on
// editing: decoded from the stored form the key is made of, so the
// schema is encoded once, and not copied at all when the cache has it.
func (c *SnapshotCache) applied(version int64, s *metadata.Schema, prev *Snapshot) (*Snapshot, metadata.Problems) {
	if c == nil {
		return build(version, s, prev)
	}
	key, raw, err := keyOf(version, s)
	if err != nil {
		panic(fmt.Sprintf("engine: encode schema: %v", err)) // as metadata.Schema.Clone
	}
	if snap := c.get(key); snap != nil {
		return snap, nil
	}
	var cp metadata.Schema
	if err := json.Unmarshal(raw, &cp); err != nil {
		panic(fmt.Sprintf("engine: copy schema: %v", err))
	}
	cp.Sources = maps.Clone(s.Sources) // problems name their files
	return c.build(key, version, &cp, prev)
}

// loaded returns the snapshot of a stored version: the cached one if c
// holds the same version of the same schema, else one newly built (after
// prev, the engine's current snapshot), kept when it compiles. Without a
// cache it builds.
func (c *SnapshotCache) loaded(version int64, s *metadata.Schema, prev *Snapshot) (*Snapshot, metadata.Problems) {
	if c == nil {
		return build(version, s, prev)
	}
	key, _, err := keyOf(version, s)
	if err != nil {
		return build(version, s, prev)
	}
	if snap := c.get(key); snap != nil {
		return snap, nil
	}
	return c.build(key, version, s, prev)
}

// keyOf returns the key of version with schema s and s's stored form.
func keyOf(version int64, s *metadata.Schema) (snapshotKey, []byte, error) {
	raw, err := json.Marshal(s)
	return snapshotKey{version: version, sum: sha256.Sum256(raw)}, raw, err
}

// get returns the snapshot c keeps under key, marked as used last, or
// nil.
func (c *SnapshotCache) get(key snapshotKey) *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap, ok := c.snaps[key]
	if ok {
		c.use(key)
	}
	return snap
}

// build builds the snapshot of version with schema s (after prev) and
// keeps it under key when it compiles.
func (c *SnapshotCache) build(key snapshotKey, version int64, s *metadata.Schema, prev *Snapshot) (*Snapshot, metadata.Problems) {
	snap, ps := build(version, s, prev)
	if len(ps) > 0 {
		return snap, ps
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.snaps[key]; !ok {
		if len(c.keys) == snapshotCacheSize {
			delete(c.snaps, c.keys[0])
			c.keys = c.keys[1:]
		}
		c.snaps[key] = snap
		c.keys = append(c.keys, key)
	}
	return snap, nil
}

// use marks key as used last (c.mu held).
func (c *SnapshotCache) use(key snapshotKey) {
	i := slices.Index(c.keys, key)
	c.keys = append(slices.Delete(c.keys, i, i+1), key)
}
