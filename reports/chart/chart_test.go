package chart

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestSVG(t *testing.T) {
	cats := []string{"初步接触", "需求分析", "方案报价", "a very long category label that cannot fit"}
	series := []Series{{Name: "金额", Values: []float64{12000, 8000.5, 3000, 0}}, {Name: "加权", Values: []float64{1200, 2000, 1500, 0}}}
	for _, typ := range []string{Bar, StackedBar, Line, Pie, Funnel} {
		for _, w := range []int{390, 1280, 10, 99999} {
			c := Chart{Type: typ, Title: "销售漏斗 <&>", Categories: cats, Series: series, XLabel: "阶段", YLabel: "金额", Width: w}
			raw := SVG(c)
			d := xml.NewDecoder(bytes.NewReader(raw))
			var texts []string
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s/%d: not XML: %v\n%s", typ, w, err, raw)
				}
				if cd, ok := tok.(xml.CharData); ok {
					texts = append(texts, string(cd))
				}
			}
			all := strings.Join(texts, "|")
			for _, want := range []string{"销售漏斗 <&>", "初步接触"} {
				if !strings.Contains(all, want) {
					t.Errorf("%s/%d lacks %q", typ, w, want)
				}
			}
			wantW := min(max(w, MinWidth), MaxWidth)
			if !bytes.Contains(raw, []byte(`width="`+itoa(wantW)+`"`)) {
				t.Errorf("%s/%d: not %d wide", typ, w, wantW)
			}
		}
	}
}

func itoa(n int) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestTextWidthAndFit(t *testing.T) {
	if textWidth("中文", 10) != 20 || textWidth("ab", 10) >= 20 {
		t.Errorf("widths: %v %v", textWidth("中文", 10), textWidth("ab", 10))
	}
	if got := fit("销售管道按阶段和月份", 50, 10); !strings.HasSuffix(got, "…") || textWidth(got, 10) > 50 {
		t.Errorf("fit: %q", got)
	}
	for v, want := range map[float64]string{12000: "12k", 1500000: "1.5M", 12.5: "12.5", 2e9: "2B"} {
		if Number(v) != want {
			t.Errorf("Number(%v) = %s, want %s", v, Number(v), want)
		}
	}
	for v, want := range map[float64]float64{0: 1, 7: 10, 12: 20, 2400: 2500, 31000: 50000} {
		if niceMax(v) != want {
			t.Errorf("niceMax(%v) = %v, want %v", v, niceMax(v), want)
		}
	}
}
