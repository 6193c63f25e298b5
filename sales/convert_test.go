package sales_test

import (
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// convertTemplate is the standard template with a custom field mapped by
// the lead conversion (budget) and one that sales reps may not read on
// leads (secret), mapped as well.
func convertTemplate(t *testing.T) apitest.Options {
	custom := "  - {name: budget, type: currency, min: 0}\n  - {name: secret, type: text}\n"
	return apitest.Options{Template: overlay(t, map[string]func(string) string{
		"objects/lead.yaml":    appendText(custom),
		"objects/account.yaml": appendText(custom),
		"conversions/lead.yaml": replaceText(t, "      description: description\n    write_back: converted_account",
			"      description: description\n      budget: budget\n      secret: secret\n    write_back: converted_account"),
		"roles/sales_rep.yaml": replaceText(t, "fields: {converted_account: read_only", "fields: {secret: hidden, converted_account: read_only"),
	}, map[string]string{
		// A role that may convert leads and create contacts, but only read
		// accounts.
		"roles/lead_desk.yaml": "name: lead_desk\nlabel: {en: Lead desk, zh: 线索台}\npermissions:\n" +
			"  - {object: lead, actions: [read, update, convert], records: all}\n" +
			"  - {object: account, actions: [read], records: all}\n" +
			"  - {object: contact, actions: [read, create], records: all}\n",
	})}
}

// TestConvertLead converts leads through POST
// /api/records/lead/{id}/actions/convert: the standard and custom
// mappings, a field the user may not read, attaching an existing account,
// a duplicate account, a failing opportunity that rolls everything back,
// converting twice, users without the right, and one with the right but
// without the create right on accounts (who may attach an existing one).
func TestConvertLead(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, convertTemplate(t))
		lead := func(body string) string {
			id := s.Create("admin", "lead", body)
			if st, m := s.Do("POST", "/api/records/lead/"+id+"/actions/transfer", "admin", `{"owner_id": "`+s.UserID("rep1")+`"}`); st != 200 {
				t.Fatalf("transfer: %d %v", st, m)
			}
			return id
		}
		l1 := lead(`{"person": "Li Lei", "company": "Hangzhou Tea Co., Ltd.", "email": "li@tea.cn", "phone": "+86 571 1", "country": "cn", "province": "zj",
			"city": "Hangzhou", "address": "1 West Lake Rd", "source": "referral", "description": "Wants 500 kg", "budget": 1200.5, "secret": "top"}`)
		status, out := s.Do("POST", "/api/records/lead/"+l1+"/actions/convert", "rep1", `{"opportunity": {"create": true}}`)
		if status != 200 {
			t.Fatalf("convert: %d %v", status, out)
		}
		acc := get(t, s, "admin", "account", out["account_id"].(string))
		for k, want := range map[string]any{"name": "Hangzhou Tea Co., Ltd.", "phone": "+86 571 1", "province": "zj", "city": "Hangzhou", "source": "referral", "description": "Wants 500 kg"} {
			if acc[k] != want {
				t.Errorf("account.%s = %v, want %v", k, acc[k], want)
			}
		}
		if acc["budget"] == nil || acc["budget"].(interface{ String() string }).String() != "1200.50" {
			t.Errorf("custom mapping budget: %v", acc["budget"])
		}
		if acc["secret"] != nil {
			t.Errorf("a field the user may not read was copied: %v", acc["secret"])
		}
		con := get(t, s, "rep1", "contact", out["contact_id"].(string))
		if con["name"] != "Li Lei" || con["account"] != out["account_id"] || con["email"] != "li@tea.cn" || con["notes"] != "Wants 500 kg" {
			t.Errorf("contact %v", con)
		}
		opp := get(t, s, "rep1", "opportunity", out["opportunity_id"].(string))
		if opp["name"] != "Hangzhou Tea Co., Ltd. - Li Lei" || opp["account"] != out["account_id"] || opp["contact"] != out["contact_id"] {
			t.Errorf("opportunity %v", opp)
		}
		ld := get(t, s, "rep1", "lead", l1)
		if ld["status"] != "converted" || ld["converted_account"] != out["account_id"] || ld["converted_contact"] != out["contact_id"] || ld["converted_opportunity"] != out["opportunity_id"] {
			t.Errorf("lead after conversion %v", ld)
		}
		if acc[`owner_id`] != s.UserID("rep1") {
			t.Errorf("the account belongs to %v, not to the converting user", acc["owner_id"])
		}

		l2 := lead(`{"person": "Han Meimei", "company": "HANGZHOU TEA", "email": "han@tea.cn", "source": "referral"}`)
		l3 := lead(`{"person": "Wang Wu", "company": "Wang Works", "source": "referral"}`)
		l4 := lead(`{"person": "Zhao Liu", "company": "Zhao Trading Ltd", "source": "referral"}`)
		accounts := count(t, s, "account")
		s.Run(t, []apitest.Scenario{
			{Name: "converting twice", Method: "POST", Path: "/api/records/lead/" + l1 + "/actions/convert", User: "rep1", Status: 409, Code: "conflict"},
			{Name: "an account matches: the caller must choose", Method: "POST", Path: "/api/records/lead/" + l2 + "/actions/convert", User: "rep1",
				Status: 409, Code: "duplicate", Contains: []string{out["account_id"].(string), "Hangzhou Tea Co., Ltd."}},
			{Name: "a user without the convert right", Method: "POST", Path: "/api/records/lead/" + l3 + "/actions/convert", User: "mkt", Status: 403},
			{Name: "a user who cannot see the lead", Method: "POST", Path: "/api/records/lead/" + l3 + "/actions/convert", User: "rep2", Status: 404},
			{Name: "an unknown target", Method: "POST", Path: "/api/records/lead/" + l3 + "/actions/convert", User: "rep1", Body: `{"invoice": null}`, Status: 400},
			{Name: "an opportunity failing validation rolls everything back", Method: "POST", Path: "/api/records/lead/" + l3 + "/actions/convert", User: "rep1",
				Body: `{"opportunity": {"create": true, "amount": -5}}`, Status: 422, Code: "invalid_record", Contains: []string{`"field":"opportunity.amount"`}},
			{Name: "every target's errors together", Method: "POST", Path: "/api/records/lead/" + l4 + "/actions/convert", User: "rep1",
				Body: `{"account": {"create": true, "employees": -1}, "opportunity": {"create": true, "amount": -5}}`, Status: 422,
				Contains: []string{`"field":"account.employees"`, `"field":"opportunity.amount"`}, NotContain: []string{"contact.account"}},
		})
		if n := count(t, s, "account"); n != accounts {
			t.Errorf("accounts after the failed conversions: %d, want %d", n, accounts)
		}
		if ld := get(t, s, "rep1", "lead", l3); ld["status"] != "new" || ld["converted_account"] != nil {
			t.Errorf("the lead of a failed conversion changed: %v", ld)
		}
		// Attach to the existing account the duplicate rule found.
		status, out2 := s.Do("POST", "/api/records/lead/"+l2+"/actions/convert", "rep1", `{"account": {"id": "`+out["account_id"].(string)+`"}}`)
		if status != 200 || out2["account_id"] != out["account_id"] || out2["opportunity_id"] != nil || out2["contact_id"] == out["contact_id"] {
			t.Fatalf("attach: %d %v", status, out2)
		}
		if n := count(t, s, "account"); n != accounts {
			t.Errorf("attaching created an account: %d, want %d", n, accounts)
		}
		// A user who may convert but not create accounts: refused when the
		// account would be created, allowed when attaching one.
		if _, err := s.Platform.Access.UpdateUser(t.Context(), "agent", access.UserUpdate{Roles: &[]string{"lead_desk"}}); err != nil {
			t.Fatal(err)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "no create right on the account", Method: "POST", Path: "/api/records/lead/" + l4 + "/actions/convert", User: "agent", Body: `{"account": {"create": true}}`, Status: 403},
		})
		if ld := get(t, s, "admin", "lead", l4); ld["status"] != "new" || ld["converted_contact"] != nil || count(t, s, "account") != accounts {
			t.Errorf("a refused conversion changed something: %v", ld)
		}
		status, out4 := s.Do("POST", "/api/records/lead/"+l4+"/actions/convert", "agent", `{"account": {"id": "`+out["account_id"].(string)+`"}}`)
		if status != 200 || out4["account_id"] != out["account_id"] || out4["contact_id"] == nil {
			t.Fatalf("convert into an existing account without the create right on accounts: %d %v", status, out4)
		}
		// Or create it anyway: the account rule only warns.
		if status, out3 := s.Do("POST", "/api/records/lead/"+l3+"/actions/convert", "rep1", `{"account": {"create": true}}`); status != 200 || out3["account_id"] == nil {
			t.Fatalf("create anyway: %d %v", status, out3)
		}
	})
}
