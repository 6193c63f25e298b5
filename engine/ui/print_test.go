package ui_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestPrintDocuments: a quote's page offers the standard template's quote
// document (not the contacts' label sheet), which prints as a PDF the
// browser shows and as a printable page in the user's language; another
// rep, who may not read the quote, gets neither the page nor the
// document, and an unknown template or format is not found.
func TestPrintDocuments(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Print Co"}`)
		q := s.Create("rep1", "quote", fmt.Sprintf(`{"name": "Printed quote", "account": %q}`, acc))
		base := "/ui/o/quote/" + q
		rep1 := signedIn(t, s, "rep1")
		st, body := rep1.get(base)
		if st != 200 || !strings.Contains(body, `href="`+base+`/print/quote.pdf"`) || !strings.Contains(body, `href="`+base+`/print/quote.html"`) || strings.Contains(body, "contact_labels") {
			t.Fatalf("the quote's page should offer its document: %d %s", st, body)
		}
		st, pdf, resp := rep1.do("GET", base+"/print/quote.pdf", nil)
		if st != 200 || !strings.HasPrefix(pdf, "%PDF-") || resp.Header.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") || resp.Header.Get("Content-Security-Policy") != "" {
			t.Fatalf("pdf: %d %v %.40q", st, resp.Header, pdf)
		}
		rep1.Header["Accept-Language"] = "zh-CN"
		st, html, resp := rep1.do("GET", base+"/print/quote.html", nil)
		if st != 200 || !strings.Contains(html, "报价单") || !strings.Contains(html, "Printed quote") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "style-src 'unsafe-inline'") {
			t.Fatalf("printable page: %d %v %s", st, resp.Header, html)
		}
		for _, path := range []string{base + "/print/contact_labels.pdf", base + "/print/quote.docx", base + "/print/nope.pdf"} {
			if st, _ := rep1.get(path); st != 404 {
				t.Errorf("%s: %d, want not found", path, st)
			}
		}
		rep2 := signedIn(t, s, "rep2")
		for _, path := range []string{base, base + "/print/quote.pdf", base + "/print/quote.html"} {
			if st, body := rep2.get(path); st != 404 || strings.Contains(body, "%PDF") || strings.Contains(body, "Printed quote") {
				t.Errorf("rep2 %s: %d", path, st)
			}
		}
	})
}

// labelLink finds the label sheet a list page offers.
var labelLink = regexp.MustCompile(`href="(/ui/o/contact/labels/contact_labels\.pdf\?[^"]*)"`)

// TestPrintLabels: the contacts' list offers the standard label sheet for
// the list as filtered; it prints only the matching contacts the user may
// read, so another rep following the same link gets an empty sheet.
func TestPrintLabels(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Label Co"}`)
		for _, name := range []string{"Alpha Li", "Beta Wu"} {
			s.Create("rep1", "contact", fmt.Sprintf(`{"name": %q, "account": %q}`, name, acc))
		}
		rep1 := signedIn(t, s, "rep1")
		st, page := rep1.get("/ui/o/contact?" + url.Values{"filter": {`name == "Alpha Li"`}}.Encode())
		m := labelLink.FindStringSubmatch(page)
		if st != 200 || m == nil {
			t.Fatalf("the list should offer its label sheet: %d %s", st, page)
		}
		sheet := strings.Replace(html.UnescapeString(m[1]), ".pdf?", ".html?", 1)
		if st, body := rep1.get(sheet); st != 200 || !strings.Contains(body, "Alpha Li") || !strings.Contains(body, "Label Co") || strings.Contains(body, "Beta Wu") {
			t.Fatalf("%s: %d %s", sheet, st, body)
		}
		if st, pdf := rep1.get(html.UnescapeString(m[1])); st != 200 || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("pdf: %d", st)
		}
		if st, body := signedIn(t, s, "rep2").get(sheet); st != 200 || strings.Contains(body, "Alpha Li") || strings.Contains(body, "Label Co") {
			t.Fatalf("rep2 must get an empty sheet: %d %s", st, body)
		}
	})
}

// TestAttachDocument: a contract's page keeps its printed PDF in the
// record's file field (the signed copy's), which then downloads as a PDF;
// a rep who does not reach the contract can neither print nor attach.
func TestAttachDocument(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Print Co"}`)
		ct := s.Create("rep1", "contract", `{"name": "Supply 2026", "account": "`+acc+`", "amount": "10000"}`)
		base := "/ui/o/contract/" + ct
		attach := base + "/print/contract/attach"
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		rep2.get("/ui/")
		run(t, rep2, []pageCase{
			{name: "rep2 may not attach", method: "POST", path: attach, form: url.Values{"field": {"attachment"}}, status: 404},
		})
		run(t, rep1, []pageCase{
			{name: "the print card offers to keep the PDF", path: base, status: 200,
				contains:   []string{`action="` + attach + `"`, `<option value="attachment">Signed copy</option>`},
				notContain: []string{base + "/files/attachment"}},
			{name: "not in a field that is no file", method: "POST", path: attach, form: url.Values{"field": {"name"}}, status: 404},
		})
		rep1.get(base)
		run(t, rep1, []pageCase{
			{name: "kept", method: "POST", path: attach, form: url.Values{"field": {"attachment"}}, status: 303},
			{name: "the record links it", path: base + "?flash=document_attached", status: 200, contains: []string{"The PDF is kept in the record.", base + "/files/attachment", "contract.pdf"}},
		})
		if st, pdf, _ := rep1.do("GET", base+"/files/attachment", nil); st != 200 || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("the kept PDF: %d %.20q", st, pdf)
		}
		if st, body := rep2.get(base + "/files/attachment"); st != 404 || strings.Contains(body, "%PDF") {
			t.Fatalf("rep2 reads the kept PDF: %d", st)
		}
	})
}
