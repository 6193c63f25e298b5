package engine

import "github.com/crmplatform/crm/engine/store"

// rowLog lists the records whose rows a unit of work changed in place
// (updated, deleted, cleared by a delete), so that an answer made from a
// record in memory, a create's or an update's, can tell whether its row was
// written again afterwards: an automation's after-hook setting a field of
// the record just written, a roll-up of a record that is its own parent.
// Then the answer is read back instead. Inserts are not listed: a new row
// changes no other record's.
type rowLog struct {
	rows []rowRef
	// created are the last records the unit inserted (at most
	// maxCreatedRows), for ownCreated, and inserts counts them all.
	created []createdRow
	inserts int
}

// createdRow is a record a unit of work inserted, its owner when written,
// the length of the row log then and its place among the unit's inserts.
type createdRow struct {
	object, id, owner string
	mark, seq         int
}

// maxCreatedRows bounds the records a row log keeps as inserted: a
// reference to one inserted earlier in a long unit (an import) is checked
// in the database, as any other.
const maxCreatedRows = 64

// rowRef names the row of a record of object, or every row of object when
// id is "" (a statement that changed rows it does not name).
type rowRef struct{ object, id string }

// wrote adds a change of the row of object's record id ("" for rows not
// named).
func (l *rowLog) wrote(object, id string) {
	if l != nil {
		l.rows = append(l.rows, rowRef{object, id})
	}
}

// inserted notes that the unit inserted object's record id, owned by
// owner.
func (l *rowLog) inserted(object, id, owner string) {
	if l == nil {
		return
	}
	if len(l.created) == maxCreatedRows {
		l.created = append(l.created[:0], l.created[1:]...)
	}
	l.created = append(l.created, createdRow{object, id, owner, len(l.rows), l.inserts})
	l.inserts++
}

// forget drops the records inserted since the unit's first n inserts (a
// savepoint rolled back undid them).
func (l *rowLog) forget(n int) {
	for len(l.created) > 0 && l.created[len(l.created)-1].seq >= n {
		l.created = l.created[:len(l.created)-1]
	}
}

// ownCreated reports whether the unit inserted object's record id, owned
// by user, and has not changed its row since.
func (l *rowLog) ownCreated(object, id, user string) bool {
	if l == nil {
		return false
	}
	for i := len(l.created) - 1; i >= 0; i-- {
		if c := l.created[i]; c.object == object && c.id == id {
			return c.owner == user && !l.changedSince(c.mark, object, id)
		}
	}
	return false
}

// mark returns the position after the changes listed so far.
func (l *rowLog) mark() int {
	if l == nil {
		return 0
	}
	return len(l.rows)
}

// changedSince reports whether the row of object's record id may have been
// changed since mark; without a log it cannot tell, and says so.
func (l *rowLog) changedSince(mark int, object, id string) bool {
	if l == nil {
		return true
	}
	for _, r := range l.rows[mark:] {
		if r.object == object && (r.id == id || r.id == "") {
			return true
		}
	}
	return false
}

// newWriter returns the Writer of a unit of work on tx, with its row log,
// in one allocation.
func newWriter(e *Engine, tx store.Querier, rights *Rights) *Writer {
	u := &struct {
		w       Writer
		log     rowLog
		created [1]createdRow // a lone create's, without an allocation of its own
	}{}
	u.log.created = u.created[:0]
	u.w = Writer{e: e, tx: tx, rights: rights, rows: &u.log}
	return &u.w
}

// ChangedInPlace reports whether the unit of work may have changed the row
// of object's record id in place since it began: updated or deleted it, or
// cleared a lookup of it (a delete that clears the lookups pointing at the
// deleted record counts for every record of the objects holding them). A
// record the unit created and has not touched since was not. A hook of a
// create can tell from it that no trace of the new record can exist yet
// anywhere else (no earlier hook of the same write updated it).
func (w *Writer) ChangedInPlace(object, id string) bool {
	return w.rows.changedSince(0, object, id)
}
