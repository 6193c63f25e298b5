package ui

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// uploadsTable keeps a CSV file between the import page's preview and its
// import (the page carries only the upload's id), for its owner only; an
// upload is dropped when its import starts, or after uploadTTL.
const uploadsTable = "crm_ui_uploads"

// uploadTTL is how long an upload left without an import is kept.
const uploadTTL = 24 * time.Hour

// migrateUploads creates the table of uploads.
func migrateUploads(ctx context.Context, db *store.DB) error {
	blob := "BLOB"
	if db.Dialect == metadata.DialectPostgres {
		blob = "BYTEA"
	}
	_, err := db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+uploadsTable+` (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL,
		object TEXT NOT NULL, data `+blob+` NOT NULL, created_at TEXT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("ui: create %s: %w", uploadsTable, err)
	}
	return nil
}

// keepUpload stores a file p uploaded to import into object and returns
// its id; uploads older than uploadTTL go.
func (u *UI) keepUpload(ctx context.Context, p *access.Principal, object string, data []byte) (string, error) {
	db := u.eng.DB()
	now := time.Now().UTC()
	if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `DELETE FROM `+uploadsTable+` WHERE created_at < ?`), now.Add(-uploadTTL).Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("ui: drop old uploads: %w", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO `+uploadsTable+` (id, owner_id, object, data, created_at) VALUES (?, ?, ?, ?, ?)`),
		id, p.UserID, object, data, now.Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("ui: keep the upload: %w", err)
	}
	return id, nil
}

// loadUpload returns a file p uploaded to import into object.
func (u *UI) loadUpload(ctx context.Context, p *access.Principal, object, id string) ([]byte, error) {
	db := u.eng.DB()
	var data []byte
	err := db.SQL().QueryRowContext(ctx, store.Rebind(db.Dialect, `SELECT data FROM `+uploadsTable+` WHERE id = ? AND owner_id = ? AND object = ?`), id, p.UserID, object).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fileError("the file uploaded before is gone: upload it again")
	}
	if err != nil {
		return nil, fmt.Errorf("ui: read the upload %s: %w", id, err)
	}
	return data, nil
}

// dropUpload deletes an upload of p.
func (u *UI) dropUpload(ctx context.Context, p *access.Principal, id string) error {
	db := u.eng.DB()
	if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `DELETE FROM `+uploadsTable+` WHERE id = ? AND owner_id = ?`), id, p.UserID); err != nil {
		return fmt.Errorf("ui: drop the upload %s: %w", id, err)
	}
	return nil
}

// fileStart returns the start of a CSV file: its header and up to lines
// records (the whole file when it has no more, or cannot be read as CSV:
// the import says why).
func fileStart(data []byte, lines int) []byte {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = -1, true, true
	for range lines + 1 {
		if _, err := cr.Read(); err != nil {
			var pe *csv.ParseError
			if errors.Is(err, io.EOF) || !errors.As(err, &pe) {
				return data
			}
		}
	}
	return data[:cr.InputOffset()]
}
