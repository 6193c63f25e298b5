package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// Step is one step of a schema change: a SQL statement, or a data step run
// in Go (value conversion, back-fill) described by Note.
type Step struct {
	SQL  string
	Note string
	run  func(ctx context.Context, tx Querier) error
}

// Plan is what applying a new schema would do: the changes Diff found, the
// steps that make them, and the changes refused because they would lose
// data (unless forced) or cannot be made with the data present.
type Plan struct {
	Changes []metadata.Change
	Steps   []Step
	// Online are steps run after the transaction of Steps commits, on the
	// database itself: index builds on PostgreSQL tables that exist
	// already, made CONCURRENTLY so writes go on (ApplyOnline).
	Online  []Step
	Refused metadata.Problems
}

// SQL renders the plan as a SQL script; data steps appear as comments.
func (p *Plan) SQL() string {
	var b strings.Builder
	write := func(steps []Step) {
		for _, s := range steps {
			if s.Note != "" {
				b.WriteString("-- " + s.Note + "\n")
			}
			if s.SQL != "" {
				b.WriteString(s.SQL + ";\n")
			}
		}
	}
	write(p.Steps)
	if len(p.Online) > 0 {
		b.WriteString("-- after the transaction commits, without blocking writes:\n")
		write(p.Online)
	}
	return b.String()
}

// Empty reports whether the plan changes nothing in the database.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 && len(p.Online) == 0 }

// RefusedUnlessForced ends the message of a change refused because it
// loses data (Plan.Refused): forcing the change applies it.
const RefusedUnlessForced = " (refused: repeat with force to apply it)"

// Plan works out the steps turning the tables of old into those of new.
// It reads data through q to refuse changes the data forbids (an option
// still in use, duplicates under a new unique field …); lossy changes are
// planned only when force is set. version names archived columns.
func (db *DB) Plan(ctx context.Context, q Querier, old, new *metadata.Schema, version int64, force bool) (*Plan, error) {
	p := &Plan{Changes: metadata.Diff(old, new)}
	var fks []Step
	for _, c := range p.Changes {
		if c.Lossy && !force {
			p.Refused = append(p.Refused, metadata.Problem{Path: changePath(c), Message: c.Reason + RefusedUnlessForced})
			continue
		}
		var err error
		switch c.Kind {
		case metadata.AddObject:
			o, _ := new.Object(c.Object)
			for _, s := range db.createTable(o) {
				p.Steps = append(p.Steps, Step{SQL: s})
			}
			for _, f := range o.Fields {
				for _, s := range db.foreignKey(o, f) {
					fks = append(fks, Step{SQL: s})
				}
			}
		case metadata.DropObject:
			o, _ := old.Object(c.Object)
			p.Steps = append(p.Steps, db.archiveObject(o, version)...)
		case metadata.AddField:
			o, _ := new.Object(c.Object)
			err = db.planAddField(ctx, q, p, o, c.New, &fks)
		case metadata.DropField:
			p.Steps = append(p.Steps, db.archiveField(c.Object, c.Old, version)...)
		case metadata.ChangeType, metadata.ChangeTarget:
			o, _ := new.Object(c.Object)
			db.planConvert(p, o, c.Old, c.New, version, &fks)
		case metadata.AddUnique:
			err = db.planUnique(ctx, q, p, c)
		case metadata.DropUnique:
			p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("DROP INDEX IF EXISTS %s", Ident(indexName("ux", c.Object, c.Field)))})
			if _, lookup := metadata.LookupTarget(c.New); lookup {
				p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("CREATE INDEX %s ON %s (%s)", Ident(indexName("ix", c.Object, c.Field)), Ident(c.Object), Ident(c.Field))})
			}
		case metadata.AddRequired:
			err = db.planRequired(ctx, q, p, c)
		case metadata.ShrinkLength:
			err = db.checkData(ctx, q, p, c, force, fmt.Sprintf("%s(%s) > ?", db.col("char_length", "length"), Ident(c.Field)), c.New.MaxLength)
		case metadata.DropOptions:
			err = db.planDropOptions(ctx, q, p, c, force)
		}
		if err != nil {
			return nil, fmt.Errorf("store: plan %s: %w", c, err)
		}
	}
	p.Steps = append(p.Steps, fks...)
	return p, nil
}

