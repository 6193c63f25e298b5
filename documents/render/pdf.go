package render

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/crmplatform/crm/documents"
	"github.com/signintech/gopdf"
)

// font is WenQuanYi Micro Hei, subset and gzipped (fonts/README.md).
//
//go:embed fonts/wqy-microhei-subset.ttf.gz
var fontGz []byte

// fontFamily names the embedded font in documents.
const fontFamily = "text"

var (
	fontOnce sync.Once
	fontData []byte
	fontErr  error
)

// Font returns the TrueType font documents are printed with: the file
// CRM_PDF_FONT names, else the embedded one, decompressed once.
func Font() ([]byte, error) {
	fontOnce.Do(func() {
		if path := os.Getenv("CRM_PDF_FONT"); path != "" {
			fontData, fontErr = os.ReadFile(path)
			if fontErr != nil {
				fontErr = fmt.Errorf("render: CRM_PDF_FONT: %w", fontErr)
			}
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(fontGz))
		if err != nil {
			fontErr = fmt.Errorf("render: embedded font: %w", err)
			return
		}
		fontData, fontErr = io.ReadAll(zr)
	})
	return fontData, fontErr
}

// Sizes of the text, in points, and the millimetres per point.
const (
	sizeTitle  = 16.0
	sizeText   = 10.0
	sizeSmall  = 8.0
	mmPerPoint = 25.4 / 72
	padding    = 1.5
)

// lineHeight is the height of a line of text of a size, in millimetres.
func lineHeight(size float64) float64 { return size * mmPerPoint * 1.35 }

// op draws something on the current page.
type op func(pdf *gopdf.GoPdf) error

// layout places a document on pages: it measures with the pdf's font
// and returns each page's drawing, so the footer can say "page N / M".
type layout struct {
	pdf         *gopdf.GoPdf
	page        documents.PageSpec
	pages       [][]op
	y           float64
	bottom      float64
	tableHeader func()
}

// newPage starts a page.
func (l *layout) newPage() {
	l.pages = append(l.pages, nil)
	l.y = l.page.Margin
	if l.tableHeader != nil {
		l.tableHeader()
	}
}

// room starts a new page when h millimetres do not fit on this one.
func (l *layout) room(h float64) {
	if len(l.pages) == 0 || l.y+h > l.bottom {
		l.newPage()
	}
}

// draw adds a drawing to the current page.
func (l *layout) draw(o op) { l.pages[len(l.pages)-1] = append(l.pages[len(l.pages)-1], o) }

// width is the printable width.
func (l *layout) width() float64 { return l.page.Width - 2*l.page.Margin }

// split breaks a text into lines that fit a width at a size (a line
// break in the text breaks too).
func (l *layout) split(s string, size, width float64) ([]string, error) {
	if err := l.pdf.SetFontSize(size); err != nil {
		return nil, err
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		lines, err := l.pdf.SplitTextWithWordWrap(para, width)
		if err != nil {
			return nil, fmt.Errorf("render: %q: %w", para, err)
		}
		out = append(out, lines...)
	}
	return out, nil
}

// text places a block of text at x with a width, size, colour (grey
// level) and alignment, and moves down.
func (l *layout) text(s string, x, width, size float64, grey uint8, align int) error {
	lines, err := l.split(s, size, width)
	if err != nil {
		return err
	}
	lh := lineHeight(size)
	for _, line := range lines {
		l.room(lh)
		y := l.y
		l.draw(cell(x, y, width, lh, line, size, grey, align))
		l.y += lh
	}
	return nil
}

// cell draws one line of text in a box.
func cell(x, y, w, h float64, s string, size float64, grey uint8, align int) op {
	return func(pdf *gopdf.GoPdf) error {
		if err := pdf.SetFontSize(size); err != nil {
			return err
		}
		pdf.SetTextColor(grey, grey, grey)
		pdf.SetXY(x, y)
		return pdf.CellWithOption(&gopdf.Rect{W: w, H: h}, s, gopdf.CellOption{Align: align | gopdf.Middle})
	}
}

// PDF prints a document as PDF.
func PDF(d *documents.Doc) ([]byte, error) {
	font, err := Font()
	if err != nil {
		return nil, err
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{Unit: gopdf.UnitMM, PageSize: gopdf.Rect{W: d.Page.Width, H: d.Page.Height}})
	if err := pdf.AddTTFFontData(fontFamily, font); err != nil {
		return nil, fmt.Errorf("render: font: %w", err)
	}
	if err := pdf.SetFont(fontFamily, "", sizeText); err != nil {
		return nil, fmt.Errorf("render: font: %w", err)
	}
	pdf.SetInfo(gopdf.PdfInfo{Title: d.Title, Creator: "crm"})
	l := &layout{pdf: pdf, page: d.Page, bottom: d.Page.Height - d.Page.Margin - 2*lineHeight(sizeSmall)}
	if d.Labels != nil {
		err = l.labels(d)
	} else {
		err = l.document(d)
	}
	if err != nil {
		return nil, err
	}
	if len(l.pages) == 0 {
		l.newPage()
	}
	for i, ops := range l.pages {
		pdf.AddPage()
		for _, o := range ops {
			if err := o(pdf); err != nil {
				return nil, fmt.Errorf("render: %w", err)
			}
		}
		if d.Labels == nil {
			if err := l.footer(d, i+1, len(l.pages)); err != nil {
				return nil, err
			}
		}
	}
	var b bytes.Buffer
	if _, err := pdf.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render: write: %w", err)
	}
	return b.Bytes(), nil
}

