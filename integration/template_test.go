package integration

import (
	"encoding/json"
	"testing"

	"github.com/crmplatform/crm/engine"
)

// TestURLTemplates: templates keep their scheme and host literal, fill
// placeholders URL-encoded (every character but the unreserved ones), and
// render values of every JSON form a field gives.
func TestURLTemplates(t *testing.T) {
	rec := engine.Record{"name": "Acme & Sons/李 ?#", "amount": json.Number("12.50"), "tags": []string{"a b", "c"}, "vip": true, "empty": nil,
		"logo": map[string]any{"id": "f1"}}
	cases := []struct {
		tmpl   string
		want   string
		parsed bool
		filled bool
	}{
		{"https://erp.example.com/c/{{name}}", "https://erp.example.com/c/Acme%20%26%20Sons%2F%E6%9D%8E%20%3F%23", true, true},
		{"https://erp.example.com/?a={{amount}}&t={{ tags }}&v={{vip}}&e={{empty}}", "https://erp.example.com/?a=12.50&t=a%20b%2Cc&v=true&e=", true, true},
		{"http://erp.example.com/static", "http://erp.example.com/static", true, true},
		{"https://erp.example.com/f/{{logo}}", "", true, false},
		{"https://erp.example.com#{{name}}", "https://erp.example.com#Acme%20%26%20Sons%2F%E6%9D%8E%20%3F%23", true, true},
		{"https://{{name}}.example.com/", "", false, false},
		{"https://erp.example.com{{name}}", "", false, false},
		{"{{name}}", "", false, false},
		{"javascript:alert(1)", "", false, false},
		{"mailto:{{name}}", "", false, false},
		{"https://erp.example.com/{{name}", "", false, false},
		{"https://erp.example.com/{{Name}}", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.tmpl, func(t *testing.T) {
			tm, err := parseTemplate(c.tmpl)
			if (err == nil) != c.parsed {
				t.Fatalf("parseTemplate = %v, want parsed %v", err, c.parsed)
			}
			if err != nil {
				return
			}
			got, ok := tm.fill(rec)
			if ok != c.filled || got != c.want {
				t.Fatalf("fill = %q %v, want %q %v", got, ok, c.want, c.filled)
			}
		})
	}
}
