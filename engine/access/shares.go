package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Share is one record shared with one user.
type Share struct {
	Object    string    `json:"object"`
	RecordID  string    `json:"record_id"`
	UserID    string    `json:"user_id"`
	Username  string    `json:"username,omitempty"`
	Access    string    `json:"access"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ShareRecord shares a record of object with the user userRef (id or
// username) for read or edit, replacing an earlier share with that user,
// on conn (a transaction; nil for the database). by is the id of the user
// sharing. It refuses an unknown user, an inactive user and a bad access
// level. Whether by may share the record (the transfer right on it) is
// the caller's check: the engine's Share makes it.
func (s *Service) ShareRecord(ctx context.Context, conn bun.IConn, object, recordID, userRef, accessLevel, by string) (*Share, error) {
	if accessLevel != ShareRead && accessLevel != ShareEdit {
		return nil, fmt.Errorf("%w: share access %q must be read or edit", ErrInvalid, accessLevel)
	}
	if err := metadata.ValidIdentifier(object); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	recordID = strings.TrimSpace(recordID)
	if recordID == "" {
		return nil, fmt.Errorf("%w: empty record id", ErrInvalid)
	}
	u, err := findUser(ctx, s.db.DB, userRef)
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, fmt.Errorf("%w: user %q is inactive", ErrInvalid, u.Username)
	}
	row := &shareRow{Object: object, RecordID: recordID, UserID: u.ID, Access: accessLevel, CreatedBy: by, CreatedAt: s.now().UTC()}
	_, err = s.db.NewInsert().Conn(conn).Model(row).
		On("CONFLICT (object, record_id, user_id) DO UPDATE").
		Set("access = EXCLUDED.access, created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("access: share record: %w", err)
	}
	sh := rowToShare(row)
	sh.Username = u.Username
	return sh, nil
}

// UnshareRecord removes the share of a record with a user on conn (nil
// for the database); removing a share that does not exist is not an
// error.
func (s *Service) UnshareRecord(ctx context.Context, conn bun.IConn, object, recordID, userRef string) error {
	u, err := findUser(ctx, s.db.DB, userRef)
	if err != nil {
		return err
	}
	_, err = s.db.NewDelete().Conn(conn).Model((*shareRow)(nil)).
		Where("object = ?", object).Where("record_id = ?", recordID).Where("user_id = ?", u.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("access: unshare record: %w", err)
	}
	return nil
}

// ListShares returns the shares of a record, by username, read on conn
// (nil for the database).
func (s *Service) ListShares(ctx context.Context, conn bun.IConn, object, recordID string) ([]*Share, error) {
	var rows []struct {
		shareRow `bun:",extend"`
		Username string `bun:"username"`
	}
	err := s.db.NewSelect().Conn(conn).TableExpr("crm_shares AS s").
		ColumnExpr("s.*, u.username").
		Join("JOIN crm_users AS u ON u.id = s.user_id").
		Where("s.object = ?", object).Where("s.record_id = ?", recordID).
		OrderExpr("u.username").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("access: list shares: %w", err)
	}
	out := make([]*Share, len(rows))
	for i := range rows {
		out[i] = rowToShare(&rows[i].shareRow)
		out[i].Username = rows[i].Username
	}
	return out, nil
}

// DeleteShares removes every share of a record on conn (the transaction
// that deletes the record: a *sql.Tx or bun.Tx; nil for the database).
func (s *Service) DeleteShares(ctx context.Context, conn bun.IConn, object, recordID string) error {
	_, err := s.db.NewDelete().Conn(conn).Model((*shareRow)(nil)).Where("object = ?", object).Where("record_id = ?", recordID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("access: delete shares: %w", err)
	}
	return nil
}

// rowToShare converts a row.
func rowToShare(r *shareRow) *Share {
	return &Share{Object: r.Object, RecordID: r.RecordID, UserID: r.UserID, Access: r.Access,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}
