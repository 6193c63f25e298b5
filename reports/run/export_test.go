package run

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"testing"
)

// TestWriteCSVKeepsTextText: a text cell a spreadsheet would run as a
// formula is written to stay text; numbers, negative ones included, are
// written as numbers.
func TestWriteCSVKeepsTextText(t *testing.T) {
	res := &Result{
		Columns: []Column{{Name: "name", Label: "Name", Type: "text", Role: "group"}, {Name: "amount", Label: "Amount", Type: "currency", Role: "aggregate"}},
		Rows: []Row{
			{"name": "=HYPERLINK(\"http://evil.test\",\"Open\")", "amount": json.Number("-5.00")},
			{"name": "@SUM(A1)", "amount": json.Number("12.50")},
			{"name": "Acme", "amount": int64(3)},
		},
	}
	var buf bytes.Buffer
	if err := res.WriteCSV(&buf, "en"); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"Name", "Amount"}, {`'=HYPERLINK("http://evil.test","Open")`, "-5.00"}, {"'@SUM(A1)", "12.50"}, {"Acme", "3"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("CSV\n%q\nwant\n%q", got, want)
	}
}
