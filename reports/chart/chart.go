// Package chart draws report charts as SVG, by hand: bar, stacked bar,
// line, pie and funnel charts with labelled axes and a legend, in a
// viewBox that scales to any width (readable from 390 px phones to
// 1280 px screens). Text is left as text for the viewer to render with
// its fonts (the font list asks for a CJK font first), so Chinese labels
// need no embedded font; label widths are estimated per character (CJK
// characters are one em wide). It knows nothing of reports, databases or
// HTTP.
package chart

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Types of chart.
const (
	Bar        = "bar"
	StackedBar = "stacked_bar"
	Line       = "line"
	Pie        = "pie"
	Funnel     = "funnel"
)

// Series is one named list of values, one per category.
type Series struct {
	Name   string
	Values []float64
}

// Chart is what to draw.
type Chart struct {
	Type       string
	Title      string
	Categories []string
	Series     []Series
	// XLabel and YLabel name the axes of bar and line charts.
	XLabel, YLabel string
	// Width in pixels (the height follows); DefaultWidth when 0.
	Width int
}

// Size limits.
const (
	DefaultWidth = 800
	MinWidth     = 320
	MaxWidth     = 2400
)

// palette colours series and slices (colour-blind safe, Okabe–Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

const fontFamily = `"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","Helvetica Neue",Arial,sans-serif`

// canvas accumulates SVG.
type canvas struct {
	b        bytes.Buffer
	w, h     float64
	fontSize float64
}

// SVG draws the chart.
func SVG(c Chart) []byte {
	w := c.Width
	if w == 0 {
		w = DefaultWidth
	}
	w = min(max(w, MinWidth), MaxWidth)
	h := math.Round(float64(w) * 0.62)
	if w < 600 {
		h = math.Round(float64(w) * 0.95)
	}
	cv := &canvas{w: float64(w), h: h, fontSize: math.Max(11, math.Min(15, float64(w)/60))}
	fmt.Fprintf(&cv.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" role="img" font-family='%s' font-size="%.1f">`,
		w, h, w, h, fontFamily, cv.fontSize)
	fmt.Fprintf(&cv.b, `<title>%s</title><rect width="100%%" height="100%%" fill="#ffffff"/>`, esc(c.Title))
	top := 10.0
	if c.Title != "" {
		top = cv.fontSize*2 + 4
		cv.text(cv.w/2, cv.fontSize*1.4, c.Title, "middle", 1.15, "bold", 0)
	}
	legend := cv.legend(c, top)
	switch c.Type {
	case Pie:
		cv.pie(c, top, legend)
	case Funnel:
		cv.funnel(c, top)
	default:
		cv.axes(c, top, legend)
	}
	cv.b.WriteString(`</svg>`)
	return cv.b.Bytes()
}

// esc escapes text for XML.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// textWidth estimates the width of s in pixels at size.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r >= 0xFF00 && r <= 0xFFEF || r >= 0x3000 && r <= 0x303F:
			w += 1.0
		case unicode.IsUpper(r) || r == 'm' || r == 'w':
			w += 0.72
		default:
			w += 0.56
		}
	}
	return w * size
}

