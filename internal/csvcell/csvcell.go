// Package csvcell writes text for the cells of CSV exports so that
// spreadsheet programs show it as text and never run it as a formula (CSV
// injection: a lead named "=HYPERLINK(…)" arrives through a public web
// form, marketing exports the leads and opens the file).
package csvcell

// Text returns s as a cell a spreadsheet shows as the text s: text that
// starts with one of = + - @ or a tab or carriage return (what spreadsheet
// programs read as the start of a formula) gets a leading apostrophe,
// which they do not evaluate. Numbers are not text: write them as they
// are.
func Text(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Value returns the text a cell written by Text holds: the apostrophe Text
// puts before a formula's first character is dropped, as spreadsheet
// programs drop it; any other cell is returned as it is.
func Value(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' {
		switch cell[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return cell[1:]
		}
	}
	return cell
}
