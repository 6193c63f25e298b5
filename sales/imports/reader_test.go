package imports

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// TestResumeKeepsLines reads awkward files (CRLF line ends, a quoted cell
// over two lines, a malformed quote, blank lines and rows, no final line
// end, a last cell over two lines) in one pass, and again the way an import job does, a batch per
// step each resuming at the byte and line the step before recorded: the
// rows, their lines and the problems must be the same for every batch
// size.
func TestResumeKeepsLines(t *testing.T) {
	t.Parallel()
	obj := &metadata.Object{Name: "item", Fields: []*metadata.Field{{Name: "name", Type: "text"}, {Name: "size", Type: "integer"}}}
	files := []struct {
		name, text string
		lines      []int // lines of the rows read, in order
		bad        []int // lines of the problems
	}{
		{"plain", "name,size\n" + "a,1\n" + "b,2\n" + "c,3\n", []int{2, 3, 4}, nil},
		{"awkward", "name,size\r\n" + "a,1\r\n" + "\r\n" + "\"multi\nline\",2\r\n" + "x\"bad,3\r\n" + ",\r\n" + "d,four\n" + "e,5\n" + "\"f\r\nf\",6\n" + "g,7",
			[]int{2, 4, 9, 10, 12}, []int{6, 8}},
		{"last cell over two lines", "name,size\n" + "a,\"1\n\"\n" + "b,2\n" + "c,x\n", []int{2, 4}, []int{5}},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			whole := readAll(t, obj, f.text, 1000)
			var lines, bad []int
			for _, r := range whole.rows {
				lines = append(lines, r.line)
			}
			for _, e := range whole.res.Errors {
				bad = append(bad, e.Line)
			}
			if !reflect.DeepEqual(lines, f.lines) || !reflect.DeepEqual(bad, f.bad) {
				t.Fatalf("rows at lines %v (want %v), problems at %v (want %v): %v", lines, f.lines, bad, f.bad, whole.res.Errors)
			}
			for n := 1; n <= 3; n++ {
				if got := readAll(t, obj, f.text, n); !reflect.DeepEqual(got, whole) {
					t.Errorf("in batches of %d:\n%+v\nin one pass:\n%+v", n, got, whole)
				}
			}
		})
	}
}

// pass is what reading a file gave.
type pass struct {
	rows    []row
	res     Result
	records int64
}

// readAll reads text as an import job does: the header, then batches of
// n rows, each from a new reader over the rest of the file, starting at
// the byte and line where the one before stopped.
func readAll(t *testing.T, obj *metadata.Object, text string, n int) pass {
	t.Helper()
	cr := newCSV(strings.NewReader(text))
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	cols := make([]column, len(header))
	for i, h := range header {
		f, _ := obj.Field(h)
		cols[i] = column{field: f}
	}
	rr := &rowReader{cr: cr, base: 1}
	rr.line(header)
	pos, line := cr.InputOffset(), rr.next
	p := pass{res: Result{Errors: []RowError{}}}
	for step := 0; ; step++ {
		if step > len(text) {
			t.Fatal("the reader does not move on")
		}
		rr := &rowReader{cr: newCSV(strings.NewReader(text[pos:])), obj: obj, cols: cols, base: line, next: line}
		batch, eof, err := rr.read(n, &p.res)
		if err != nil {
			t.Fatal(err)
		}
		p.rows = append(p.rows, batch...)
		p.records += rr.records
		pos += rr.cr.InputOffset()
		line = rr.next
		if eof {
			return p
		}
	}
}

// String shows a row in failures.
func (r row) String() string { return fmt.Sprintf("%d:%v", r.line, r.data) }
