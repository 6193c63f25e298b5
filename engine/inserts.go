package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// maxInsertShapes bounds the single-row INSERTs an object keeps under one
// snapshot: one per set of columns its creates write (clients send a few).
const maxInsertShapes = 64

// objectInserts are the single-row INSERT statements of an object under
// one snapshot, by the columns they write: quoting every column name of a
// create's INSERT again cost about a tenth of the engine's own work on it.
// The select list of the whole row, which updates, deletes and
// recomputations read, is quoted once with them.
type objectInserts struct {
	// fields are the object's fields stored in a column of its own, in order.
	fields []*metadata.Field
	// selectAll is every column of the table as a select list (allColumns).
	selectAll string
	n         atomic.Int32
	stmts     sync.Map // insertShape → *insertStmt
}

// insertShape is the set of an object's fields (objectInserts.fields) a
// row has values for, one bit each; objects with more fields than it holds
// are not cached.
type insertShape [4]uint64

// insertStmt is a single-row INSERT and the columns it writes, in order:
// their places among the columns of the object's table (allColumns,
// Scope.tableColumnDefs).
type insertStmt struct {
	sql string
	at  []int
}

// insertOne returns the INSERT of row, a record of obj in storage form,
// and its arguments: the system fields and the fields with a column that
// row has a value for, as the driver of dialect takes them. A null value
// is left out (its column has no default: ddl.go), which saves binding the
// empty computed fields of a new record.
func (s *Snapshot) insertOne(obj *metadata.Object, dialect string, row map[string]any) (*insertStmt, []any) {
	oi := s.objectInserts(obj, dialect)
	args := make([]any, len(metadata.SystemFields), len(metadata.SystemFields)+len(row))
	var at, atArg any // a new record is created and updated at one instant
	for i, name := range metadata.SystemFields {
		v := row[name]
		if _, isTime := v.(time.Time); isTime && v == at {
			args[i] = atArg
			continue
		}
		args[i] = metadata.DBValue(dialect, v)
		at, atArg = v, args[i]
	}
	var shape insertShape
	for i, f := range oi.fields {
		if v := row[f.Name]; v != nil {
			if i < len(shape)*64 {
				shape[i/64] |= 1 << (i % 64)
			}
			args = append(args, metadata.DBValue(dialect, v))
		}
	}
	cacheable := len(oi.fields) <= len(shape)*64
	if cacheable {
		if st, ok := oi.stmts.Load(shape); ok {
			return st.(*insertStmt), args
		}
	}
	cols := append(make([]string, 0, len(args)), metadata.SystemFields...)
	places := make([]int, len(cols), len(args))
	for i := range places {
		places[i] = i
	}
	for i, f := range oi.fields {
		if row[f.Name] != nil {
			cols = append(cols, f.Name)
			places = append(places, len(metadata.SystemFields)+i)
		}
	}
	st := &insertStmt{sql: store.Rebind(dialect, "INSERT INTO "+store.Ident(obj.Name)+" ("+query.SelectList(cols)+") VALUES ("+store.Marks(len(cols))+")"), at: places}
	if cacheable && oi.n.Add(1) <= maxInsertShapes {
		oi.stmts.Store(shape, st)
	}
	return st, args
}

// allColumns lists every column of an object's table: the system fields,
// then the fields with a column of their own.
func allColumns(dialect string, obj *metadata.Object) []string {
	cols := append([]string(nil), metadata.SystemFields...)
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Column(dialect, f) != "" {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

// insertsKey names an object's INSERTs in a dialect: engines of both
// dialects may share a snapshot (SnapshotCache).
type insertsKey struct{ dialect, object string }

// objectInserts returns obj's single-row INSERTs under s in dialect, made
// on first use.
func (s *Snapshot) objectInserts(obj *metadata.Object, dialect string) *objectInserts {
	key := insertsKey{dialect, obj.Name}
	if oi, ok := s.inserts.Load(key); ok {
		return oi.(*objectInserts)
	}
	oi := &objectInserts{}
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Column(dialect, f) != "" {
			oi.fields = append(oi.fields, f)
		}
	}
	oi.selectAll = query.SelectList(allColumns(dialect, obj))
	got, _ := s.inserts.LoadOrStore(key, oi)
	return got.(*objectInserts)
}

// selectAll returns every column of obj's table under s in dialect as a
// select list (allColumns), quoted once per snapshot.
func (s *Snapshot) selectAll(obj *metadata.Object, dialect string) string {
	return s.objectInserts(obj, dialect).selectAll
}
