package run

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// grp is one group of records: its keys (one per dimension of its level),
// their labels and the aggregates' partial results.
type grp struct {
	keys   []any
	labels []string
	states []state
	vals   map[string]*big.Rat
	out    map[string]any
	// lbl are the labels of the group's row (groupRow).
	lbl Labels
	// path is path(keys), made once (hasPath) for all the paths asked of
	// the group (its row, its subtotal's, the sort within its outer group).
	path    string
	hasPath bool
}

// prefix returns the drill-down path of the group's first l keys,
// path(g.keys[:l]): a part of the group's own path, since an escaped key
// holds no "/".
func (g *grp) prefix(l int) string {
	if !g.hasPath {
		g.path, g.hasPath = path(g.keys), true
	}
	if l == 0 {
		return ""
	}
	for i, seen := 0, 0; i < len(g.path); i++ {
		if g.path[i] == '/' {
			if seen++; seen == l {
				return g.path[:i]
			}
		}
	}
	return g.path
}

// dims returns every dimension of a plan: rows, then columns.
func dims(p *reports.Plan) []*reports.Dim {
	return append(append([]*reports.Dim(nil), p.Groups...), p.Across...)
}

// dimNames returns the names of dimensions all.
func dimNames(all []*reports.Dim) []string {
	names := make([]string, len(all))
	for i, d := range all {
		names[i] = d.Name
	}
	return names
}

// groupQuery runs the GROUP BY of the dimensions at the indexes idx and
// returns the groups in the dimensions' order.
func (r *Runner) groupQuery(ctx context.Context, b *builder, where string, args []any, idx []int) ([]*grp, error) {
	all := dims(b.plan)
	var sel, titles []string
	for _, i := range idx {
		s, err := b.dim(all[i])
		if err != nil {
			return nil, err
		}
		sel = append(sel, s)
		t := ""
		if all[i].Bucket == "" {
			t = b.title(all[i].Value)
		}
		titles = append(titles, t)
	}
	nKeys := len(sel)
	for _, t := range titles {
		if t != "" {
			sel = append(sel, "MAX("+t+")")
		}
	}
	aggCols, aggArgs := aggsSQL(b)
	sel = append(sel, aggCols...)
	stmt := "SELECT " + strings.Join(sel, ", ") + b.from() + where
	if nKeys > 0 {
		ords := make([]string, nKeys)
		for i := range ords {
			ords[i] = strconv.Itoa(i + 1)
		}
		stmt += " GROUP BY " + strings.Join(ords, ", ")
	}
	rows, err := b.query(ctx, stmt, append(append(aggArgs, b.args...), args...))
	if err != nil {
		return nil, err
	}
	if len(rows) > reports.MaxRows {
		return nil, &engine.RequestError{Message: fmt.Sprintf("report %s has more than %d groups: filter it or group it more coarsely", b.plan.Report.Name, reports.MaxRows)}
	}
	out := make([]*grp, len(rows))
	// The groups, their keys, labels and states are each one allocation
	// for all the rows: a report's Go work is mostly allocation.
	gs := make([]grp, len(rows))
	k, na := len(idx), len(b.plan.Aggs)
	keys, labels, states := make([]any, len(rows)*k), make([]string, len(rows)*k), make([]state, len(rows)*na)
	for r, raw := range rows {
		g := &gs[r]
		g.keys, g.labels, g.states = keys[r*k:(r+1)*k:(r+1)*k], labels[r*k:(r+1)*k:(r+1)*k], states[r*na:(r+1)*na:(r+1)*na]
		ti := nKeys
		for j, i := range idx {
			d := all[i]
			key, err := keyOf(d, raw[j])
			if err != nil {
				return nil, fmt.Errorf("report %s: %s: %w", b.plan.Report.Name, d.Name, err)
			}
			var title any
			if titles[j] != "" {
				title = raw[ti]
				ti++
			}
			g.keys[j], g.labels[j] = key, b.keyLabel(d, key, title)
		}
		c := ti
		for j, a := range b.plan.Aggs {
			if g.states[j], c, err = scanState(a, raw, c); err != nil {
				return nil, err
			}
		}
		out[r] = g
	}
	sortGroups(b, out, idx)
	return out, nil
}

