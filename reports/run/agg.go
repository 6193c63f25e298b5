package run

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// state is the partial result of one aggregate over some records: what
// the SQL gave for a group, or several groups merged (subtotals, totals).
type state struct {
	n    int64   // records (count), values (avg, min, max); unused by sum
	sum  decimal // sum, avg: the sum of the values (no number when none)
	best any     // min, max: *big.Rat for numbers, string for dates
}

// decimal is an exact number, kept as units / 10^scale in 64 bits while
// it is one and fits (sums of minor units or of integers: the usual
// report), else as a big.Rat. The zero decimal is no number.
type decimal struct {
	units int64
	scale int
	small bool     // units and scale hold the number
	rat   *big.Rat // the number when it is not small; never changed once set
}

// ratDecimal is r as a decimal (no number when r is nil).
func ratDecimal(r *big.Rat) decimal { return decimal{rat: r} }

// isNumber reports whether d holds a number.
func (d decimal) isNumber() bool { return d.small || d.rat != nil }

// Rat returns d as a big.Rat (nil when it holds no number).
func (d decimal) Rat() *big.Rat {
	if d.small {
		if d.scale < len(pow10s) && pow10s[d.scale] <= math.MaxInt64 {
			return new(big.Rat).SetFrac64(d.units, int64(pow10s[d.scale]))
		}
		return new(big.Rat).SetFrac(big.NewInt(d.units), pow10(d.scale))
	}
	return d.rat
}

// plus returns d + o in 64 bits when both are small with one scale and
// the sum fits, else as a big.Rat.
func (d decimal) plus(o decimal) decimal {
	switch {
	case !o.isNumber():
		return d
	case !d.isNumber():
		return o
	case d.small && o.small && d.scale == o.scale:
		// Signed overflow only when both have one sign and the sum the other.
		if v := d.units + o.units; (d.units >= 0) != (o.units >= 0) || (v >= 0) == (d.units >= 0) {
			return decimal{units: v, scale: d.scale, small: true}
		}
	}
	return ratDecimal(new(big.Rat).Add(d.Rat(), o.Rat()))
}

// aggSQL returns the SQL columns an aggregate reads (one or two) and
// the arguments of their placeholders, in order. An aggregate with a
// filter reads its value (1 for a count of records) only where the
// filter holds.
func aggSQL(b *builder, a *reports.Agg) ([]string, []any) {
	cond, filtered := b.aggFilters[a]
	when := func(v string) string { return "CASE WHEN " + cond.SQL + " THEN " + v + " END" }
	var args []any
	// use returns the SQL of one column, counting its arguments.
	use := func(sql string, conds int) string {
		for range conds {
			args = append(args, cond.Args...)
		}
		return sql
	}
	if a.Value == nil {
		if filtered {
			return []string{use("COUNT("+when("1")+")", 1)}, args
		}
		return []string{"COUNT(*)"}, nil
	}
	v, k := b.value(a.Value), 0
	if filtered {
		v, k = when(v), 1
	}
	n := func() string { return use("COUNT("+v+")", k) }
	if a.Value.Formula != nil && !a.Value.Formula.Nullable() {
		// A value for every record: no need to compute it twice.
		n = func() string { return use("COUNT(*)", 0) }
		if filtered {
			n = func() string { return use("COUNT("+when("1")+")", 1) }
		}
	}
	switch a.Def.Func {
	case reports.Count:
		return []string{n()}, args
	case reports.CountDistinct:
		return []string{use("COUNT(DISTINCT "+v+")", k)}, args
	case reports.Sum:
		// SQL's SUM is NULL over no values: it needs no count.
		return []string{use("SUM("+v+")", k)}, args
	case reports.Avg:
		return []string{use("SUM("+v+")", k), n()}, args
	case reports.Min:
		return []string{use("MIN("+v+")", k)}, args
	}
	return []string{use("MAX("+v+")", k)}, args
}

// aggsSQL returns the SQL columns of every aggregate of the plan and the
// arguments of their placeholders.
func aggsSQL(b *builder) ([]string, []any) {
	var cols []string
	var args []any
	for _, a := range b.plan.Aggs {
		c, ar := aggSQL(b, a)
		cols, args = append(cols, c...), append(args, ar...)
	}
	return cols, args
}

// mergeable reports whether every aggregate of the plan can be combined
// from the groups' results (all but count_distinct).
func mergeable(aggs []*reports.Agg) bool {
	for _, a := range aggs {
		if a.Def.Func == reports.CountDistinct && a.Def.Totals != reports.TotalsSum {
			return false
		}
	}
	return true
}

