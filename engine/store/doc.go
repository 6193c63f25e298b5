// Package store is the engine's storage layer on github.com/uptrace/bun:
// it opens SQLite (embedded default) or PostgreSQL, creates the system
// tables, turns metadata into DDL, plans and applies online schema changes,
// and keeps the versioned metadata rows. It knows nothing of HTTP or
// permissions.
package store