// level returns the groups of the dimensions at idx: merged from the
// detail groups (whose dimensions are all of the plan's) when every
// aggregate can be, else from their own query.
func (r *Runner) level(ctx context.Context, b *builder, where string, args []any, detail []*grp, idx []int) ([]*grp, error) {
	if !mergeable(b.plan.Aggs) {
		return r.groupQuery(ctx, b, where, args, idx)
	}
	byKey := map[string]*grp{}
	var out []*grp
	keys := make([]any, len(idx))
	// The levels of subtotals and the total group by the detail's first
	// dimensions: their path is the detail group's prefix, escaped once.
	leading := true
	for j, i := range idx {
		leading = leading && i == j
	}
	for _, d := range detail {
		for j, i := range idx {
			keys[j] = d.keys[i]
		}
		var k string
		if leading {
			k = d.prefix(len(idx))
		} else {
			k = path(keys)
		}
		if prev, ok := byKey[k]; ok {
			for j, a := range b.plan.Aggs {
				prev.states[j].merge(a, d.states[j])
			}
			continue
		}
		g := &grp{keys: slices.Clone(keys), labels: make([]string, len(idx))}
		for j, i := range idx {
			g.labels[j] = d.labels[i]
		}
		g.states = make([]state, len(d.states))
		for j, a := range b.plan.Aggs {
			g.states[j].merge(a, d.states[j])
		}
		byKey[k] = g
		out = append(out, g)
	}
	if len(idx) == 0 && len(out) == 0 {
		out = []*grp{{states: make([]state, len(b.plan.Aggs))}}
	}
	sortGroups(b, out, idx)
	return out, nil
}

// keyOf converts a dimension's key from the database.
func keyOf(d *reports.Dim, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if d.Bucket != "" {
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		case string:
			return v, nil // the driver's value, not boxed again
		}
		return fmt.Sprint(v), nil
	}
	return metadata.TypeOf(d.Field).Output(d.Field, v)
}

// keyLabel is the label of a group's key in the user's language.
func (b *builder) keyLabel(d *reports.Dim, key, title any) string {
	if key == nil {
		if b.lang == "zh" {
			return "(空)"
		}
		return "(none)"
	}
	if l, ok := b.optionLabel(d.Value, key); ok {
		return l
	}
	if title != nil {
		if bs, ok := title.([]byte); ok {
			return string(bs)
		}
		return fmt.Sprint(title)
	}
	if d.Bucket != "" && b.lang == "zh" {
		return bucketZh(d.Bucket, keyString(key))
	}
	return keyString(key)
}

// bucketZh names a date bucket's key in Chinese: 2026年3月, 2026年第1季度,
// 2026年, 2026-03-02 当周 (a day as it is).
func bucketZh(b metadata.Bucket, key string) string {
	var y, n int
	switch b {
	case metadata.BucketMonth:
		if _, err := fmt.Sscanf(key, "%d-%d", &y, &n); err == nil {
			return fmt.Sprintf("%d年%d月", y, n)
		}
	case metadata.BucketQuarter:
		if _, err := fmt.Sscanf(key, "%d-Q%d", &y, &n); err == nil {
			return fmt.Sprintf("%d年第%d季度", y, n)
		}
	case metadata.BucketYear:
		if _, err := fmt.Sscanf(key, "%d", &y); err == nil {
			return fmt.Sprintf("%d年", y)
		}
	case metadata.BucketWeek:
		return key + " 当周"
	}
	return key
}

// keyString writes a key as text.
func keyString(k any) string {
	switch x := k.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(k)
}

// sortGroups orders groups by their dimensions' natural order (see
// order), each group's keys worked out once for the sort (sortKey).
func sortGroups(b *builder, gs []*grp, idx []int) {
	all := dims(b.plan)
	orders := make([]order, len(idx))
	for j, i := range idx {
		orders[j] = orderOf(all[i])
	}
	// Each group is sorted by its place: its keys are at
	// flat[place*len(idx):], and equal keys keep their order (the place
	// breaks ties, as a stable sort would, at the cost of an unstable one).
	flat := make([]sortKey, len(gs)*len(idx))
	places := make([]int, len(gs))
	for n, g := range gs {
		places[n] = n
		for j := range orders {
			flat[n*len(idx)+j] = orders[j].key(g.keys[j], g.labels[j])
		}
	}
	slices.SortFunc(places, func(x, y int) int {
		for j := range orders {
			if c := orders[j].compare(&flat[x*len(idx)+j], &flat[y*len(idx)+j]); c != 0 {
				return c
			}
		}
		return x - y
	})
	sorted := make([]*grp, len(gs))
	for n, place := range places {
		sorted[n] = gs[place]
	}
	copy(gs, sorted)
}

// order is how the keys of a dimension sort: picklists by option,
// lookups and users by label, booleans false first, numbers by value,
// dates and text as text; empty keys last.
type order struct {
	bucket bool
	// ranks maps the options of a picklist field to their places (nil
	// for another dimension); a value that is no option comes after them.
	ranks   map[string]int
	others  int
	numeric bool
	byLabel bool
}

