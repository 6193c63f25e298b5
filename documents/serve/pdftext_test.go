package serve_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// run is a piece of text a PDF draws: its page, position (points from the
// lower left) and text.
type run struct {
	page int
	x, y float64
	text string
}

var (
	streamStart = regexp.MustCompile(`stream\r?\n`)
	lengthKey   = regexp.MustCompile(`/Length (\d+)`)
	bfrange     = regexp.MustCompile(`<([0-9A-F]+)><([0-9A-F]+)><([0-9A-F]+)>`)
	textOp      = regexp.MustCompile(`(?s)BT\n([\d.]+) ([\d.]+) TD.*?\[<([0-9A-F]*)>\] TJ\nET`)
)

// pdfText reads back the text of a PDF as the library writes it: every
// stream (inflated when compressed), the ToUnicode map of the font's
// glyph ids, and the text each page's content draws. It reads what any
// PDF reader would, from the bytes the server sent.
func pdfText(t *testing.T, pdf []byte) []run {
	t.Helper()
	var streams [][]byte
	for _, loc := range streamStart.FindAllIndex(pdf, -1) {
		if bytes.HasSuffix(pdf[:loc[0]], []byte("end")) {
			continue // "endstream"
		}
		dict := pdf[max(0, loc[0]-200):loc[0]]
		dict = dict[bytes.LastIndex(dict, []byte("obj"))+3:]
		m := lengthKey.FindSubmatch(dict)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(string(m[1]))
		body := pdf[loc[1] : loc[1]+n]
		if bytes.Contains(dict, []byte("FlateDecode")) {
			zr, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("stream after %q: %v", dict, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("stream: %v", err)
			}
		}
		streams = append(streams, body)
	}
	glyphs := map[uint64]rune{}
	for _, s := range streams {
		if !bytes.Contains(s, []byte("beginbfrange")) {
			continue
		}
		for _, m := range bfrange.FindAllSubmatch(s, -1) {
			lo, _ := strconv.ParseUint(string(m[1]), 16, 32)
			hi, _ := strconv.ParseUint(string(m[2]), 16, 32)
			u, _ := strconv.ParseUint(string(m[3]), 16, 32)
			for g := lo; g <= hi; g++ {
				glyphs[g] = rune(u + g - lo)
			}
		}
	}
	var out []run
	page := 0
	for _, s := range streams {
		if !bytes.Contains(s, []byte("BT\n")) {
			continue
		}
		page++
		for _, m := range textOp.FindAllSubmatch(s, -1) {
			x, _ := strconv.ParseFloat(string(m[1]), 64)
			y, _ := strconv.ParseFloat(string(m[2]), 64)
			var units []uint16
			for i := 0; i+4 <= len(m[3]); i += 4 {
				g, _ := strconv.ParseUint(string(m[3][i:i+4]), 16, 32)
				r, ok := glyphs[g]
				if !ok {
					t.Fatalf("glyph %04X has no character in the ToUnicode map", g)
				}
				units = append(units, uint16(r))
			}
			out = append(out, run{page: page, x: x, y: y, text: string(utf16.Decode(units))})
		}
	}
	return out
}

// joined returns the text of the runs, one per line.
func joined(runs []run) string {
	var b strings.Builder
	for _, r := range runs {
		b.WriteString(r.text)
		b.WriteByte('\n')
	}
	return b.String()
}
