package run

// Text is the result as text for a page: the column labels, then one row
// of cells per row of the result and, when it has totals, a totals row
// last; cells show what the exports show (labels of groups, picklists,
// lookups and users; numbers as exact decimals).
func (res *Result) Text(lang string) (header []string, rows [][]string) {
	header, cells := res.table(lang)
	rows = make([][]string, len(cells))
	for i, row := range cells {
		rows[i] = make([]string, len(row))
		for j, c := range row {
			rows[i][j] = c.text
		}
	}
	return header, rows
}