// changePath is the JSON pointer of a change in the object document.
func changePath(c metadata.Change) string {
	if c.Field != "" {
		return "/objects/" + c.Object + "/fields/" + c.Field
	}
	return "/objects/" + c.Object
}

// Apply runs the steps of a plan in tx. A plan with refused changes is not
// applied.
func (db *DB) Apply(ctx context.Context, tx Querier, p *Plan) error {
	if len(p.Refused) > 0 {
		return p.Refused
	}
	for _, s := range p.Steps {
		if s.SQL != "" {
			if _, err := tx.ExecContext(ctx, s.SQL); err != nil {
				return fmt.Errorf("store: %s: %w", s.SQL, err)
			}
		}
		if s.run != nil {
			if err := s.run(ctx, tx); err != nil {
				return fmt.Errorf("store: %s: %w", s.Note, err)
			}
		}
	}
	return nil
}

// planAddField adds a column, restoring the newest archived column of the
// same name and type if there is one, and fills the default into existing
// rows.
func (db *DB) planAddField(ctx context.Context, q Querier, p *Plan, o *metadata.Object, f *metadata.Field, fks *[]Step) error {
	if metadata.Linked(f) {
		archived, err := db.archivedTable(ctx, q, LinkTable(o.Name, f.Name))
		if err != nil {
			return err
		}
		if archived != "" {
			p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s RENAME TO %s", Ident(archived), Ident(LinkTable(o.Name, f.Name))), Note: "restore archived link table " + archived})
			return nil
		}
		for _, s := range db.fieldExtras(o, f) {
			p.Steps = append(p.Steps, Step{SQL: s})
		}
		return nil
	}
	archived, err := db.archivedColumn(ctx, q, o.Name, f)
	if err != nil {
		return err
	}
	if archived != "" {
		p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", Ident(o.Name), Ident(archived), Ident(f.Name)), Note: "restore archived column " + archived})
	} else {
		p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", Ident(o.Name), db.columnDef(o, f))})
	}
	for _, s := range db.fieldExtras(o, f) {
		p.Steps = append(p.Steps, Step{SQL: s})
	}
	for _, s := range db.foreignKey(o, f) {
		*fks = append(*fks, Step{SQL: s})
	}
	if a, ok := metadata.TypeOf(f).(metadata.Assigner); ok && archived == "" {
		p.Steps = append(p.Steps, Step{
			Note: fmt.Sprintf("number the existing %s records in %s in order of creation", o.Name, f.Name),
			run: func(ctx context.Context, tx Querier) error {
				return db.assignExisting(ctx, tx, o.Name, f, a)
			},
		})
	}
	if f.Default != nil {
		v, err := metadata.TypeOf(f).Normalize(f, f.Default)
		if err != nil {
			return err
		}
		p.Steps = append(p.Steps, Step{
			Note: fmt.Sprintf("fill the default of %s.%s into existing records", o.Name, f.Name),
			run: func(ctx context.Context, tx Querier) error {
				_, err := tx.ExecContext(ctx, Rebind(db.Dialect, "UPDATE "+Ident(o.Name)+" SET "+Ident(f.Name)+" = ? WHERE "+Ident(f.Name)+" IS NULL"), metadata.DBValue(db.Dialect, v))
				return err
			},
		})
	} else if f.Required {
		n, err := db.count(ctx, q, "SELECT COUNT(*) FROM "+Ident(o.Name))
		if err != nil {
			return err
		}
		if n > 0 && archived == "" {
			p.Refused = append(p.Refused, metadata.Problem{Path: "/objects/" + o.Name + "/fields/" + f.Name, Message: fmt.Sprintf("a new required field needs a default: %d existing records would have no value", n)})
		}
	}
	return nil
}

