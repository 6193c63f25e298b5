package serve_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// objects of these tests: a quote and its lines (added here, so the test
// does not depend on the standard template's sales objects).
const (
	offer = `{"name": "offer", "label": {"en": "Quote", "zh": "报价单"}, "title_field": "number", "fields": [
		{"name": "number", "type": "text", "label": {"en": "Number", "zh": "编号"}},
		{"name": "account", "type": "lookup", "target": "account", "label": {"en": "Account", "zh": "客户"}},
		{"name": "valid_until", "type": "date", "label": {"en": "Valid until", "zh": "有效期至"}},
		{"name": "sent_at", "type": "datetime", "label": {"en": "Sent at", "zh": "发出时间"}},
		{"name": "total", "type": "currency", "label": {"en": "Total", "zh": "总计"}},
		{"name": "terms", "type": "long_text", "label": {"en": "Terms", "zh": "条款"}},
		{"name": "pdf", "type": "file", "label": {"en": "PDF", "zh": "PDF 文件"}}]}`
	offerLine = `{"name": "offer_line", "label": {"en": "Quote line", "zh": "报价明细"}, "fields": [
		{"name": "offer", "type": "lookup", "target": "offer", "on_delete": "cascade", "label": {"en": "Quote", "zh": "报价单"}},
		{"name": "line_no", "type": "integer", "label": {"en": "No.", "zh": "序号"}},
		{"name": "product", "type": "text", "label": {"en": "Product", "zh": "产品"}},
		{"name": "quantity", "type": "integer", "label": {"en": "Quantity", "zh": "数量"}},
		{"name": "unit_price", "type": "currency", "label": {"en": "Unit price", "zh": "单价"}},
		{"name": "amount", "type": "currency", "label": {"en": "Amount", "zh": "金额"}}]}`
	quoteTemplate = `{"name": "offer_quote", "object": "offer", "label": {"en": "Quote", "zh": "报价单"},
		"header": {"zh": "杭州示例科技有限公司\n地址：杭州市西湖区文三路 1 号", "en": "Example Tech Ltd"},
		"title": {"zh": "报价单 {{number}}", "en": "Quote {{number}}"},
		"fields": [{"field": "account.name"}, {"field": "owner.name", "label": {"en": "Sales rep", "zh": "销售代表"}}, {"field": "valid_until"}, {"field": "number"}, {"field": "sent_at"}],
		"table": {"object": "offer_line", "field": "offer", "sort": "line_no", "columns": [
			{"field": "line_no", "width": 0.5}, {"field": "product", "width": 3}, {"field": "quantity"}, {"field": "unit_price"}, {"field": "amount"}]},
		"totals": [{"sum": "amount", "label": {"en": "Sum of lines", "zh": "明细合计"}}, {"field": "total"}],
		"text": {"zh": "{{terms}}"},
		"footer": {"zh": "报价单 {{number}}", "en": "Quote {{number}}"}}`
	labelsTemplate = `{"name": "address_labels", "object": "contact", "label": {"en": "Address labels", "zh": "地址标签"},
		"labels": {"columns": 3, "rows": 10, "lines": ["{{name}}", "{{account.name}}", "{{title}}"]}}`
)

