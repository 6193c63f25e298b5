package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Upload stores the content of a file or image field before the record
// that uses it is written; the returned reference goes into the record.
// The content type is sniffed from the bytes, not taken from the client.
// The rights are checked before content is read, and content is read
// only up to the field's max_size: a larger file is ErrTooLarge with the
// rest of content left unread.
func (e *Engine) Upload(ctx context.Context, object, field, name string, content io.Reader) (*metadata.FileRef, error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	if s.Can(metadata.ActionCreate) != nil && s.Can(metadata.ActionUpdate) != nil {
		return nil, fmt.Errorf("%w: you may not write %s records", ErrForbidden, object)
	}
	f, ok := s.obj.Field(field)
	if !ok || !metadata.IsFile(f) || !s.Readable(field) {
		return nil, notFound("%s has no file field %q", object, field)
	}
	if !s.Editable(field) {
		return nil, fmt.Errorf("%w: field %s.%s is read-only for you", ErrForbidden, object, field)
	}
	data, err := spool(content, metadata.MaxSizeOf(f))
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("%w: %s.%s takes files up to %d bytes", ErrTooLarge, object, field, metadata.MaxSizeOf(f))
	}
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, &ValidationError{Object: object, Errors: []FieldError{{Field: field, Code: "empty", Message: "the file is empty"}}}
	}
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !metadata.AcceptsContent(f, ct) {
		return nil, &ValidationError{Object: object, Errors: []FieldError{{Field: field, Code: "content_type", Message: fmt.Sprintf("%s does not accept %s content", field, ct)}}}
	}
	ref := &metadata.FileRef{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Size: int64(len(data)), ContentType: ct}
	q := store.Rebind(e.db.Dialect, "INSERT INTO crm_files (id, object, field, name, content_type, size, data, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if _, err := e.db.SQL().ExecContext(ctx, q, ref.ID, object, field, name, ct, ref.Size, data, s.r.p.UserID, metadata.DBValue(e.db.Dialect, e.now().UTC())); err != nil {
		return nil, fmt.Errorf("engine: store file: %w", err)
	}
	return ref, nil
}

// checkFile makes sure a file reference written to a record names a file
// uploaded for that field, by the principal and not yet attached
// elsewhere (or already attached to this record), fills its details from
// the file store and attaches it to the record, in the write's
// transaction.
func (e *Engine) checkFile(ctx context.Context, w *Writer, s *Scope, f *metadata.Field, rec map[string]any, verr *ValidationError) error {
	ref, _ := metadata.TypeOf(f).(metadata.Filer).FileRef(f, rec[f.Name])
	id := rec["id"]
	var stored metadata.FileRef
	q := store.Rebind(e.db.Dialect, `SELECT id, name, size, content_type FROM crm_files
		WHERE id = ? AND object = ? AND field = ? AND (record_id = ? OR (record_id IS NULL AND created_by = ?))`)
	err := w.tx.QueryRowContext(ctx, q, ref.ID, s.obj.Name, f.Name, id, s.r.p.UserID).Scan(&stored.ID, &stored.Name, &stored.Size, &stored.ContentType)
	if errors.Is(err, sql.ErrNoRows) {
		verr.add(f.Name, "not_found", "no file %s uploaded by you for %s", ref.ID, f.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine: check file %s: %w", ref.ID, err)
	}
	if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "UPDATE crm_files SET record_id = ? WHERE id = ?"), id, ref.ID); err != nil {
		return fmt.Errorf("engine: attach file %s: %w", ref.ID, err)
	}
	norm, err := metadata.TypeOf(f).Normalize(f, stored)
	if err != nil {
		return err
	}
	rec[f.Name] = norm
	return nil
}

// releaseFiles deletes the stored files a write replaced or cleared.
func (e *Engine) releaseFiles(ctx context.Context, w *Writer, obj *metadata.Object, id string, old, rec map[string]any) error {
	for _, f := range obj.Fields {
		fl, ok := metadata.TypeOf(f).(metadata.Filer)
		if !ok || old[f.Name] == nil || old[f.Name] == rec[f.Name] {
			continue
		}
		ref, err := fl.FileRef(f, old[f.Name])
		if err != nil {
			return err
		}
		q := store.Rebind(e.db.Dialect, "DELETE FROM crm_files WHERE id = ? AND record_id = ?")
		if _, err := w.tx.ExecContext(ctx, q, ref.ID, id); err != nil {
			return fmt.Errorf("engine: release file of %s.%s: %w", obj.Name, f.Name, err)
		}
	}
	return nil
}

// File is a stored attachment with its bytes.
type File struct {
	metadata.FileRef
	Data      []byte
	CreatedAt time.Time
}

// Download returns the file held by a field of a record the principal
// can read.
func (e *Engine) Download(ctx context.Context, object, id, field string) (*File, error) {
	rec, err := e.Get(ctx, object, id)
	if err != nil {
		return nil, err
	}
	ref, ok := rec[field].(metadata.FileRef)
	if !ok {
		return nil, notFound("%s %s has no file in %q", object, id, field)
	}
	out := &File{FileRef: ref}
	q := store.Rebind(e.db.Dialect, "SELECT data FROM crm_files WHERE id = ?")
	if err := e.db.SQL().QueryRowContext(ctx, q, ref.ID).Scan(&out.Data); err != nil {
		return nil, fmt.Errorf("engine: read file %s: %w", ref.ID, err)
	}
	return out, nil
}
