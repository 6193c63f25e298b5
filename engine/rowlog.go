package engine

import "github.com/crmplatform/crm/engine/store"

// rowLog lists the records whose rows a unit of work changed in place
// (updated, deleted, cleared by a delete), so that an answer made from a
// record in memory, a create's or an update's, can tell whether its row was
// written again afterwards: an automation's after-hook setting a field of
// the record just written, a roll-up of a record that is its own parent.
// Then the answer is read back instead. Inserts are not listed: a new row
// changes no other record's.
type rowLog struct{ rows []rowRef }

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
		w   Writer
		log rowLog
	}{}
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