// footer draws a page's footer: the template's footer and the page
// number.
func (l *layout) footer(d *documents.Doc, n, of int) error {
	lh := lineHeight(sizeSmall)
	y := d.Page.Height - d.Page.Margin - lh
	page := fmt.Sprintf("%d / %d", n, of)
	if err := cell(d.Page.Margin, y, l.width()*0.75, lh, d.Footer, sizeSmall, 110, gopdf.Left)(l.pdf); err != nil {
		return err
	}
	return cell(d.Page.Margin+l.width()*0.75, y, l.width()*0.25, lh, page, sizeSmall, 110, gopdf.Right)(l.pdf)
}

// document lays out a record's document: header, title, fields, table,
// totals, text.
func (l *layout) document(d *documents.Doc) error {
	m, w := d.Page.Margin, l.width()
	l.newPage()
	for _, h := range d.Header {
		if err := l.text(h, m, w, sizeSmall, 90, gopdf.Left); err != nil {
			return err
		}
	}
	if d.Title != "" {
		l.y += 2
		if err := l.text(d.Title, m, w, sizeTitle, 0, gopdf.Center); err != nil {
			return err
		}
		l.y += 3
	}
	half := w / 2
	for i := 0; i < len(d.Fields); i += 2 {
		top, lowest := l.y, l.y
		for j := i; j < min(i+2, len(d.Fields)); j++ {
			l.y = top
			f := d.Fields[j]
			if err := l.text(f.Label+": "+f.Value, m+float64(j-i)*half, half-2, sizeText, 0, gopdf.Left); err != nil {
				return err
			}
			lowest = max(lowest, l.y)
		}
		l.y = lowest
	}
	if d.Table != nil {
		l.y += 4
		if err := l.table(d.Table); err != nil {
			return err
		}
	}
	if len(d.Totals) > 0 {
		l.y += 2
		for _, t := range d.Totals {
			if err := l.text(t.Label+": "+t.Value, m, w, sizeText, 0, gopdf.Right); err != nil {
				return err
			}
		}
	}
	if len(d.Text) > 0 {
		l.y += 4
		for _, p := range d.Text {
			if err := l.text(p, m, w, sizeText, 0, gopdf.Left); err != nil {
				return err
			}
		}
	}
	return nil
}

// table lays out a table; its header row repeats on every page it runs
// over.
func (l *layout) table(t *documents.TableData) error {
	m, w := l.page.Margin, l.width()
	if t.Label != "" {
		if err := l.text(t.Label, m, w, sizeText, 0, gopdf.Left); err != nil {
			return err
		}
	}
	total := 0.0
	for _, x := range t.Widths {
		total += x
	}
	xs, ws := make([]float64, len(t.Widths)), make([]float64, len(t.Widths))
	x := m
	for i, cw := range t.Widths {
		xs[i], ws[i] = x, w*cw/total
		x += ws[i]
	}
	// measure splits a row's cells into lines and returns its height and
	// what draws it at a given top.
	measure := func(cells []string, fill bool) (float64, func(y float64), error) {
		split := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			lines, err := l.split(c, sizeText, ws[i]-2*padding)
			if err != nil {
				return 0, nil, err
			}
			split[i], n = lines, max(n, len(lines))
		}
		lh := lineHeight(sizeText)
		h := float64(n)*lh + padding
		return h, func(y float64) {
			l.draw(func(pdf *gopdf.GoPdf) error {
				pdf.SetLineWidth(0.2)
				pdf.SetStrokeColor(160, 160, 160)
				if fill {
					pdf.SetFillColor(232, 232, 232)
					pdf.RectFromUpperLeftWithStyle(m, y, w, h, "F")
				}
				pdf.Line(m, y+h, m+w, y+h)
				return nil
			})
			for i, lines := range split {
				align := gopdf.Left
				if t.Right[i] {
					align = gopdf.Right
				}
				for k, line := range lines {
					l.draw(cell(xs[i]+padding, y+padding/2+float64(k)*lh, ws[i]-2*padding, lh, line, sizeText, 0, align))
				}
			}
		}, nil
	}
	headH, head, err := measure(t.Columns, true)
	if err != nil {
		return err
	}
	header := func() {
		head(l.y)
		l.y += headH
	}
	l.room(headH + lineHeight(sizeText))
	header()
	l.tableHeader = header
	defer func() { l.tableHeader = nil }()
	for _, r := range t.Rows {
		h, draw, err := measure(r, false)
		if err != nil {
			return err
		}
		l.room(h)
		draw(l.y)
		l.y += h
	}
	return nil
}

// labels lays out a label sheet: Columns × Rows labels per page, each a
// few lines, left to right and top to bottom.
func (l *layout) labels(d *documents.Doc) error {
	m := d.Page.Margin
	lw := (d.Page.Width - 2*m) / float64(d.Columns)
	lh := (d.Page.Height - 2*m) / float64(d.Rows)
	per := d.Columns * d.Rows
	inset := 4.0
	for i, lines := range d.Labels {
		if i%per == 0 {
			l.newPage()
		}
		k := i % per
		x := m + float64(k%d.Columns)*lw + inset
		y := m + float64(k/d.Columns)*lh + inset
		lineH := lineHeight(sizeText)
		for n, line := range lines {
			if y+float64(n+1)*lineH > m+float64(k/d.Columns+1)*lh {
				break // what does not fit the label is left out
			}
			fit, err := l.split(line, sizeText, lw-2*inset)
			if err != nil {
				return err
			}
			l.draw(cell(x, y+float64(n)*lineH, lw-2*inset, lineH, fit[0], sizeText, 0, gopdf.Left))
		}
	}
	return nil
}
