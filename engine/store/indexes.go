package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// Prefixes of the names of the indexes PlanIndexes manages: it creates,
// rebuilds and drops indexes with these names and leaves every other
// index alone.
const (
	managedIndexPrefix  = "idx_"
	managedUniquePrefix = "udx_"
)

// IndexDef is an index the engine keeps on an object's table: one it
// makes by itself (the owner and id, the fields sharing rules test) or one
// the object declares.
type IndexDef struct {
	Table   string
	Columns []metadata.IndexField
	Unique  bool
	// Why says where the index comes from, for plans.
	Why string
}

// Name is the index's name, made from its definition, so a changed
// definition is a new index.
func (ix IndexDef) Name() string {
	parts := make([]string, len(ix.Columns))
	for i, c := range ix.Columns {
		parts[i] = c.Name
		if c.Desc {
			parts[i] += "_desc"
		}
	}
	prefix := strings.TrimSuffix(managedIndexPrefix, "_")
	if ix.Unique {
		prefix = strings.TrimSuffix(managedUniquePrefix, "_")
	}
	return indexName(prefix, ix.Table, strings.Join(parts, "_"))
}

// signature is the key columns of the index as the database reports
// them: "owner_id,amount DESC,id".
func (ix IndexDef) signature() string {
	parts := make([]string, len(ix.Columns))
	for i, c := range ix.Columns {
		parts[i] = c.Name
		if c.Desc {
			parts[i] += " DESC"
		}
	}
	return strings.Join(parts, ",")
}

// create is the statement creating the index; online builds it without
// blocking writes (CONCURRENTLY on PostgreSQL, outside a transaction).
// Descending columns keep NULLs last on PostgreSQL, as the lists sort.
func (db *DB) createIndex(ix IndexDef, online bool) string {
	cols := make([]string, len(ix.Columns))
	for i, c := range ix.Columns {
		cols[i] = Ident(c.Name)
		if c.Desc {
			cols[i] += " DESC"
			if db.Dialect == metadata.DialectPostgres {
				cols[i] += " NULLS LAST"
			}
		}
	}
	kind := "INDEX"
	if ix.Unique {
		kind = "UNIQUE INDEX"
	}
	if online && db.Dialect == metadata.DialectPostgres {
		kind += " CONCURRENTLY"
	}
	return fmt.Sprintf("CREATE %s IF NOT EXISTS %s ON %s (%s)", kind, Ident(ix.Name()), Ident(ix.Table), strings.Join(cols, ", "))
}

// OwnerIndex is the index every object's table gets: its records by owner
// in id order, which a user's own list (record scope own) reads in the
// default sort.
func OwnerIndex(table string) IndexDef {
	return IndexDef{Table: table, Columns: []metadata.IndexField{{Name: metadata.OwnerField}, {Name: "id"}}, Why: "records by owner (every object)"}
}

// DeclaredIndex is the index an object declares, with the id appended to
// an index that is not unique so its order is the lists' total order.
func DeclaredIndex(table string, ix metadata.Index) IndexDef {
	cols := ix.Parsed()
	if !ix.Unique && cols[len(cols)-1].Name != "id" {
		cols = append(cols, metadata.IndexField{Name: "id"})
	}
	return IndexDef{Table: table, Columns: cols, Unique: ix.Unique, Why: "declared by " + table}
}

// existingIndex is a managed index found in the database.
type existingIndex struct {
	table, signature string
	valid            bool
}

// PlanIndexes adds to p the steps that make the managed indexes of the
// database those of want: it creates the missing ones, rebuilds those
// whose columns changed (a field's column archived and replaced) or whose
// build failed, and drops those no longer wanted. Indexes of tables the
// plan creates are made in its transaction; on PostgreSQL those of tables
// that exist already are built after it commits, CONCURRENTLY (p.Online),
// so writes go on meanwhile. A declared unique index over values that
// occur twice is refused.
func (db *DB) PlanIndexes(ctx context.Context, q Querier, p *Plan, want []IndexDef) error {
	have, err := db.managedIndexes(ctx, q)
	if err != nil {
		return err
	}
	tables, err := db.tables(ctx, q)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, ix := range want {
		name := ix.Name()
		if wanted[name] {
			continue
		}
		wanted[name] = true
		cur, exists := have[name]
		if exists && cur.valid && cur.table == ix.Table && cur.signature == ix.signature() {
			continue
		}
		if exists {
			p.Steps = append(p.Steps, Step{SQL: "DROP INDEX IF EXISTS " + Ident(name), Note: "rebuild index " + name + " (its columns changed)"})
		}
		if ix.Unique && tables[ix.Table] {
			dup, err := db.duplicate(ctx, q, ix)
			if err != nil {
				return err
			}
			if dup != "" {
				p.Refused = append(p.Refused, metadata.Problem{Path: "/objects/" + ix.Table + "/indexes",
					Message: fmt.Sprintf("cannot create the unique index on %s (%s): values occur more than once (%s)", ix.Table, ix.signature(), dup)})
				continue
			}
		}
		step := Step{Note: "index " + name + ": " + ix.Why}
		if tables[ix.Table] && db.Dialect == metadata.DialectPostgres {
			step.SQL = db.createIndex(ix, true)
			p.Online = append(p.Online, step)
		} else {
			step.SQL = db.createIndex(ix, false)
			p.Steps = append(p.Steps, step)
		}
		if ix.signature() == OwnerIndex(ix.Table).signature() && tables[ix.Table] {
			// The owner index replaces the single-column index of older versions.
			legacy := Step{SQL: "DROP INDEX IF EXISTS " + Ident(indexName("ix", ix.Table, metadata.OwnerField)), Note: "replaced by " + name}
			if step.SQL != "" && db.Dialect == metadata.DialectPostgres {
				p.Online = append(p.Online, legacy)
			} else {
				p.Steps = append(p.Steps, legacy)
			}
		}
	}
	names := make([]string, 0, len(have))
	for name := range have {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !wanted[name] {
			p.Steps = append(p.Steps, Step{SQL: "DROP INDEX IF EXISTS " + Ident(name), Note: "index " + name + " is no longer declared"})
		}
	}
	return nil
}