// assignExisting gives every record without a value the value a field the
// system assigns (an auto number) would have had, oldest first, each as of
// its own creation.
func (db *DB) assignExisting(ctx context.Context, tx Querier, table string, f *metadata.Field, a metadata.Assigner) error {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT "id", "created_at" FROM %s WHERE %s IS NULL ORDER BY "created_at", "id"`, Ident(table), Ident(f.Name)))
	if err != nil {
		return err
	}
	type rec struct {
		id      string
		created time.Time
	}
	var todo []rec
	for rows.Next() {
		var r rec
		var created any
		if err := rows.Scan(&r.id, &created); err != nil {
			rows.Close()
			return err
		}
		r.created = ScanTime(created)
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	update := Rebind(db.Dialect, fmt.Sprintf(`UPDATE %s SET %s = ? WHERE "id" = ?`, Ident(table), Ident(f.Name)))
	next := func(key string) (int64, error) { return db.NextNumber(ctx, tx, table, f.Name, key) }
	for _, r := range todo {
		v, err := a.Assign(f, r.created, next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, update, metadata.DBValue(db.Dialect, v), r.id); err != nil {
			return err
		}
	}
	return nil
}

// archiveField renames a removed field's column (or link table) out of the
// way; its data stays until purged.
func (db *DB) archiveField(table string, f *metadata.Field, version int64) []Step {
	if metadata.Linked(f) {
		lt := LinkTable(table, f.Name)
		return []Step{{SQL: fmt.Sprintf("ALTER TABLE %s RENAME TO %s", Ident(lt), Ident(archiveName(lt, version)))}}
	}
	steps := []Step{}
	for _, s := range append(db.dropForeignKey(table, f.Name), db.dropFieldIndexes(table, f.Name)...) {
		steps = append(steps, Step{SQL: s})
	}
	return append(steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", Ident(table), Ident(f.Name), Ident(archiveName(archiveKey(f), version)))})
}

// archiveObject renames a removed object's table and link tables.
func (db *DB) archiveObject(o *metadata.Object, version int64) []Step {
	var steps []Step
	for _, f := range o.Fields {
		if metadata.Linked(f) {
			steps = append(steps, db.archiveField(o.Name, f, version)...)
		}
		for _, s := range db.dropForeignKey(o.Name, f.Name) {
			steps = append(steps, Step{SQL: s})
		}
	}
	return append(steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s RENAME TO %s", Ident(o.Name), Ident(archiveName(o.Name, version)))})
}

// archiveName is the name a column or table gets when archived at version.
func archiveName(name string, version int64) string {
	return fmt.Sprintf("%s%s_v%d", ArchivePrefix, name, version)
}

// planConvert changes a field's type (or lookup target): when the column
// type is the same nothing moves; otherwise the old column is archived, a
// new one added and every value converted in Go through the old type's
// output and the new type's normalisation (values that do not convert
// become null; the archived column keeps the originals until purged).
func (db *DB) planConvert(p *Plan, o *metadata.Object, old, new *metadata.Field, version int64, fks *[]Step) {
	oldCol, newCol := metadata.TypeOf(old).Column(db.Dialect, old), metadata.TypeOf(new).Column(db.Dialect, new)
	if old.Type != new.Type && oldCol == newCol && oldCol != "" && metadata.Widens(old.Type, new.Type) {
		return
	}
	p.Steps = append(p.Steps, db.archiveField(o.Name, old, version)...)
	if !metadata.Linked(new) {
		p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", Ident(o.Name), db.columnDef(o, new))})
	}
	for _, s := range db.fieldExtras(o, new) {
		p.Steps = append(p.Steps, Step{SQL: s})
	}
	if metadata.Linked(new) || metadata.Linked(old) {
		// Values do not move between a link table and a column; the
		// archive keeps them.
		return
	}
	arch := archiveName(archiveKey(old), version)
	if old.Type == new.Type {
		// A new lookup target: old references point at the wrong object.
		for _, s := range db.foreignKey(o, new) {
			*fks = append(*fks, Step{SQL: s})
		}
		return
	}
	p.Steps = append(p.Steps, Step{
		Note: fmt.Sprintf("convert %s.%s from %s to %s (originals kept in %s)", o.Name, new.Name, old.Type, new.Type, arch),
		run: func(ctx context.Context, tx Querier) error {
			return db.convertColumn(ctx, tx, o.Name, arch, old, new)
		},
	})
}

// convertColumn copies the values of an archived column into the new one,
// converting each.
func (db *DB) convertColumn(ctx context.Context, tx Querier, table, from string, old, new *metadata.Field) error {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL", `"id"`, Ident(from), Ident(table), Ident(from)))
	if err != nil {
		return err
	}
	type pair struct {
		id string
		v  any
	}
	var todo []pair
	for rows.Next() {
		var id string
		var raw any
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return err
		}
		out, err := metadata.TypeOf(old).Output(old, raw)
		if err != nil {
			continue
		}
		if v, err := metadata.TypeOf(new).Normalize(new, metadata.InputOf(out)); err == nil && v != nil {
			todo = append(todo, pair{id, v})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	update := Rebind(db.Dialect, fmt.Sprintf("UPDATE %s SET %s = ? WHERE \"id\" = ?", Ident(table), Ident(new.Name)))
	for _, t := range todo {
		if _, err := tx.ExecContext(ctx, update, metadata.DBValue(db.Dialect, t.v), t.id); err != nil {
			return err
		}
	}
	return nil
}

// planUnique adds a unique index after checking for duplicates.
func (db *DB) planUnique(ctx context.Context, q Querier, p *Plan, c metadata.Change) error {
	var dups []string
	rows, err := q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL GROUP BY %s HAVING COUNT(*) > 1 LIMIT 5",
		Ident(c.Field), Ident(c.Object), Ident(c.Field), Ident(c.Field)))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return err
		}
		dups = append(dups, v.String)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(dups) > 0 {
		p.Refused = append(p.Refused, metadata.Problem{Path: changePath(c), Message: fmt.Sprintf("cannot make %s unique: values occur more than once (%s)", c.Field, strings.Join(dups, ", "))})
		return nil
	}
	p.Steps = append(p.Steps, Step{SQL: fmt.Sprintf("DROP INDEX IF EXISTS %s", Ident(indexName("ix", c.Object, c.Field)))}, Step{SQL: db.uniqueIndex(c.Object, c.Field)})
	return nil
}

// planRequired makes a field required: records without a value get the
// default, or the change is refused.
func (db *DB) planRequired(ctx context.Context, q Querier, p *Plan, c metadata.Change) error {
	n, err := db.count(ctx, q, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s IS NULL", Ident(c.Object), Ident(c.Field)))
	if err != nil || n == 0 {
		return err
	}
	if c.New.Default == nil {
		p.Refused = append(p.Refused, metadata.Problem{Path: changePath(c), Message: fmt.Sprintf("cannot make %s required: %d records have no value; give it a default or fill them first", c.Field, n)})
		return nil
	}
	v, err := metadata.TypeOf(c.New).Normalize(c.New, c.New.Default)
	if err != nil {
		return err
	}
	p.Steps = append(p.Steps, Step{
		Note: fmt.Sprintf("fill the default of %s.%s into %d records without a value", c.Object, c.Field, n),
		run: func(ctx context.Context, tx Querier) error {
			_, err := tx.ExecContext(ctx, Rebind(db.Dialect, "UPDATE "+Ident(c.Object)+" SET "+Ident(c.Field)+" = ? WHERE "+Ident(c.Field)+" IS NULL"), metadata.DBValue(db.Dialect, v))
			return err
		},
	})
	return nil
}

// planDropOptions refuses removing picklist options still in use unless
// forced (forced, the stored values stay as they are). A field holding
// several values (see metadata.Container) is searched for each option.
func (db *DB) planDropOptions(ctx context.Context, q Querier, p *Plan, c metadata.Change, force bool) error {
	var conds []string
	var args []any
	list, isList := metadata.TypeOf(c.New).(metadata.Container)
	for _, v := range c.Options {
		if isList {
			cond, arg := list.ContainsSQL(db.Dialect, Ident(c.Field), v)
			conds = append(conds, cond)
			args = append(args, arg)
		} else {
			conds = append(conds, Ident(c.Field)+" = ?")
			args = append(args, v)
		}
	}
	return db.checkData(ctx, q, p, c, force, "("+strings.Join(conds, " OR ")+")", args...)
}

// checkData refuses change c, unless forced, when records match cond.
func (db *DB) checkData(ctx context.Context, q Querier, p *Plan, c metadata.Change, force bool, cond string, args ...any) error {
	n, err := db.count(ctx, q, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", Ident(c.Object), cond), args...)
	if err != nil || n == 0 || force {
		return err
	}
	p.Refused = append(p.Refused, metadata.Problem{Path: changePath(c), Message: fmt.Sprintf("%s: %d records would lose or break their value", c.Reason, n) + RefusedUnlessForced})
	return nil
}

// count runs a COUNT query.
func (db *DB) count(ctx context.Context, q Querier, query string, args ...any) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, Rebind(db.Dialect, query), args...).Scan(&n)
	return n, err
}

// Columns lists the columns of a table.
func (db *DB) Columns(ctx context.Context, q Querier, table string) ([]string, error) {
	var query string
	var args []any
	if db.Dialect == metadata.DialectPostgres {
		query, args = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", []any{table}
	} else {
		query = "SELECT name FROM pragma_table_info(" + quoteString(table) + ")"
	}
	out, err := strings1(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: columns of %s: %w", table, err)
	}
	return out, nil
}

// Tables lists the tables of the database.
func (db *DB) Tables(ctx context.Context, q Querier) ([]string, error) {
	query := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == metadata.DialectPostgres {
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	out, err := strings1(ctx, q, query)
	if err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	return out, nil
}

// strings1 runs a query of one text column and returns its values sorted.
func strings1(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, rows.Err()
}

// quoteString quotes a SQL string literal (used only for names that came
// from validated metadata, where a parameter is not allowed).
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// archivedColumn finds the newest archived column of a field with the
// same type, to restore it.
func (db *DB) archivedColumn(ctx context.Context, q Querier, table string, f *metadata.Field) (string, error) {
	cols, err := db.Columns(ctx, q, table)
	if err != nil {
		return "", err
	}
	return newestArchive(cols, archiveKey(f)), nil
}

// archivedTable finds the newest archived copy of a table.
func (db *DB) archivedTable(ctx context.Context, q Querier, table string) (string, error) {
	tables, err := db.Tables(ctx, q)
	if err != nil {
		return "", err
	}
	return newestArchive(tables, table), nil
}

// archiveKey names a field's archived column by field and type, so only a
// field of the same type restores it.
func archiveKey(f *metadata.Field) string { return f.Name + "_" + f.Type }

// newestArchive picks the archive of name with the highest version.
func newestArchive(names []string, name string) string {
	best, bestV := "", int64(-1)
	prefix := ArchivePrefix + name + "_v"
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		var v int64
		if _, err := fmt.Sscanf(n[len(prefix):], "%d", &v); err == nil && v > bestV {
			best, bestV = n, v
		}
	}
	return best
}

// Purge drops archived columns and tables for good and returns the
// statements; with dryRun it only lists them.
func (db *DB) Purge(ctx context.Context, dryRun bool) ([]string, error) {
	tables, err := db.Tables(ctx, db.SQL())
	if err != nil {
		return nil, err
	}
	var stmts []string
	for _, t := range tables {
		if strings.HasPrefix(t, ArchivePrefix) {
			stmts = append(stmts, "DROP TABLE "+Ident(t))
			continue
		}
		cols, err := db.Columns(ctx, db.SQL(), t)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			if strings.HasPrefix(c, ArchivePrefix) {
				stmts = append(stmts, "ALTER TABLE "+Ident(t)+" DROP COLUMN "+Ident(c))
			}
		}
	}
	if dryRun || len(stmts) == 0 {
		return stmts, nil
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("store: purge: %s: %w", s, err)
		}
	}
	return stmts, tx.Commit()
}