// scanState reads an aggregate's columns from a row at i; it returns the
// state and the next column.
func scanState(a *reports.Agg, row []any, i int) (state, int, error) {
	switch a.Def.Func {
	case reports.Count, reports.CountDistinct:
		n, err := toInt(row[i])
		return state{n: n}, i + 1, err
	case reports.Sum:
		s, err := toDecimal(a.Value.Field, row[i])
		return state{sum: s}, i + 1, err
	case reports.Avg:
		n, err := toInt(row[i+1])
		if err != nil {
			return state{}, 0, err
		}
		s, err := toDecimal(a.Value.Field, row[i])
		return state{n: n, sum: s}, i + 2, err
	}
	if row[i] == nil {
		return state{}, i + 1, nil
	}
	best, err := comparable(a.Value.Field, row[i])
	return state{n: 1, best: best}, i + 1, err
}

// merge adds o to s.
func (s *state) merge(a *reports.Agg, o state) {
	s.n += o.n
	if a.Def.Totals == reports.TotalsSum {
		// The rows' values add up (counts above, numbers here).
		if x, ok := o.best.(*big.Rat); ok {
			sum := new(big.Rat).Set(x)
			if y, ok := s.best.(*big.Rat); ok {
				sum.Add(sum, y)
			}
			s.best = sum
		}
		return
	}
	switch a.Def.Func {
	case reports.Sum, reports.Avg:
		s.sum = s.sum.plus(o.sum)
	case reports.Min, reports.Max:
		if o.best == nil {
			return
		}
		if s.best == nil || (compare(o.best, s.best) < 0) == (a.Def.Func == reports.Min) {
			s.best = o.best
		}
	}
}

