package store

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// ArchivePrefix starts the names of archived columns and tables: a removed
// field's column is renamed, not dropped, until it is purged.
const ArchivePrefix = "__arch_"

// LinkTable names the link table of a many-to-many field.
func LinkTable(object, field string) string { return object + "__" + field }

// indexName builds an index name within PostgreSQL's 63-byte limit.
func indexName(prefix, table, column string) string {
	n := prefix + "_" + table + "_" + column
	if len(n) <= 63 {
		return n
	}
	h := sha1.Sum([]byte(n))
	return n[:50] + "_" + hex.EncodeToString(h[:6])
}

// fkName names the foreign key constraint of a lookup column.
func fkName(table, column string) string { return indexName("fk", table, column) }

// NotNullColumn reports whether the column of a field or system field is
// created NOT NULL in every table (id, created_at, updated_at, version):
// the only columns whose values are never empty, whatever the metadata.
func NotNullColumn(name string) bool {
	switch name {
	case "id", "created_at", "updated_at", "version":
		return true
	}
	return false
}

// columnDef is the column definition of a field (without constraints the
// engine enforces itself, such as required).
func (db *DB) columnDef(o *metadata.Object, f *metadata.Field) string {
	return Ident(f.Name) + " " + metadata.TypeOf(f).Column(db.Dialect, f)
}

// createTable returns the statements creating an object's table, the
// indexes of its fields and its many-to-many link tables; foreign keys of PostgreSQL come
// from foreignKeys once every table exists.
func (db *DB) createTable(o *metadata.Object) []string {
	ts := db.col("TIMESTAMPTZ", "TEXT")
	cols := []string{
		`"id" TEXT PRIMARY KEY`,
		`"created_at" ` + ts + ` NOT NULL`,
		`"created_by" TEXT`,
		`"updated_at" ` + ts + ` NOT NULL`,
		`"updated_by" TEXT`,
		`"owner_id" TEXT`,
		`"version" ` + db.col("BIGINT", "INTEGER") + ` NOT NULL DEFAULT 1`,
	}
	for _, f := range o.Fields {
		if !metadata.Linked(f) {
			cols = append(cols, db.columnDef(o, f))
		}
	}
	stmts := []string{fmt.Sprintf("CREATE TABLE %s (\n\t%s\n)", Ident(o.Name), strings.Join(cols, ",\n\t"))}
	// The owner index (OwnerIndex) and declared indexes come from
	// PlanIndexes.
	stmts = append(stmts, fmt.Sprintf("CREATE INDEX %s ON %s (%s)", Ident(indexName("ix", o.Name, "created_at")), Ident(o.Name), `"created_at"`))
	for _, f := range o.Fields {
		stmts = append(stmts, db.fieldExtras(o, f)...)
	}
	return stmts
}

// fieldExtras returns the indexes and link table a field needs beyond its
// column: a link table for a field kept in one, a unique index for a
// unique field, an index for a lookup.
func (db *DB) fieldExtras(o *metadata.Object, f *metadata.Field) []string {
	var out []string
	_, lookup := metadata.LookupTarget(f)
	switch {
	case metadata.Linked(f):
		lt := LinkTable(o.Name, f.Name)
		out = append(out,
			fmt.Sprintf("CREATE TABLE %s (\n\t\"source_id\" TEXT NOT NULL,\n\t\"target_id\" TEXT NOT NULL,\n\tPRIMARY KEY (\"source_id\", \"target_id\")\n)", Ident(lt)),
			fmt.Sprintf("CREATE INDEX %s ON %s (\"target_id\")", Ident(indexName("ix", lt, "target")), Ident(lt)))
		return out
	case f.Unique:
		out = append(out, db.uniqueIndex(o.Name, f.Name))
	case lookup:
		out = append(out, fmt.Sprintf("CREATE INDEX %s ON %s (%s)", Ident(indexName("ix", o.Name, f.Name)), Ident(o.Name), Ident(f.Name)))
	}
	return out
}

// uniqueIndex creates the unique index of a field.
func (db *DB) uniqueIndex(table, column string) string {
	return fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s (%s)", Ident(indexName("ux", table, column)), Ident(table), Ident(column))
}

// dropFieldIndexes drops the indexes a field's column may have.
func (db *DB) dropFieldIndexes(table, column string) []string {
	return []string{
		fmt.Sprintf("DROP INDEX IF EXISTS %s", Ident(indexName("ux", table, column))),
		fmt.Sprintf("DROP INDEX IF EXISTS %s", Ident(indexName("ix", table, column))),
	}
}

// foreignKey returns the constraint a lookup gets in PostgreSQL (SQLite
// cannot add constraints to existing tables, so there the engine's own
// on-delete handling is the only guard).
func (db *DB) foreignKey(o *metadata.Object, f *metadata.Field) []string {
	target, lookup := metadata.LookupTarget(f)
	if db.Dialect != metadata.DialectPostgres || !lookup {
		return nil
	}
	action := map[string]string{metadata.OnDeleteRestrict: "RESTRICT", metadata.OnDeleteSetNull: "SET NULL", metadata.OnDeleteCascade: "CASCADE"}[metadata.OnDeleteOf(f)]
	return []string{fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (\"id\") ON DELETE %s DEFERRABLE INITIALLY DEFERRED",
		Ident(o.Name), Ident(fkName(o.Name, f.Name)), Ident(f.Name), Ident(target), action)}
}

// dropForeignKey removes a lookup's constraint in PostgreSQL.
func (db *DB) dropForeignKey(table, column string) []string {
	if db.Dialect != metadata.DialectPostgres {
		return nil
	}
	return []string{fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", Ident(table), Ident(fkName(table, column)))}
}
