package engine

import (
	"context"
	"errors"

	"github.com/crmplatform/crm/engine/access"
	"github.com/uptrace/bun"
)

// ShareStore keeps the manual shares of records; engine/access implements
// it. conn is the unit of work's transaction.
type ShareStore interface {
	ShareRecord(ctx context.Context, conn bun.IConn, object, recordID, userRef, level, by string) (*access.Share, error)
	UnshareRecord(ctx context.Context, conn bun.IConn, object, recordID, userRef string) error
	ListShares(ctx context.Context, conn bun.IConn, object, recordID string) ([]*access.Share, error)
}

// ErrNoShareStore is returned by the share operations of an engine wired
// without a ShareStore.
var ErrNoShareStore = errors.New("engine: no share store configured")

// Shares lists who record id of object is shared with. Like sharing and
// unsharing it is for those who may transfer the record (its owner,
// someone whose record scope covers it, a role with the transfer right),
// never for a user who reaches it only through a share.
func (e *Engine) Shares(ctx context.Context, object, id string) ([]*access.Share, error) {
	var out []*access.Share
	err := e.manageShares(ctx, object, id, func(w *Writer) error {
		var err error
		out, err = e.shares.ListShares(ctx, w.tx, object, id)
		return err
	})
	return out, err
}

// Share shares record id of object with user (an id or a username) for
// read or edit, replacing an earlier share with that user.
func (e *Engine) Share(ctx context.Context, object, id, user, level string) (*access.Share, error) {
	var out *access.Share
	err := e.manageShares(ctx, object, id, func(w *Writer) error {
		var err error
		out, err = e.shares.ShareRecord(ctx, w.tx, object, id, user, level, w.rights.p.UserID)
		return err
	})
	return out, err
}

// Unshare removes the share of record id of object with user.
func (e *Engine) Unshare(ctx context.Context, object, id, user string) error {
	return e.manageShares(ctx, object, id, func(w *Writer) error {
		return e.shares.UnshareRecord(ctx, w.tx, object, id, user)
	})
}

// manageShares runs fn in a unit of work after checking that the principal
// of ctx may read record id (not found otherwise) and transfer it
// (forbidden otherwise).
func (e *Engine) manageShares(ctx context.Context, object, id string, fn func(w *Writer) error) error {
	if e.shares == nil {
		return ErrNoShareStore
	}
	p, ok := access.FromContext(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	return e.Tx(ctx, p, func(w *Writer) error {
		if _, err := w.Get(ctx, object, id); err != nil {
			return err
		}
		s, err := w.rights.Scope(object)
		if err != nil {
			return err
		}
		if err := e.checkTransfer(ctx, w, s, id); err != nil {
			return err
		}
		return fn(w)
	})
}