// setup runs the server over db (a copy of apitest.Standard) with the
// objects, the templates, and a role that reads quotes but not their
// totals.
func setup(t *testing.T, db *store.DB) *apitest.Server {
	s := apitest.Seeded(t, db, apitest.Options{})
	s.Run(t, []apitest.Scenario{
		{Name: "quotes", Method: "POST", Path: "/api/meta/objects", User: "admin", Body: offer, Status: 201},
		{Name: "their lines", Method: "POST", Path: "/api/meta/objects", User: "admin", Body: offerLine, Status: 201},
		{Name: "the quote document", Method: "POST", Path: "/api/meta/document_templates", User: "admin", Body: quoteTemplate, Status: 201},
		{Name: "address labels", Method: "POST", Path: "/api/meta/document_templates", User: "admin", Body: labelsTemplate, Status: 201},
		{Name: "checked when defined: an unknown column", Method: "POST", Path: "/api/meta/document_templates", User: "admin",
			Body: `{"name": "bad", "object": "offer", "table": {"object": "offer_line", "field": "offer", "columns": [{"field": "colour"}]}}`, Status: 422, Contains: []string{"/table/columns/0/field", "colour"}},
		{Name: "checked when defined: a table not pointing here", Method: "POST", Path: "/api/meta/document_templates", User: "admin",
			Body: `{"name": "bad", "object": "offer", "table": {"object": "contact", "field": "account", "columns": [{"field": "name"}]}}`, Status: 422, Contains: []string{"/table/field"}},
		{Name: "checked when defined: a sum of text", Method: "POST", Path: "/api/meta/document_templates", User: "admin",
			Body: `{"name": "bad", "object": "offer", "table": {"object": "offer_line", "field": "offer", "columns": [{"field": "product"}]}, "totals": [{"sum": "product"}]}`, Status: 422, Contains: []string{"/totals/0/sum"}},
		{Name: "checked when defined: a placeholder", Method: "POST", Path: "/api/meta/document_templates", User: "admin",
			Body: `{"name": "bad", "object": "offer", "title": "{{account.colour}}"}`, Status: 422, Contains: []string{"/title/en", "colour"}},
		{Name: "a role reading quotes without totals", Method: "POST", Path: "/api/roles", User: "admin",
			Body: `{"name": "quoter", "permissions": [{"object": "offer", "actions": ["read", "update"], "records": "all", "fields": {"total": "hidden"}}, {"object": "offer_line", "actions": ["read"], "records": "all", "fields": {"unit_price": "hidden"}}, {"object": "account", "actions": ["read"], "records": "all"}]}`, Status: 201},
		{Name: "its user", Method: "POST", Path: "/api/users", User: "admin", Body: `{"username": "quoter", "password": "quoter-password-1", "roles": ["quoter"]}`, Status: 201},
	})
	s.Login("quoter", "quoter-password-1")
	return s
}

// TestQuotePDF: a quote with Chinese text and line items prints as a PDF
// whose text, read back, matches the record (amounts grouped, a datetime
// in the request's time zone); hidden fields print empty;
// a user who cannot read the quote gets 404; the printable HTML says the
// same, escaped; the PDF can be attached to the record's file field.
func TestQuotePDF(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s := setup(t, db)
		acc := s.Create("admin", "account", `{"name": "上海贸易 <Trading> & Co"}`)
		q := s.Create("admin", "offer", fmt.Sprintf(`{"number": "Q-2026-001", "account": %q, "valid_until": "2026-04-30", "sent_at": "2026-03-05T20:15:00Z", "total": 12990.5, "terms": "付款条件：合同签订后 30 日内付清。\n交货期：付款后 2 周。"}`, acc))
		lines := []struct {
			product     string
			qty         int
			price, amnt string
		}{{"企业版软件许可证（年度订阅）", 2, "4995.25", "9990.50"}, {"实施服务", 10, "300.00", "3000.00"}, {"培训 (on-site)", 1, "0.00", "0.00"}}
		for i, l := range lines {
			s.Create("admin", "offer_line", fmt.Sprintf(`{"offer": %q, "line_no": %d, "product": %q, "quantity": %d, "unit_price": %s, "amount": %s}`, q, len(lines)-i, l.product, l.qty, l.price, l.amnt))
		}
		pdfPath := "/api/records/offer/" + q + "/documents/offer_quote.pdf?lang=zh"
		status, pdf := s.Raw("GET", pdfPath, "admin", "", nil, map[string]string{"X-Timezone": "Asia/Shanghai"})
		if status != 200 || !strings.HasPrefix(string(pdf), "%PDF-") {
			t.Fatalf("pdf: %d %.200s", status, pdf)
		}
		text := joined(pdfText(t, pdf))
		for _, want := range []string{
			"杭州示例科技有限公司\n地址：杭州市西湖区文三路 1 号\n报价单 Q-2026-001\n",
			"客户: 上海贸易 <Trading> & Co\n", "销售代表: Administrator\n", "有效期至: 2026-04-30\n", "编号: Q-2026-001\n", "发出时间: 2026-03-06 04:15\n",
			"序号\n产品\n数量\n单价\n金额\n",
			"1\n培训 (on-site)\n1\n0.00\n0.00\n2\n实施服务\n10\n300.00\n3,000.00\n3\n企业版软件许可证（年度订阅）\n2\n4,995.25\n9,990.50\n",
			"明细合计: 12,990.50\n总计: 12,990.50\n",
			"付款条件：合同签订后 30 日内付清。\n交货期：付款后 2 周。\n",
			"报价单 Q-2026-001\n1 / 1\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF lacks %q; its text:\n%s", want, text)
			}
		}
		status, pdf = s.Raw("GET", "/api/records/offer/"+q+"/documents/offer_quote.pdf?lang=zh", "quoter", "", nil, nil)
		if status != 200 {
			t.Fatalf("quoter: %d", status)
		}
		text = joined(pdfText(t, pdf))
		if !strings.Contains(text, "总计: \n") || strings.Contains(text, "总计: 12,990") || strings.Contains(text, "4,995.25") || !strings.Contains(text, "明细合计: 12,990.50") {
			t.Errorf("hidden fields must print empty; the text:\n%s", text)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "a user who cannot read quotes", Method: "GET", Path: pdfPath, User: "rep1", Status: 403, NotContain: []string{"%PDF"}},
			{Name: "an unknown quote", Method: "GET", Path: "/api/records/offer/nope/documents/offer_quote.pdf", User: "admin", Status: 404},
			{Name: "an unknown template", Method: "GET", Path: "/api/records/offer/" + q + "/documents/invoice.pdf", User: "admin", Status: 404},
			{Name: "a template of another object", Method: "GET", Path: "/api/records/account/" + acc + "/documents/offer_quote.pdf", User: "admin", Status: 404},
			{Name: "signed in only", Method: "GET", Path: pdfPath, Status: 401},
			{Name: "printable HTML in English", Method: "GET", Path: "/api/records/offer/" + q + "/documents/offer_quote.html?lang=en", User: "admin", Header: map[string]string{"X-Timezone": "UTC"}, Status: 200,
				Contains:   []string{"<h1>Quote Q-2026-001</h1>", "Account: 上海贸易 &lt;Trading&gt; &amp; Co", `<td class="num">4,995.25</td>`, "Sum of lines: 12,990.50", "Sent at: 2026-03-05 20:15", "@page { size: 210.00mm 297.00mm"},
				NotContain: []string{"<Trading>"}},
			{Name: "attach to a file field", Method: "POST", Path: "/api/records/offer/" + q + "/documents/offer_quote/attach", User: "admin", Body: `{"field": "pdf"}`, Status: 200,
				Contains: []string{`"name":"offer_quote.pdf"`, `"content_type":"application/pdf"`}},
		})
	})
}