// managedIndexes reads the managed indexes of the database by name.
func (db *DB) managedIndexes(ctx context.Context, q Querier) (map[string]existingIndex, error) {
	stmt := `SELECT m.name, m.tbl_name, x.name, x."desc", 1 FROM sqlite_master m, pragma_index_xinfo(m.name) x
		WHERE m.type = 'index' AND x.key = 1 AND (m.name LIKE 'idx\_%' ESCAPE '\' OR m.name LIKE 'udx\_%' ESCAPE '\')
		ORDER BY m.name, x.seqno`
	if db.Dialect == metadata.DialectPostgres {
		stmt = `SELECT c.relname, t.relname, trim(both '"' from pg_get_indexdef(i.indexrelid, k, true)),
			(i.indoption[k-1] & 1) + (i.indoption[k-1] & 2) * 5, CASE WHEN i.indisvalid THEN 1 ELSE 0 END
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace, generate_series(1, i.indnkeyatts) AS k
		WHERE n.nspname = current_schema() AND (c.relname LIKE 'idx\_%' OR c.relname LIKE 'udx\_%')
		ORDER BY c.relname, k`
	}
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return nil, fmt.Errorf("store: read indexes: %w", err)
	}
	defer rows.Close()
	out := map[string]existingIndex{}
	for rows.Next() {
		var name, table, col string
		var desc, valid int
		if err := rows.Scan(&name, &table, &col, &desc, &valid); err != nil {
			return nil, fmt.Errorf("store: read indexes: %w", err)
		}
		ix := out[name]
		ix.table, ix.valid = table, valid == 1
		if ix.signature != "" {
			ix.signature += ","
		}
		ix.signature += col
		switch desc {
		case 0:
		case 1:
			ix.signature += " DESC"
		default: // NULLS FIRST: not an index the engine made
			ix.signature += " ?"
		}
		out[name] = ix
	}
	return out, rows.Err()
}

// tables returns the names of the database's tables.
func (db *DB) tables(ctx context.Context, q Querier) (map[string]bool, error) {
	stmt := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect == metadata.DialectPostgres {
		stmt = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return nil, fmt.Errorf("store: read tables: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("store: read tables: %w", err)
		}
		out[name] = true
	}
	return out, rows.Err()
}

// duplicate returns one set of values that occurs twice in the columns of
// a unique index ("" when none does); rows with an empty value never
// collide.
func (db *DB) duplicate(ctx context.Context, q Querier, ix IndexDef) (string, error) {
	cols := make([]string, len(ix.Columns))
	var notNull []string
	for i, c := range ix.Columns {
		cols[i] = Ident(c.Name)
		notNull = append(notNull, cols[i]+" IS NOT NULL")
	}
	list := strings.Join(cols, ", ")
	stmt := fmt.Sprintf("SELECT %s FROM %s WHERE %s GROUP BY %s HAVING COUNT(*) > 1 LIMIT 1", list, Ident(ix.Table), strings.Join(notNull, " AND "), list)
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return "", fmt.Errorf("store: check %s for duplicates: %w", ix.Name(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return "", rows.Err()
	}
	vals, ptrs := ScanTargets(len(cols))
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", "), nil
}

// ApplyOnline runs the steps of a plan that come after its transaction
// (p.Online), on the database itself. A failed index build is dropped, so
// that planning again retries it.
func (db *DB) ApplyOnline(ctx context.Context, p *Plan) error {
	for _, s := range p.Online {
		if _, err := db.SQL().ExecContext(ctx, s.SQL); err != nil {
			if name, ok := createdIndex(s.SQL); ok {
				_, _ = db.SQL().ExecContext(ctx, "DROP INDEX IF EXISTS "+Ident(name))
			}
			return fmt.Errorf("store: %s: %w", s.SQL, err)
		}
	}
	return nil
}

// createdIndex returns the name of the index a CREATE INDEX statement
// made by createIndex creates.
func createdIndex(stmt string) (string, bool) {
	_, rest, ok := strings.Cut(stmt, " IF NOT EXISTS \"")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "\"")
	return name, ok
}
