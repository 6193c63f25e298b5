package store

import "strings"

// MaxInList is the most values the engine puts in one IN list; longer
// lists are read in batches (slices.Chunk(ids, MaxInList)), well below
// the limits SQLite and PostgreSQL set on the parameters of a statement.
const MaxInList = 500

// Marks returns n comma-separated "?" placeholders ("?, ?, ?"), for IN
// lists and VALUES; Rebind turns them into the dialect's form.
func Marks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// In returns the condition "col IN (?, …)" with n placeholders; col is
// an already quoted column.
func In(col string, n int) string { return col + " IN (" + Marks(n) + ")" }