// fit shortens s with an ellipsis to at most width pixels.
func fit(s string, width, size float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && textWidth(string(r)+"…", size) > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// text writes a text element; scale multiplies the font size.
func (cv *canvas) text(x, y float64, s, anchor string, scale float64, weight string, rotate float64) {
	fmt.Fprintf(&cv.b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#333333"`, x, y, anchor)
	if scale != 1 {
		fmt.Fprintf(&cv.b, ` font-size="%.1f"`, cv.fontSize*scale)
	}
	if weight != "" {
		fmt.Fprintf(&cv.b, ` font-weight="%s"`, weight)
	}
	if rotate != 0 {
		fmt.Fprintf(&cv.b, ` transform="rotate(%.0f %.1f %.1f)"`, rotate, x, y)
	}
	fmt.Fprintf(&cv.b, `>%s</text>`, esc(s))
}

// legend draws the legend of several series (or of pie slices) at the
// bottom and returns its height.
func (cv *canvas) legend(c Chart, top float64) float64 {
	names := make([]string, 0, len(c.Series))
	for _, s := range c.Series {
		names = append(names, s.Name)
	}
	if c.Type == Pie {
		names = c.Categories
	}
	if len(names) < 2 && c.Type != Pie || c.Type == Funnel {
		return 0
	}
	size := cv.fontSize * 0.9
	line := size * 1.6
	x, y := 10.0, 0.0
	var items [][3]float64
	for _, n := range names {
		wd := textWidth(fit(n, cv.w/2, size), size) + size*2
		if x+wd > cv.w-10 && x > 10 {
			x, y = 10, y+line
		}
		items = append(items, [3]float64{x, y, wd})
		x += wd + size
	}
	height := y + line + 6
	base := cv.h - height
	for i, n := range names {
		it := items[i]
		fmt.Fprintf(&cv.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, it[0], base+it[1]+size*0.2, size, size, palette[i%len(palette)])
		fmt.Fprintf(&cv.b, `<text x="%.1f" y="%.1f" font-size="%.1f" fill="#333333">%s</text>`, it[0]+size*1.4, base+it[1]+size*1.05, size, esc(fit(n, cv.w/2, size)))
	}
	return height
}

// niceMax rounds a maximum up to 1, 2, 2.5 or 5 × a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// Number writes a value compactly: 1.2M, 35k, 12.5.
func Number(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "B"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e4:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// axes draws bar, stacked bar and line charts.
func (cv *canvas) axes(c Chart, top, legend float64) {
	stacked := c.Type == StackedBar
	lo, hi := 0.0, 0.0
	for i := range c.Categories {
		pos, neg := 0.0, 0.0
		for _, s := range c.Series {
			v := at(s.Values, i)
			if stacked {
				if v > 0 {
					pos += v
				} else {
					neg += v
				}
			} else {
				pos, neg = math.Max(pos, v), math.Min(neg, v)
			}
		}
		hi, lo = math.Max(hi, pos), math.Min(lo, neg)
	}
	hi = niceMax(hi)
	if lo < 0 {
		lo = -niceMax(-lo)
	}
	fs := cv.fontSize
	left := math.Max(textWidth(Number(hi), fs), textWidth(Number(lo), fs)) + fs*1.6
	if c.YLabel != "" {
		left += fs * 1.4
	}
	n := len(c.Categories)
	plotW := cv.w - left - 16
	slot := plotW / math.Max(1, float64(n))
	rotate := false
	for _, cat := range c.Categories {
		if textWidth(cat, fs) > slot*0.95 {
			rotate = true
		}
	}
	bottom := fs * 2.2
	maxLabel := slot * 0.95
	if rotate {
		maxLabel = math.Min(cv.h*0.25, fs*10)
		bottom = maxLabel*0.72 + fs*1.6
	}
	if c.XLabel != "" {
		bottom += fs * 1.5
	}
	plotTop, plotBottom := top+fs, cv.h-legend-bottom
	y := func(v float64) float64 { return plotBottom - (v-lo)/(hi-lo)*(plotBottom-plotTop) }
	for i := 0; i <= 5; i++ {
		v := lo + (hi-lo)*float64(i)/5
		fmt.Fprintf(&cv.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e0e0e0"/>`, left, y(v), left+plotW, y(v))
		cv.text(left-fs*0.4, y(v)+fs*0.35, Number(v), "end", 1, "", 0)
	}
	fmt.Fprintf(&cv.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, left, y(0), left+plotW, y(0))
	fmt.Fprintf(&cv.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, left, plotTop, left, plotBottom)
	if c.YLabel != "" {
		cv.text(fs, (plotTop+plotBottom)/2, c.YLabel, "middle", 1, "", -90)
	}
	if c.XLabel != "" {
		cv.text(left+plotW/2, cv.h-legend-fs*0.5, c.XLabel, "middle", 1, "", 0)
	}
	for i, cat := range c.Categories {
		cx := left + slot*(float64(i)+0.5)
		label := fit(cat, maxLabel, fs)
		if rotate {
			cv.text(cx, plotBottom+fs*1.1, label, "end", 1, "", -40)
		} else {
			cv.text(cx, plotBottom+fs*1.3, label, "middle", 1, "", 0)
		}
	}
	switch c.Type {
	case Line:
		for si, s := range c.Series {
			var pts []string
			for i := range c.Categories {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", left+slot*(float64(i)+0.5), y(at(s.Values, i))))
			}
			color := palette[si%len(palette)]
			fmt.Fprintf(&cv.b, `<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"><title>%s</title></polyline>`, color, strings.Join(pts, " "), esc(s.Name))
			for i, p := range pts {
				xy := strings.Split(p, ",")
				fmt.Fprintf(&cv.b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"><title>%s</title></circle>`, xy[0], xy[1], color, esc(c.Categories[i]+": "+Number(at(s.Values, i))))
			}
		}
	default:
		groups := float64(len(c.Series))
		if stacked {
			groups = 1
		}
		bw := slot * 0.72 / math.Max(1, groups)
		for i, cat := range c.Categories {
			x0 := left + slot*float64(i) + slot*0.14
			pos, neg := 0.0, 0.0
			for si, s := range c.Series {
				v := at(s.Values, i)
				from := 0.0
				x := x0 + bw*float64(si)
				if stacked {
					x = x0
					if v >= 0 {
						from, pos = pos, pos+v
					} else {
						from, neg = neg, neg+v
					}
				}
				y1, y2 := y(from), y(from+v)
				fmt.Fprintf(&cv.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
					x, math.Min(y1, y2), math.Max(bw-1, 1), math.Abs(y2-y1), palette[si%len(palette)], esc(cat+" · "+s.Name+": "+Number(v)))
			}
		}
	}
}

// at returns values[i], 0 past the end.
func at(values []float64, i int) float64 {
	if i < len(values) {
		return values[i]
	}
	return 0
}

// pie draws a pie of the first series.
func (cv *canvas) pie(c Chart, top, legend float64) {
	if len(c.Series) == 0 {
		return
	}
	vals := c.Series[0].Values
	total := 0.0
	for _, v := range vals {
		total += math.Max(v, 0)
	}
	r := math.Min(cv.w, cv.h-top-legend) / 2 * 0.8
	cx, cy := cv.w/2, top+(cv.h-top-legend)/2
	if total <= 0 {
		fmt.Fprintf(&cv.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#eeeeee"/>`, cx, cy, r)
		return
	}
	a := -math.Pi / 2
	for i, v := range vals {
		if v <= 0 {
			continue
		}
		share := v / total
		b := a + share*2*math.Pi
		large := 0
		if share > 0.5 {
			large = 1
		}
		label := esc(at2(c.Categories, i) + ": " + Number(v) + " (" + trim(share*100) + "%)")
		if share >= 0.9999 {
			fmt.Fprintf(&cv.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`, cx, cy, r, palette[i%len(palette)], label)
		} else {
			fmt.Fprintf(&cv.b, `<path d="M%.1f,%.1f L%.1f,%.1f A%.1f,%.1f 0 %d 1 %.1f,%.1f Z" fill="%s" stroke="#ffffff"><title>%s</title></path>`,
				cx, cy, cx+r*math.Cos(a), cy+r*math.Sin(a), r, r, large, cx+r*math.Cos(b), cy+r*math.Sin(b), palette[i%len(palette)], label)
		}
		if share >= 0.04 {
			m := (a + b) / 2
			cv.text(cx+r*0.65*math.Cos(m), cy+r*0.65*math.Sin(m)+cv.fontSize*0.35, trim(share*100)+"%", "middle", 0.9, "bold", 0)
		}
		a = b
	}
}

// at2 returns s[i], "" past the end.
func at2(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// funnel draws centred bars narrowing with the first series, each with
// its label, value and share of the first stage.
func (cv *canvas) funnel(c Chart, top float64) {
	if len(c.Series) == 0 || len(c.Categories) == 0 {
		return
	}
	vals := c.Series[0].Values
	mx := 0.0
	for _, v := range vals {
		mx = math.Max(mx, v)
	}
	if mx <= 0 {
		mx = 1
	}
	fs := cv.fontSize
	n := float64(len(c.Categories))
	step := (cv.h - top - 10) / n
	bh := step * 0.8
	for i, cat := range c.Categories {
		v := at(vals, i)
		w := math.Max((cv.w-20)*v/mx, 2)
		y := top + step*float64(i)
		fmt.Fprintf(&cv.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
			(cv.w-w)/2, y, w, bh, palette[i%len(palette)], esc(cat+": "+Number(v)))
		label := cat + "  " + Number(v)
		if i > 0 && at(vals, 0) > 0 {
			label += " (" + trim(v/at(vals, 0)*100) + "%)"
		}
		size := math.Min(1, bh*0.7/fs)
		fmt.Fprintf(&cv.b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="%.1f" fill="#111111" stroke="#ffffff" stroke-width="3" paint-order="stroke">%s</text>`,
			cv.w/2, y+bh/2+fs*size*0.35, fs*size, esc(fit(label, cv.w-20, fs*size)))
	}
}
