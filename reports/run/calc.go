package run

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// calculate computes the report's column calculations on the detail rows
// of a summary (in the dimensions' natural order, before any sort), each
// within its outer group ("previous" and "running" follow the innermost
// dimension), and adds their columns.
func calculate(b *builder, detail []*grp, total *grp, res *Result) {
	p := b.plan
	k := len(p.Groups)
	parent := func(g *grp) string {
		if k == 0 {
			return ""
		}
		return g.prefix(k - 1)
	}
	for _, c := range p.Report.Calculations {
		of := slices.IndexFunc(res.Columns, func(col Column) bool { return col.Name == c.Of })
		t := colType{Type: res.Columns[of].Type, Scale: res.Columns[of].Scale}
		switch c.Func {
		case reports.PercentOfTotal, reports.PercentChange, reports.Conversion:
			t = colType{Type: "percent", Scale: ptr(2)}
		case reports.Rate, reports.Return:
			t = colType{Type: "percent", Scale: ptr(2)}
		case reports.Ratio:
			t = colType{Type: "decimal", Scale: ptr(2)}
		case reports.Rank:
			t = colType{Type: "integer"}
		}
		res.Columns = append(res.Columns, Column{Name: c.Name, Label: calcLabel(b, c), Type: t.Type, Scale: t.Scale, Role: "calculation"})
		set := func(g *grp, r *big.Rat) {
			g.vals[c.Name], g.out[c.Name] = formatNumber(t.Type, t.scale(), r)
		}
		switch c.Func {
		case reports.PercentOfTotal:
			tot := total.vals[c.Of]
			if tot == nil {
				tot = new(big.Rat)
				for _, g := range detail {
					if v := g.vals[c.Of]; v != nil {
						tot.Add(tot, v)
					}
				}
			}
			for _, g := range detail {
				set(g, percent(g.vals[c.Of], tot))
			}
			set(total, percent(tot, tot))
		case reports.Ratio, reports.Rate, reports.Return:
			for _, g := range append(slices.Clone(detail), total) {
				set(g, divide(c, g))
			}
		case reports.Rank:
			for _, g := range detail {
				v := g.vals[c.Of]
				if v == nil {
					set(g, nil)
					continue
				}
				n := int64(1)
				for _, o := range detail {
					if ov := o.vals[c.Of]; ov != nil && ov.Cmp(v) > 0 {
						n++
					}
				}
				set(g, new(big.Rat).SetInt64(n))
			}
		default:
			groups := map[string][]*grp{}
			var order []string
			for _, g := range detail {
				pk := parent(g)
				if _, ok := groups[pk]; !ok {
					order = append(order, pk)
				}
				groups[pk] = append(groups[pk], g)
			}
			for _, pk := range order {
				series(b, c, groups[pk], set)
			}
		}
	}
}

// series computes a calculation along the rows of one outer group.
func series(b *builder, c reports.Calculation, gs []*grp, set func(*grp, *big.Rat)) {
	var inner *reports.Dim
	if n := len(b.plan.Groups); n > 0 {
		inner = b.plan.Groups[n-1]
	}
	switch c.Func {
	case reports.RunningTotal:
		sum := new(big.Rat)
		for _, g := range gs {
			if v := g.vals[c.Of]; v != nil {
				sum.Add(sum, v)
			}
			set(g, new(big.Rat).Set(sum))
		}
	case reports.RemainingTotal:
		sum := new(big.Rat)
		for i := len(gs) - 1; i >= 0; i-- {
			if v := gs[i].vals[c.Of]; v != nil {
				sum.Add(sum, v)
			}
			set(gs[i], new(big.Rat).Set(sum))
		}
	case reports.Conversion:
		for i, g := range gs {
			if i == 0 {
				set(g, nil)
				continue
			}
			set(g, percent(g.vals[c.Of], gs[i-1].vals[c.Of]))
		}
	case reports.Difference, reports.PercentChange:
		for i, g := range gs {
			prev, ok := previous(inner, gs, i, c.Of)
			v := g.vals[c.Of]
			switch {
			case !ok || v == nil:
				set(g, nil)
			case c.Func == reports.Difference:
				set(g, new(big.Rat).Sub(v, prev))
			default:
				set(g, percent(new(big.Rat).Sub(v, prev), prev))
			}
		}
	}
}

