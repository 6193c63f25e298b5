package store

import "database/sql"

// ScanTargets returns n values and the pointers rows.Scan fills them
// through, for reading rows whose columns are known only at run time; the
// same two slices serve every row.
func ScanTargets(n int) (vals, ptrs []any) {
	vals = make([]any, n)
	ptrs = make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ptrs
}

// ScanMaps reads every row into a map of driver values by column, and
// closes rows.
func ScanMaps(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals, ptrs := ScanTargets(len(cols))
	var out []map[string]any
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
