package definition

import (
	"cmp"
	"slices"

	"github.com/crmplatform/crm/metadata"
)

// Set is the compiled documents of one kind of a metadata version: by
// object, in the order they run, and by name.
type Set[T any] struct {
	byObject map[string][]T
	byName   map[string]T
}

// Of returns the documents of object, in order.
func (s *Set[T]) Of(object string) []T {
	if s == nil {
		return nil
	}
	return s.byObject[object]
}

// Get returns the document named name.
func (s *Set[T]) Get(name string) (T, bool) {
	var zero T
	if s == nil {
		return zero, false
	}
	t, ok := s.byName[name]
	return t, ok
}

// compileSet builds every document of docs in s with build (nil with
// problems for a document that does not fit), setting each problem's
// file. key gives a document's name and object; rank, when not nil, gives
// the order of a compiled document among those of its object (then its
// name decides: documents come sorted by name).
func compileSet[D, C any](s *metadata.Schema, docs metadata.Docs[D], key func(*D) (name, object string),
	build func(*metadata.Schema, *D) (C, metadata.Problems), rank func(C) int) (*Set[C], metadata.Problems) {
	out := &Set[C]{byObject: map[string][]C{}, byName: map[string]C{}}
	ps := docs.Each(s, func(d *D) metadata.Problems {
		name, object := key(d)
		c, dps := build(s, d)
		if len(dps) == 0 {
			out.byObject[object] = append(out.byObject[object], c)
			out.byName[name] = c
		}
		return dps
	})
	if rank != nil {
		for _, list := range out.byObject {
			slices.SortStableFunc(list, func(a, b C) int { return cmp.Compare(rank(a), rank(b)) })
		}
	}
	return out, ps
}