// compare orders two min/max values of one kind.
func compare(a, b any) int {
	if x, ok := a.(*big.Rat); ok {
		return x.Cmp(b.(*big.Rat))
	}
	switch x, y := a.(string), b.(string); {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// result returns the aggregate's number (nil when it has none) and its
// JSON value: currency rounded to its scale, counts and integers whole.
func result(a *reports.Agg, s state) (*big.Rat, any) {
	var r *big.Rat
	switch a.Def.Func {
	case reports.Count, reports.CountDistinct:
		return new(big.Rat).SetInt64(s.n), s.n
	case reports.Sum:
		if !s.sum.isNumber() {
			return nil, nil
		}
		if out, ok := exactJSON(a, s); ok {
			return s.sum.Rat(), out
		}
		r = s.sum.Rat()
	case reports.Avg:
		if s.n == 0 || !s.sum.isNumber() {
			return nil, nil
		}
		r = new(big.Rat).Quo(s.sum.Rat(), new(big.Rat).SetInt64(s.n))
	default:
		if s.best == nil {
			return nil, nil
		}
		if str, ok := s.best.(string); ok {
			return nil, str
		}
		r = s.best.(*big.Rat)
	}
	return formatNumber(a.Type, a.Scale, r)
}

// resultJSON is the JSON value of result, without working out the number
// where the value does not need it.
func resultJSON(a *reports.Agg, s state) any {
	switch a.Def.Func {
	case reports.Count, reports.CountDistinct:
		return s.n
	case reports.Sum:
		if !s.sum.isNumber() {
			return nil
		}
		if out, ok := exactJSON(a, s); ok {
			return out
		}
	}
	_, out := result(a, s)
	return out
}

// exactJSON writes a sum kept in 64 bits that needs no rounding: minor
// units of the aggregate's currency, or a whole number of an integer.
func exactJSON(a *reports.Agg, s state) (any, bool) {
	if !s.sum.small {
		return nil, false
	}
	switch {
	case a.Type == "currency" && a.Scale == s.sum.scale:
		return json.Number(metadata.FormatMinorUnits(s.sum.units, s.sum.scale)), true
	case a.Type == "integer" && s.sum.scale == 0:
		return json.Number(strconv.FormatInt(s.sum.units, 10)), true
	}
	return nil, false
}

// colType is the type of a column's values.
type colType struct {
	Type  string
	Scale *int
}

func (t colType) scale() int {
	if t.Scale == nil {
		return 0
	}
	return *t.Scale
}

// aggType is the type of an aggregate's values, as its column shows it.
func aggType(a *reports.Agg) colType {
	if a.Type == "currency" {
		scale := a.Scale
		return colType{Type: a.Type, Scale: &scale}
	}
	return colType{Type: a.Type}
}

// formatNumber rounds r for a column type and returns the rounded number
// and its JSON value: currency and percent with their decimals (exact),
// integers whole, decimals as floating point.
func formatNumber(typ string, scale int, r *big.Rat) (*big.Rat, any) {
	if r == nil {
		return nil, nil
	}
	switch {
	case typ == "currency", typ == "percent", typ == "decimal" && scale > 0:
		if typ == "percent" {
			scale = 2
		}
		units := roundHalfAway(r, scale)
		out := new(big.Rat).SetFrac(units, pow10(scale))
		if !units.IsInt64() {
			return out, json.Number(out.FloatString(scale))
		}
		return out, json.Number(metadata.FormatMinorUnits(units.Int64(), scale))
	case typ == "integer":
		if r.IsInt() {
			return r, json.Number(r.Num().String())
		}
	}
	f, _ := r.Float64()
	return r, f
}

// roundHalfAway returns r × 10^scale rounded half away from zero.
func roundHalfAway(r *big.Rat, scale int) *big.Int {
	if q, ok := roundHalfAway64(r, scale); ok {
		return big.NewInt(q)
	}
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(scale)))
	q, m := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(x.Denom()) >= 0 {
		if x.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// roundHalfAway64 is roundHalfAway in 64-bit integers, for the usual
// report number (a sum of minor units over a power of ten); ok is false
// when r or the result does not fit, and the caller works in big.Int.
func roundHalfAway64(r *big.Rat, scale int) (int64, bool) {
	if scale >= len(pow10s) || !r.Num().IsInt64() || !r.Denom().IsUint64() {
		return 0, false
	}
	n, d := r.Num().Int64(), r.Denom().Uint64()
	abs := uint64(n)
	if n < 0 {
		abs = uint64(-n)
	}
	hi, lo := bits.Mul64(abs, pow10s[scale])
	if hi >= d {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, d)
	if q >= math.MaxInt64 {
		return 0, false
	}
	if rem >= d-rem {
		q++
	}
	if n < 0 {
		return -int64(q), true
	}
	return int64(q), true
}

// pow10s are the powers of ten that fit in a uint64.
var pow10s = func() []uint64 {
	p := []uint64{1}
	for p[len(p)-1] <= math.MaxUint64/10 {
		p = append(p, p[len(p)-1]*10)
	}
	return p
}()

// pow10 returns 10^scale.
func pow10(scale int) *big.Int {
	if scale < len(pow10s) {
		return new(big.Int).SetUint64(pow10s[scale])
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
}

// toInt reads a count.
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("reports: a count of type %T", v)
}

// toRat reads a number the database gave for a field's values (a SUM of
// minor units, a NUMERIC, a float) as its value: currency in major units.
func toRat(f *metadata.Field, v any) (*big.Rat, error) {
	var r *big.Rat
	money := metadata.TypeOf(f).Kind() == metadata.KindMoney
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if money {
			// The usual case (a SUM of minor units) in one step.
			if scale := f.ScaleOr(metadata.DefaultCurrencyScale); scale < len(pow10s) && pow10s[scale] <= math.MaxInt64 {
				return new(big.Rat).SetFrac64(x, int64(pow10s[scale])), nil
			}
		}
		r = new(big.Rat).SetInt64(x)
	case int32:
		r = new(big.Rat).SetInt64(int64(x))
	case float64:
		r = new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, fmt.Errorf("reports: %v is not a finite number", x)
		}
	case []byte:
		return toRat(f, string(x))
	case string:
		var ok bool
		if r, ok = new(big.Rat).SetString(x); !ok {
			return nil, fmt.Errorf("reports: %q is not a number", x)
		}
	case bool:
		r = new(big.Rat)
		if x {
			r.SetInt64(1)
		}
	default:
		return nil, fmt.Errorf("reports: a number of type %T", v)
	}
	if money {
		r.Quo(r, new(big.Rat).SetInt(pow10(f.ScaleOr(metadata.DefaultCurrencyScale))))
	}
	return r, nil
}

// toDecimal is toRat in 64 bits where it can be: an integer SUM of minor
// units (currency) or of whole numbers, whether the driver gives it as an
// integer or as text (PostgreSQL's SUM of a BIGINT column is a NUMERIC,
// which pgx hands over as text; parsing each group's sum into a big.Rat
// made most of a grouped report's own work there).
func toDecimal(f *metadata.Field, v any) (decimal, error) {
	x, ok := v.(int64)
	switch t := v.(type) {
	case string:
		x, ok = parseWhole(t)
	case []byte:
		x, ok = parseWhole(string(t))
	}
	if ok {
		switch k := metadata.TypeOf(f).Kind(); {
		case k == metadata.KindMoney:
			return decimal{units: x, scale: f.ScaleOr(metadata.DefaultCurrencyScale), small: true}, nil
		case k == metadata.KindInt:
			return decimal{units: x, small: true}, nil
		}
	}
	r, err := toRat(f, v)
	return ratDecimal(r), err
}

// parseWhole reads a whole number in decimal digits that fits an int64.
func parseWhole(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// comparable reads a min or max: a number, or a date as text.
func comparable(f *metadata.Field, v any) (any, error) {
	if metadata.TypeOf(f).Kind().Numeric() {
		return toRat(f, v)
	}
	out, err := metadata.TypeOf(f).Output(f, v)
	if err != nil {
		return nil, err
	}
	return fmt.Sprint(out), nil
}