// previous returns the value of the previous period of row i: for a date
// bucket, the row of the bucket just before (0 when that period has no
// records); otherwise the previous row. The first row has none.
func previous(inner *reports.Dim, gs []*grp, i int, of string) (*big.Rat, bool) {
	if i == 0 {
		return nil, false
	}
	n := len(gs[i].keys)
	if inner != nil && inner.Bucket != "" {
		key, _ := gs[i].keys[n-1].(string)
		want := prevBucket(inner.Bucket, key)
		if gs[i-1].keys[n-1] == want {
			v := gs[i-1].vals[of]
			return v, v != nil
		}
		if want == "" {
			return nil, false
		}
		return new(big.Rat), true
	}
	v := gs[i-1].vals[of]
	return v, v != nil
}

// prevBucket returns the key of the bucket before key ("" when key is not
// a bucket key).
func prevBucket(b metadata.Bucket, key string) string {
	switch b {
	case metadata.BucketDay, metadata.BucketWeek:
		t, err := time.Parse(metadata.DateLayout, key)
		if err != nil {
			return ""
		}
		days := map[metadata.Bucket]int{metadata.BucketDay: 1, metadata.BucketWeek: 7}[b]
		return t.AddDate(0, 0, -days).Format(metadata.DateLayout)
	case metadata.BucketMonth:
		t, err := time.Parse("2006-01", key)
		if err != nil {
			return ""
		}
		return t.AddDate(0, -1, 0).Format("2006-01")
	case metadata.BucketQuarter:
		var y, q int
		if _, err := fmt.Sscanf(key, "%d-Q%d", &y, &q); err != nil {
			return ""
		}
		if q == 1 {
			return fmt.Sprintf("%04d-Q4", y-1)
		}
		return fmt.Sprintf("%04d-Q%d", y, q-1)
	case metadata.BucketYear:
		y, err := strconv.Atoi(key)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("%04d", y-1)
	}
	return ""
}

// subtotalCalcs computes the calculations of a subtotal row that do not
// run along rows: percent of total, ratio, rate and return.
func subtotalCalcs(p *reports.Plan, g, total *grp) {
	for _, c := range p.Report.Calculations {
		switch c.Func {
		case reports.PercentOfTotal:
			if total.vals[c.Of] != nil {
				g.vals[c.Name], g.out[c.Name] = formatNumber("percent", 2, percent(g.vals[c.Of], total.vals[c.Of]))
			}
		case reports.Ratio:
			g.vals[c.Name], g.out[c.Name] = formatNumber("decimal", 2, divide(c, g))
		case reports.Rate, reports.Return:
			g.vals[c.Name], g.out[c.Name] = formatNumber("percent", 2, divide(c, g))
		}
	}
}

// divide is a ratio's, rate's or return's value in a row: Of ÷ By (× 100
// for a rate); nil when either is missing or By is zero. A return is
// (Of − By) ÷ By × 100, a missing Of counting as 0 (a campaign that won
// nothing lost its cost: −100 %).
func divide(c reports.Calculation, g *grp) *big.Rat {
	a, b := g.vals[c.Of], g.vals[c.By]
	switch c.Func {
	case reports.Rate:
		return percent(a, b)
	case reports.Return:
		if a == nil {
			a = new(big.Rat)
		}
		if b == nil {
			return nil
		}
		return percent(new(big.Rat).Sub(a, b), b)
	}
	if a == nil || b == nil || b.Sign() == 0 {
		return nil
	}
	return new(big.Rat).Quo(a, b)
}

// percent is a / b × 100 (nil when either is missing or b is zero).
func percent(a, b *big.Rat) *big.Rat {
	if a == nil || b == nil || b.Sign() == 0 {
		return nil
	}
	r := new(big.Rat).Quo(a, b)
	return r.Mul(r, big.NewRat(100, 1))
}

// calcLabel is the label of a calculation.
func calcLabel(b *builder, c reports.Calculation) string {
	if l := c.Label.Get(b.lang); l != "" {
		return l
	}
	return c.Name
}

func ptr[T any](v T) *T { return &v }