// orderOf returns the order of a dimension's keys.
func orderOf(d *reports.Dim) order {
	if d.Bucket != "" {
		return order{bucket: true}
	}
	f := d.Field
	o := order{numeric: metadata.TypeOf(f).Kind().Numeric(), others: len(f.Options)}
	if _, ok := metadata.LookupTarget(f); ok || d.Ref != nil && reports.IsUserField(f.Name) {
		o.byLabel = true
	}
	if metadata.SingleOption(f) {
		o.ranks = make(map[string]int, len(f.Options))
		for i, opt := range f.Options {
			if _, dup := o.ranks[opt.Value]; !dup {
				o.ranks[opt.Value] = i
			}
		}
	}
	return o
}

// sortKey is a key of a dimension as its order compares it.
type sortKey struct {
	none    bool
	rank    int
	isBool  bool
	boolean bool
	num     *big.Rat
	label   string
	text    string
}

// key returns the sort key of a dimension's key k, labelled label.
func (o order) key(k any, label string) sortKey {
	if k == nil {
		return sortKey{none: true}
	}
	out := sortKey{text: keyString(k)}
	if o.bucket {
		return out
	}
	if o.ranks != nil {
		s, isText := k.(string) // a picklist's key is its option's value
		r, ok := o.ranks[s]
		if !ok || !isText {
			r = o.others
		}
		out.rank = r
	}
	out.boolean, out.isBool = k.(bool)
	if o.numeric {
		out.num = ratOf(k)
	}
	if o.byLabel {
		out.label = label
	}
	return out
}

// compare orders two sort keys of the dimension.
func (o order) compare(a, b *sortKey) int {
	switch {
	case a.none && b.none:
		return 0
	case a.none:
		return 1
	case b.none:
		return -1
	}
	if !o.bucket {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		if a.isBool {
			switch y := b.isBool && b.boolean; {
			case a.boolean == y:
				return 0
			case !a.boolean:
				return -1
			}
			return 1
		}
		if a.num != nil && b.num != nil {
			return a.num.Cmp(b.num)
		}
		if c := strings.Compare(a.label, b.label); c != 0 {
			return c
		}
	}
	return strings.Compare(a.text, b.text)
}

// pathEscape escapes a key of a drill-down path (built once: a Replacer
// builds its tables on first use, which cost more than a report's rows).
var pathEscape = strings.NewReplacer("%", "%25", "/", "%2F", "*", "%2A")

// NoValue is the drill-down address of a group whose only key is no
// value: its path, an empty segment, would be the empty address, which
// means the whole report. As a segment of a longer path it means no value
// too, as an empty segment does. A key "*none" is escaped as "%2Anone".
const NoValue = "*none"

// address is the drill-down address of a group of n keys whose path is
// p: p, or NoValue when p is empty although the group has a key.
func address(p string, n int) string {
	if p == "" && n > 0 {
		return NoValue
	}
	return p
}

// path writes keys as a drill-down path: each key escaped ("%", "/" and
// "*"), an empty key as an empty segment, joined by "/".
func path(keys []any) string {
	var buf [4]string // the parts of a report's usual few keys, on the stack
	parts := buf[:0]
	for _, k := range keys {
		parts = append(parts, pathEscape.Replace(keyString(k)))
	}
	return strings.Join(parts, "/")
}

// finishGroup computes the JSON values of a group's aggregates, and their
// numbers when the report's calculations or sort read them (vals). When
// the group becomes a row (asRow), their map has room for the row
// groupRow makes of it.
func finishGroup(p *reports.Plan, g *grp, asRow bool) {
	numbers := len(p.Report.Calculations) > 0 || len(p.Report.Sort) > 0
	size := len(p.Aggs) + len(p.Report.Calculations)
	if asRow {
		size += rowFields + len(g.keys)
	}
	g.out = make(map[string]any, size)
	if numbers {
		g.vals = make(map[string]*big.Rat, len(p.Aggs)+len(p.Report.Calculations))
	}
	for j, a := range p.Aggs {
		if numbers {
			g.vals[a.Def.Name], g.out[a.Def.Name] = result(a, g.states[j])
		} else {
			g.out[a.Def.Name] = resultJSON(a, g.states[j])
		}
	}
}