// TestAddressLabels: labels for 30 contacts fill one page's 3 × 10 grid,
// each label in its own cell; the 31st starts a second page; only the
// contacts the user may read are printed.
func TestAddressLabels(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s := setup(t, db)
		acc := s.Create("admin", "account", `{"name": "华东贸易"}`)
		for i := range 31 {
			s.Create("admin", "contact", fmt.Sprintf(`{"name": "联系人 %02d", "account": %q, "title": "采购经理"}`, i, acc))
		}
		status, pdf := s.Raw("GET", "/api/documents/address_labels.pdf?sort=name&filter="+apitest.Query("name < '联系人 30'"), "admin", "", nil, nil)
		if status != 200 {
			t.Fatalf("labels: %d %s", status, pdf)
		}
		runs := pdfText(t, pdf)
		cells := map[[2]int]bool{}
		for i := range 30 {
			name := fmt.Sprintf("联系人 %02d", i)
			var at *run
			for k := range runs {
				if runs[k].text == name {
					at = &runs[k]
				}
			}
			if at == nil {
				t.Fatalf("no label for %s in:\n%s", name, joined(runs))
			}
			// A4 is 595.28 × 841.89 points: columns of 198.43, rows of 84.19.
			col, row := int(at.x/(595.28/3)), int((841.89-at.y)/(841.89/10))
			if at.page != 1 || col != i%3 || row != i/3 {
				t.Errorf("%s at page %d (%.1f, %.1f): cell %d,%d, want %d,%d", name, at.page, at.x, at.y, col, row, i%3, i/3)
			}
			cells[[2]int{col, row}] = true
		}
		if len(cells) != 30 || strings.Count(joined(runs), "华东贸易\n采购经理\n") != 30 {
			t.Errorf("30 labels in 30 cells: %d cells; text:\n%s", len(cells), joined(runs))
		}
		status, pdf = s.Raw("GET", "/api/documents/address_labels.pdf", "admin", "", nil, nil)
		if runs := pdfText(t, pdf); status != 200 || runs[len(runs)-1].page != 2 {
			t.Fatalf("31 labels: %d, last on page %d", status, runs[len(runs)-1].page)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "labels of the records a user may read", Method: "GET", Path: "/api/documents/address_labels.html", User: "rep1", Status: 200, NotContain: []string{"联系人"}},
			{Name: "labels are for lists", Method: "GET", Path: "/api/records/contact/x/documents/address_labels.pdf", User: "admin", Status: 400},
			{Name: "a record document is not for lists", Method: "GET", Path: "/api/documents/offer_quote.pdf", User: "admin", Status: 400},
		})
	})
}
