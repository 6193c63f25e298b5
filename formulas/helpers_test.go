package formulas

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// loadSchema reads testdata/*.yaml into a validated schema.
func loadSchema(t testing.TB) *metadata.Schema {
	t.Helper()
	files, _ := filepath.Glob("testdata/*.yaml")
	s := &metadata.Schema{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, ps := metadata.ParseObject(f, data)
		if len(ps) > 0 {
			t.Fatalf("%s: %v", f, ps)
		}
		s.Objects = append(s.Objects, o)
		s.SetSource(metadata.DocObject, o.Name, f)
	}
	if ps := metadata.Validate(s); len(ps) > 0 {
		t.Fatalf("validate: %v", ps)
	}
	return s
}

// mustCompile compiles s or fails the test.
func mustCompile(t testing.TB, s *metadata.Schema) *Compiled {
	t.Helper()
	c, ps := CompileSchema(s)
	if len(ps) > 0 {
		t.Fatalf("CompileSchema: %v", ps)
	}
	return c
}

// memResolver is an in-memory Resolver that counts its calls.
type memResolver struct {
	mu      sync.Mutex
	schema  *metadata.Schema
	records map[string]map[string]map[string]any // object → id → record
	calls   []string
}

func newMemResolver(s *metadata.Schema) *memResolver {
	return &memResolver{schema: s, records: map[string]map[string]map[string]any{}}
}

func (m *memResolver) put(object string, rec map[string]any) {
	if m.records[object] == nil {
		m.records[object] = map[string]map[string]any{}
	}
	m.records[object][rec["id"].(string)] = rec
}

func (m *memResolver) Lookup(ctx context.Context, object string, ids []string, fields []string) (map[string]map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("lookup %s %s [%s]", object, strings.Join(ids, ","), strings.Join(fields, ",")))
	out := map[string]map[string]any{}
	for _, id := range ids {
		rec, ok := m.records[object][id]
		if !ok {
			continue
		}
		row := map[string]any{}
		for _, f := range fields {
			row[f] = rec[f]
		}
		out[id] = row
	}
	return out, nil
}

func (m *memResolver) Find(ctx context.Context, object, field string, keys, values []string) (any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("find %s.%s [%s] [%s]", object, field, strings.Join(keys, ","), strings.Join(values, ",")))
records:
	for _, id := range slices.Sorted(maps.Keys(m.records[object])) {
		rec := m.records[object][id]
		for i, k := range keys {
			if rec[k] != values[i] {
				continue records
			}
		}
		return rec[field], nil
	}
	return nil, nil
}

func (m *memResolver) Rollups(ctx context.Context, specs []*RollupSpec, parentIDs []string) ([]map[string]any, error) {
	out := make([]map[string]any, len(specs))
	for i, spec := range specs {
		if spec.Child != specs[0].Child || spec.Via != specs[0].Via {
			return nil, fmt.Errorf("roll-ups over %s.%s and %s.%s asked together", specs[0].Child, specs[0].Via, spec.Child, spec.Via)
		}
		var err error
		if out[i], err = m.rollup(spec, parentIDs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *memResolver) rollup(spec *RollupSpec, parentIDs []string) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("rollup %s(%s.%s) %s", spec.Func, spec.Child, spec.Via, strings.Join(parentIDs, ",")))
	child, _ := m.schema.Object(spec.Child)
	out := map[string]any{}
	for _, pid := range parentIDs {
		var vals []any
		n := 0
		ids := make([]string, 0, len(m.records[spec.Child]))
		for id := range m.records[spec.Child] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			rec := m.records[spec.Child][id]
			if rec[spec.Via] != pid {
				continue
			}
			ok, err := spec.Matches(rec, child, time.Now())
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			n++
			if spec.ValueField != "" && rec[spec.ValueField] != nil {
				vals = append(vals, rec[spec.ValueField])
			}
		}
		switch spec.Func {
		case "count":
			out[pid] = int64(n)
		case "sum", "avg":
			if len(vals) == 0 {
				continue
			}
			s := 0.0
			for _, v := range vals {
				f, _ := anyNumber(v)
				s += f
			}
			if spec.Func == "avg" {
				s /= float64(len(vals))
			}
			out[pid] = s
		case "min", "max":
			var best any
			for _, v := range vals {
				if best == nil || (spec.Func == "max") == (less(best, v)) {
					best = v
				}
			}
			out[pid] = best
		}
	}
	return out, nil
}

func less(a, b any) bool {
	switch x := a.(type) {
	case string:
		return x < b.(string)
	case time.Time:
		return x.Before(b.(time.Time))
	}
	fa, _ := anyNumber(a)
	fb, _ := anyNumber(b)
	return fa < fb
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Test ids (UUID-shaped, as lookups require).
const (
	idAcc1   = "00000000-0000-0000-0000-00000000a001"
	idAcc2   = "00000000-0000-0000-0000-00000000a002"
	idOpp1   = "00000000-0000-0000-0000-00000000b001"
	idOpp2   = "00000000-0000-0000-0000-00000000b002"
	idOpp3   = "00000000-0000-0000-0000-00000000b003"
	idUser1  = "00000000-0000-0000-0000-00000000c001"
	idUser2  = "00000000-0000-0000-0000-00000000c002"
	idParent = "00000000-0000-0000-0000-00000000a000"
)

// noFails turns the failures of Compute into an error, for tests where
// every formula must succeed.
func noFails(fails []*EvalError, err error) error {
	if err != nil {
		return err
	}
	if len(fails) > 0 {
		return fails[0]
	}
	return nil
}
