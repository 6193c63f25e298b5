package query

import (
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine/store"
)

// Branch is one of the disjoint conditions of the records a reader may
// see.
type Branch struct {
	Predicate
	// Owners, when set, is a query of the ids of the owners whose records
	// the branch reaches (its condition selects no other): a Page with
	// Lateral reads the branch one owner at a time.
	Owners Predicate
}

// Page is one page of a sorted list of an object's records as one
// statement. Each pair of a record branch and a segment is read on its own
// (ordered by the sort and limited to the page), where an index on the
// branch's and the filter's equality columns followed by the sort columns
// answers it as one range read in order; the reads are merged with UNION
// ALL and sorted again, which touches at most branches × segments × Limit
// rows. One branch and one segment give a plain SELECT. With Lateral, a
// branch of several owners (a manager's subtree, a department) is read one
// owner at a time in the same way, at most Limit rows each, instead of
// reading every record of all of them and sorting.
type Page struct {
	// Table is the object's table name; predicates qualify columns with it.
	Table string
	// Columns are the column names selected (unquoted).
	Columns []string
	// List, when set, is Columns quoted and joined for a SELECT (a
	// reader that lists the same columns often keeps it); otherwise it
	// is built from Columns.
	List string
	// Branches are disjoint conditions whose union is every record the
	// reader may see (access.RecordRule.Disjoint); none, or one with an
	// empty SQL, means every record.
	Branches []Branch
	// Lateral reads each branch with Owners one owner at a time, through
	// a LATERAL join (PostgreSQL; SQLite has none).
	Lateral bool
	// Where is the filter every row must match.
	Where Predicate
	// Segments are the disjoint parts of the sorted rows to read
	// (Segments); none means every row.
	Segments []Predicate
	// Keys is the sort.
	Keys []SortKey
	// Limit is the number of rows read.
	Limit int
	// Probes are queries asked in the same statement: each adds a column
	// after Columns, EXISTS (probe), true when the probe returns a row.
	// A reader settles its record rule with them (access.RecordRule.Settle)
	// without a statement of its own before the page.
	Probes []Predicate
}

// SQL returns the statement with "?" placeholders and its arguments.
func (p Page) SQL() (string, []any) {
	branches := p.Branches
	if len(branches) == 0 {
		branches = []Branch{{}}
	}
	segs := p.Segments
	if len(segs) == 0 {
		segs = []Predicate{{}}
	}
	tail := " ORDER BY " + OrderBy(p.Keys) + " LIMIT " + strconv.Itoa(p.Limit)
	list := p.List
	if list == "" {
		list = SelectList(p.Columns)
	}
	sel, args := probeColumns(list, p.Probes)
	var parts []string
	for _, b := range branches {
		for _, s := range segs {
			if p.Lateral && !b.Owners.Empty() {
				// Each owner's records in the order of the index,
				// at most Limit of them, then merged.
				w, a := And(Predicate{SQL: store.Ident(p.Table) + "." + store.Ident("owner_id") + " = " + ownerColumn}, b.Predicate, p.Where, s)
				args = append(append(args, b.Owners.Args...), a...)
				parts = append(parts, "FROM ("+b.Owners.SQL+") AS "+owners+" CROSS JOIN LATERAL (SELECT "+list+" FROM "+store.Ident(p.Table)+where(w)+tail+") AS "+store.Ident(p.Table)+tail)
				continue
			}
			w, a := And(b.Predicate, p.Where, s)
			args = append(args, a...)
			parts = append(parts, "FROM "+store.Ident(p.Table)+where(w)+tail)
		}
	}
	if len(parts) == 1 {
		return "SELECT " + sel + " " + parts[0], args
	}
	var b strings.Builder
	b.WriteString("SELECT " + sel + " FROM (")
	for i, part := range parts {
		part = "SELECT " + list + " " + part
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT " + list + " FROM (" + part + ") AS " + store.Ident("p"+strconv.Itoa(i+1)))
	}
	b.WriteString(") AS " + store.Ident(p.Table) + tail)
	return b.String(), args
}

// owners names the owners a lateral read goes through (Page.Lateral), and
// ownerColumn their id, a name no record column has.
var (
	owners      = store.Ident("crm_owners") + " (" + store.Ident("crm_owner_id") + ")"
	ownerColumn = store.Ident("crm_owners") + "." + store.Ident("crm_owner_id")
)

// SelectList quotes columns and joins them for a SELECT.
func SelectList(columns []string) string {
	var b strings.Builder
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(store.Ident(c))
	}
	return b.String()
}

// probeColumns returns a SELECT list: list and one EXISTS column per
// probe, with the probes' arguments.
func probeColumns(list string, probes []Predicate) (string, []any) {
	var args []any
	for i, pr := range probes {
		list += ", EXISTS (" + pr.SQL + ") AS " + store.Ident("crm_probe_"+strconv.Itoa(i+1))
		args = append(args, pr.Args...)
	}
	return list, args
}

// Count returns the statement counting the records of table that one of
// the disjoint branches (none: every record) selects and the filter
// matches, as the sum of one count per branch so each can use its own
// index. With bound above zero each count stops after bound+1 rows: a
// result above bound means "more than bound". Each of probes adds a
// column after the count, as in Page.
func Count(table string, branches []Branch, filter Predicate, bound int, probes ...Predicate) (string, []any) {
	if len(branches) == 0 {
		branches = []Branch{{}}
	}
	var parts []string
	var args []any
	for _, b := range branches {
		w, a := And(b.Predicate, filter)
		args = append(args, a...)
		if bound > 0 {
			parts = append(parts, "(SELECT COUNT(*) FROM (SELECT 1 AS x FROM "+store.Ident(table)+where(w)+" LIMIT "+strconv.Itoa(bound+1)+") AS c)")
		} else {
			parts = append(parts, "(SELECT COUNT(*) FROM "+store.Ident(table)+where(w)+")")
		}
	}
	sel, probeArgs := probeColumns(strings.Join(parts, " + "), probes)
	return "SELECT " + sel, append(args, probeArgs...)
}

// And joins the non-empty predicates with AND; each is put in
// parentheses.
func And(ps ...Predicate) (string, []any) {
	var sqls []string
	var args []any
	for _, p := range ps {
		if p.SQL != "" {
			sqls = append(sqls, "("+p.SQL+")")
			args = append(args, p.Args...)
		}
	}
	return strings.Join(sqls, " AND "), args
}

// where is " WHERE cond", or nothing for an empty condition.
func where(cond string) string {
	if cond == "" {
		return ""
	}
	return " WHERE " + cond
}
