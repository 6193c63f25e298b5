package serve_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestStandardDocuments prints the standard template's quote, contract
// and dunning letter for records of its own objects: each is a PDF whose
// text names the record; the dunning letter lists the overdue instalment
// and not the one due later; a rep who cannot read the contract gets
// nothing.
func TestStandardDocuments(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("admin", "account", `{"name": "华东机械 Ltd"}`)
		prod := s.Create("admin", "product", `{"name": "数控车床 CK6140"}`)
		q := s.Create("admin", "quote", fmt.Sprintf(`{"name": "Lathes for 2027", "account": %q}`, acc))
		s.Create("admin", "quote_line", fmt.Sprintf(`{"quote": %q, "product": %q, "quantity": 2, "unit_price": 100}`, q, prod))
		c := s.Create("admin", "contract", fmt.Sprintf(`{"name": "Supply of lathes", "account": %q, "amount": 1000}`, acc))
		s.Create("admin", "payment_plan", fmt.Sprintf(`{"name": "First instalment", "contract": %q, "due_date": "2020-01-01", "amount": 400}`, c))
		s.Create("admin", "payment_plan", fmt.Sprintf(`{"name": "Final instalment", "contract": %q, "due_date": "2099-01-01", "amount": 600}`, c))
		for _, d := range []struct {
			path       string
			want, lack []string
		}{
			{"/api/records/quote/" + q + "/documents/quote.pdf?lang=zh", []string{"华东机械 Ltd", "数控车床 CK6140"}, nil},
			{"/api/records/contract/" + c + "/documents/contract.pdf?lang=en", []string{"Supply of lathes", "华东机械 Ltd"}, nil},
			{"/api/records/contract/" + c + "/documents/dunning_letter.pdf?lang=en", []string{"To: 华东机械 Ltd", "First instalment"}, []string{"Final instalment"}},
		} {
			status, pdf := s.Raw("GET", d.path, "admin", "", nil, nil)
			if status != 200 || !strings.HasPrefix(string(pdf), "%PDF-") {
				t.Fatalf("%s: %d %.200s", d.path, status, pdf)
			}
			text := joined(pdfText(t, pdf))
			for _, w := range d.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q; its text:\n%s", d.path, w, text)
				}
			}
			for _, l := range d.lack {
				if strings.Contains(text, l) {
					t.Errorf("%s has %q; its text:\n%s", d.path, l, text)
				}
			}
		}
		s.Run(t, []apitest.Scenario{
			{Name: "a rep who cannot read the contract", Method: "GET", Path: "/api/records/contract/" + c + "/documents/dunning_letter.pdf", User: "rep2",
				NotContain: []string{"%PDF"}, Status: 404},
		})
	})
}