// grouped runs a summary or matrix report.
func (r *Runner) grouped(ctx context.Context, b *builder, filter string, res *Result) error {
	p := b.plan
	where, args, err := b.where(filter)
	if err != nil {
		return err
	}
	all := dims(p)
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	detail, err := r.groupQuery(ctx, b, where, args, idx)
	if err != nil {
		return err
	}
	total, err := r.level(ctx, b, where, args, detail, nil)
	if err != nil {
		return err
	}
	finishGroup(p, total[0], false)
	for _, d := range all {
		t := colType{Type: "text"}
		if d.Bucket == "" {
			t = valueType(d.Value)
		}
		role := "group"
		res.Columns = append(res.Columns, Column{Name: d.Name, Label: b.label(d.Value), Type: t.Type, Scale: t.Scale, Role: role, Bucket: d.Bucket})
	}
	if p.Kind == reports.Matrix {
		res.Columns = res.Columns[:len(p.Groups)]
		return r.matrix(ctx, b, where, args, detail, total[0], res)
	}
	for _, g := range detail {
		finishGroup(p, g, true)
	}
	for _, a := range p.Aggs {
		t := aggType(a)
		res.Columns = append(res.Columns, Column{Name: a.Def.Name, Label: aggLabel(b, a), Type: t.Type, Scale: t.Scale, Role: "aggregate"})
	}
	calculate(b, detail, total[0], res)
	var subs [][]*grp
	if p.Report.Subtotals {
		for l := 1; l < len(p.Groups); l++ {
			s, err := r.level(ctx, b, where, args, detail, idx[:l])
			if err != nil {
				return err
			}
			for _, g := range s {
				finishGroup(p, g, true)
				subtotalCalcs(p, g, total[0])
			}
			subs = append(subs, s)
		}
	}
	if err := sortRows(p, detail, len(p.Groups), p.Report.Subtotals); err != nil {
		return err
	}
	if p.Report.Limit > 0 && len(detail) > p.Report.Limit {
		detail = detail[:p.Report.Limit]
	}
	res.Rows = summaryRows(b, detail, subs)
	res.Totals = total[0].out
	return nil
}

// rowFields is how many fields a group's row has besides its keys and
// values: _level, _group and _labels.
const rowFields = 3

// groupRow writes one group as a row, its values (finishGroup) becoming
// the row: a group is the row of one line only. names are the names of
// the plan's dimensions (dimNames).
func groupRow(names []string, g *grp) Row {
	row := Row(g.out)
	row["_level"], row["_group"] = len(g.keys), address(g.prefix(len(g.keys)), len(g.keys))
	if len(g.keys) == 0 {
		return row
	}
	for i, k := range g.keys {
		row[names[i]] = k
	}
	g.lbl = Labels{names: names[:len(g.keys)], values: g.labels}
	row["_labels"] = &g.lbl
	return row
}

// summaryRows lists the detail rows with, when subs are given, a subtotal
// row after the last row of each outer group (innermost first).
func summaryRows(b *builder, detail []*grp, subs [][]*grp) []Row {
	names := dimNames(dims(b.plan))
	out := make([]Row, 0, len(detail))
	// bySub finds a subtotal group of a level by its keys' path.
	bySub := make([]map[string]*grp, len(subs))
	for l, s := range subs {
		bySub[l] = make(map[string]*grp, len(s))
		for _, g := range s {
			bySub[l][g.prefix(len(g.keys))] = g
		}
	}
	for i, g := range detail {
		out = append(out, groupRow(names, g))
		for l := len(subs); l >= 1; l-- {
			outer := g.prefix(l)
			if i+1 < len(detail) && detail[i+1].prefix(l) == outer {
				break
			}
			if s := bySub[l-1][outer]; s != nil {
				out = append(out, groupRow(names, s))
			}
		}
	}
	return out
}

// sortRows orders detail groups by the report's sort keys (stable, so
// the natural order breaks ties), within their outer group when subtotals
// are shown.
func sortRows(p *reports.Plan, gs []*grp, nGroups int, within bool) error {
	if len(p.Report.Sort) == 0 {
		return nil
	}
	all := dims(p)
	orders := make([]order, len(all))
	for i, d := range all {
		orders[i] = orderOf(d)
	}
	slices.SortStableFunc(gs, func(x, y *grp) int {
		if within && nGroups > 1 {
			if c := strings.Compare(x.prefix(nGroups-1), y.prefix(nGroups-1)); c != 0 {
				return c
			}
		}
		for _, k := range p.Report.Sort {
			name := strings.TrimPrefix(k, "-")
			desc := strings.HasPrefix(k, "-")
			var c int
			if i := slices.IndexFunc(all, func(d *reports.Dim) bool { return d.Name == name }); i >= 0 && i < len(x.keys) {
				o := orders[i]
				kx, ky := o.key(x.keys[i], x.labels[i]), o.key(y.keys[i], y.labels[i])
				c = o.compare(&kx, &ky)
			} else {
				c = compareRats(x.vals[name], y.vals[name], desc)
			}
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}

// compareRats orders numbers with empty ones last whatever the direction.
func compareRats(a, b *big.Rat, desc bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return map[bool]int{true: -1, false: 1}[desc]
	case b == nil:
		return map[bool]int{true: 1, false: -1}[desc]
	}
	return a.Cmp(b)
}
