package store

import "strings"

// MaxParams is how many ids one IN (…) list holds at most, well under the
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const MaxParams = 500

// Marks returns n comma-separated "?" placeholders for an IN (…) list.
func Marks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Chunks splits ids into slices of at most MaxParams, so each fits one
// IN (…) list.
func Chunks[T any](ids []T) [][]T {
	var out [][]T
	for len(ids) > MaxParams {
		out = append(out, ids[:MaxParams])
		ids = ids[MaxParams:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
