package run

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/internal/csvcell"
	"github.com/xuri/excelize/v2"
)

// table is a result as a grid of cells for exports: a header of column
// labels, the rows, then a totals row; group, lookup, user and picklist
// columns show their labels, numbers their exact decimal text.
func (res *Result) table(lang string) (header []string, rows [][]cell) {
	for _, c := range res.Columns {
		header = append(header, c.Label)
	}
	for _, row := range res.Rows {
		labels := rowLabels(row)
		var out []cell
		for _, c := range res.Columns {
			v, has := row[c.Name]
			if l, ok := labels.Get(c.Name); ok && (c.Role == "group" || has) {
				out = append(out, cell{text: l})
				continue
			}
			out = append(out, valueCell(c, v, res.loc))
		}
		rows = append(rows, out)
	}
	if len(res.Totals) > 0 {
		out := make([]cell, len(res.Columns))
		for i, c := range res.Columns {
			if v, ok := res.Totals[c.Name]; ok {
				out[i] = valueCell(c, v, res.loc)
			}
		}
		if len(out) > 0 && out[0].text == "" && !out[0].number {
			out[0] = cell{text: map[bool]string{true: "合计", false: "Total"}[lang == "zh"]}
		}
		rows = append(rows, out)
	}
	return header, rows
}

// cell is one exported value: text, or a number with its decimals.
type cell struct {
	text   string
	number bool
	scale  int
}

// exportTime is how an export shows a datetime: in the user's time zone,
// to the second.
const exportTime = "2006-01-02 15:04:05"

// valueCell writes a value of a column; a datetime (RFC 3339 in UTC, as
// the JSON answer has it) in loc.
func valueCell(c Column, v any, loc *time.Location) cell {
	switch x := v.(type) {
	case nil:
		return cell{}
	case string:
		if c.Type == "datetime" && loc != nil {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return cell{text: t.In(loc).Format(exportTime)}
			}
		}
		return cell{text: x}
	case json.Number:
		scale := 0
		if _, frac, ok := strings.Cut(string(x), "."); ok {
			scale = len(frac)
		}
		return cell{text: string(x), number: true, scale: scale}
	case int64, int:
		return cell{text: fmt.Sprint(x), number: true}
	case float64:
		return cell{text: strconv.FormatFloat(x, 'f', -1, 64), number: true, scale: -1}
	case bool:
		return cell{text: strconv.FormatBool(x)}
	}
	return cell{text: fmt.Sprint(v)}
}

// WriteCSV writes the result as CSV in UTF-8 with a byte order mark, so
// spreadsheet programs read Chinese correctly; a text cell that would
// start a formula is written so that it stays text (csvcell.Text).
func (res *Result) WriteCSV(w io.Writer, lang string) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header, rows := res.table(lang)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, c := range row {
			rec[i] = c.text
			if !c.number {
				rec[i] = csvcell.Text(c.text)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the result as an Excel workbook (one sheet named after
// the report) with numbers as numbers, shown with their decimals.
func (res *Result) WriteXLSX(w io.Writer, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	header, rows := res.table(lang)
	styles := map[int]int{}
	style := func(scale int) (int, error) {
		if s, ok := styles[scale]; ok {
			return s, nil
		}
		format := "#,##0"
		if scale > 0 {
			format += "." + strings.Repeat("0", scale)
		} else if scale < 0 {
			format = "General"
		}
		s, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		styles[scale] = s
		return s, err
	}
	for i, h := range header {
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, ref, h); err != nil {
			return err
		}
	}
	for r, row := range rows {
		for i, c := range row {
			ref, _ := excelize.CoordinatesToCellName(i+1, r+2)
			if !c.number {
				if err := f.SetCellStr(sheet, ref, c.text); err != nil {
					return err
				}
				continue
			}
			n, err := strconv.ParseFloat(c.text, 64)
			if err != nil {
				return err
			}
			if err := f.SetCellFloat(sheet, ref, n, -1, 64); err != nil {
				return err
			}
			s, err := style(c.scale)
			if err != nil {
				return err
			}
			if err := f.SetCellStyle(sheet, ref, ref, s); err != nil {
				return err
			}
		}
	}
	name := strings.NewReplacer("/", " ", "\\", " ", "?", " ", "*", " ", "[", " ", "]", " ", ":", " ").Replace(res.Label)
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	if name != "" {
		if err := f.SetSheetName(sheet, name); err != nil {
			return err
		}
	}
	return f.Write(w)
}
