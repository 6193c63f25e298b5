package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// TestInsertOne checks the single-row INSERTs a snapshot keeps: the
// columns follow what the row has values for (the system fields always,
// fields without a column or with a null value never), in the dialect's placeholders, and a
// statement is shared only by rows writing the same columns in the same
// dialect, also for an object with more fields than a shape holds; the
// arguments are the row's values in the columns' order.
func TestInsertOne(t *testing.T) {
	t.Parallel()
	obj := &metadata.Object{Name: "thing", Fields: []*metadata.Field{
		{Name: "a", Type: "text"}, {Name: "b", Type: "integer"}, {Name: "tags", Type: "many_to_many", Target: "thing"},
	}}
	wide := &metadata.Object{Name: "wide"}
	for i := range 300 {
		wide.Fields = append(wide.Fields, &metadata.Field{Name: fmt.Sprintf("f%03d", i), Type: "text"})
	}
	sys := strings.Join(quoted(metadata.SystemFields), ", ")
	tests := []struct {
		name    string
		obj     *metadata.Object
		dialect string
		row     map[string]any
		want    string
	}{
		{"all", obj, metadata.DialectSQLite, map[string]any{"a": "x", "b": 1, "tags": []string{"y"}},
			`INSERT INTO "thing" (` + sys + `, "a", "b") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{"null left out", obj, metadata.DialectSQLite, map[string]any{"a": nil, "b": 1},
			`INSERT INTO "thing" (` + sys + `, "b") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{"some", obj, metadata.DialectSQLite, map[string]any{"b": 1},
			`INSERT INTO "thing" (` + sys + `, "b") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{"none", obj, metadata.DialectSQLite, map[string]any{},
			`INSERT INTO "thing" (` + sys + `) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{"postgres", obj, metadata.DialectPostgres, map[string]any{"b": 1},
			`INSERT INTO "thing" (` + sys + `, "b") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`},
		{"past a shape, first", wide, metadata.DialectSQLite, map[string]any{"f299": "x"},
			`INSERT INTO "wide" (` + sys + `, "f299") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{"past a shape, second", wide, metadata.DialectSQLite, map[string]any{"f298": "x"},
			`INSERT INTO "wide" (` + sys + `, "f298") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
	}
	snap := &Snapshot{}
	for round := range 2 { // the second round reads what the first kept
		for _, tt := range tests {
			st, args := snap.insertOne(tt.obj, tt.dialect, tt.row)
			if st.sql != tt.want {
				t.Errorf("round %d, %s:\n got %s\nwant %s", round, tt.name, st.sql, tt.want)
			}
			if n := strings.Count(tt.want, ", ")/2 + 1; len(st.at) != n || len(args) != n {
				t.Errorf("round %d, %s: %d columns %v and %d arguments for %s", round, tt.name, len(st.at), st.at, len(args), tt.want)
				continue
			}
			// The places name the columns the statement writes, in order.
			table := allColumns(tt.dialect, tt.obj)
			cols := make([]string, len(st.at))
			for i, at := range st.at {
				cols[i] = table[at]
			}
			if list := "(" + strings.Join(quoted(cols), ", ") + ")"; !strings.Contains(st.sql, list) {
				t.Errorf("round %d, %s: columns placed at %v are %s, not those of %s", round, tt.name, st.at, list, st.sql)
				continue
			}
			for i, c := range cols[len(metadata.SystemFields):] {
				if got := args[len(metadata.SystemFields)+i]; got != tt.row[c] {
					t.Errorf("round %d, %s: column %s gets %v, want %v", round, tt.name, c, got, tt.row[c])
				}
			}
		}
	}
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = `"` + n + `"`
	}
	return out
}

// TestColumnsHaveNoDefault guards what insertOne leaves out: a null value
// is left out of a record's INSERT, which writes the same row only while
// no column of a field type declares a default.
func TestColumnsHaveNoDefault(t *testing.T) {
	t.Parallel()
	for _, name := range metadata.FieldTypeNames() {
		f := &metadata.Field{Name: "x", Type: name, Target: "thing", Options: []metadata.Option{{Value: "a"}}}
		for _, d := range []string{metadata.DialectSQLite, metadata.DialectPostgres} {
			if col := metadata.TypeOf(f).Column(d, f); strings.Contains(strings.ToUpper(col), "DEFAULT") {
				t.Errorf("%s on %s: column %q has a default", name, d, col)
			}
		}
	}
}

// TestEmptyAnswers guards what a create's answer leaves to the blank
// record (insertedAnswer): the columns its INSERT leaves out are empty,
// and every field type with a column answers its empty value.
func TestEmptyAnswers(t *testing.T) {
	t.Parallel()
	for _, name := range metadata.FieldTypeNames() {
		f := &metadata.Field{Name: "x", Type: name, Target: "thing", Options: []metadata.Option{{Value: "a"}}}
		for _, d := range []string{metadata.DialectSQLite, metadata.DialectPostgres} {
			if metadata.TypeOf(f).Column(d, f) == "" {
				continue
			}
			if _, err := metadata.TypeOf(f).Output(f, nil); err != nil {
				t.Errorf("%s on %s: no answer for an empty value: %v", name, d, err)
			}
		}
	}
}
