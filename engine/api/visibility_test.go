package api

import (
	"fmt"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestComputedFieldsFollowTheirInputs checks issue 7 (2): a computed field
// is readable only by a user who may read every field it reads, a roll-up
// only by one who may read every child record and the aggregated field,
// unless the field is declared visibility: all; on every path.
func TestComputedFieldsFollowTheirInputs(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, fd := range []string{
			`{"name": "top_deal", "type": "currency", "formula": "max(opportunities, amount)"}`,
			`{"name": "headroom", "type": "currency", "formula": "credit_limit - top_deal"}`,
			`{"name": "limit_twice", "type": "currency", "formula": "credit_limit * 2"}`,
			`{"name": "deals_total", "type": "currency", "formula": "sum(opportunities, amount)", "visibility": "all"}`,
		} {
			if status, m := f.do("POST", "/api/meta/objects/account/fields", "admin", fd); status != 201 {
				t.Fatalf("add %s: %d %v", fd, status, m)
			}
		}
		f.addUser(t, "mkt", "marketing")
		rep1, rep2 := f.userID("rep1"), f.userID("rep2")
		acc := f.create("admin", "account", fmt.Sprintf(`{"name": "Acme", "credit_limit": 90000, "owner_id": %q}`, rep1))
		f.create("admin", "opportunity", fmt.Sprintf(`{"name": "Big", "account": %q, "amount": 70000, "owner_id": %q}`, acc, rep2))
		f.create("admin", "opportunity", fmt.Sprintf(`{"name": "Small", "account": %q, "amount": 1000, "owner_id": %q}`, acc, rep1))
		rec := "/api/records/account/" + acc
		f.run(t, []scenario{
			{name: "admin reads every computed value", method: "GET", path: rec, user: "admin", status: 200,
				contains: []string{`"top_deal":70000.00`, `"headroom":20000.00`, `"limit_twice":180000.00`, `"deals_total":71000.00`}},
			// rep1 reads credit_limit but only their own opportunities: the
			// maximum over rep2's deal and what is built on it are hidden.
			{name: "rep reads what is built from readable fields", method: "GET", path: rec, user: "rep1", status: 200,
				contains: []string{`"limit_twice":180000.00`, `"deals_total":71000.00`}, notContain: []string{"top_deal", "headroom", "70000"}},
			// marketing may not read credit_limit nor opportunities.
			{name: "marketing sees neither", method: "GET", path: rec, user: "mkt", status: 200,
				contains: []string{`"deals_total"`}, notContain: []string{"top_deal", "headroom", "limit_twice", "credit_limit"}},
			{name: "a hidden computed field cannot be filtered", method: "GET", path: "/api/records/account?filter=" + urlq("headroom > 40000"), user: "mkt", status: 400, code: "bad_query", contains: []string{"headroom"}},
			{name: "nor sorted", method: "GET", path: "/api/records/account?sort=-top_deal", user: "rep1", status: 400, code: "bad_query"},
			{name: "nor reached through a lookup", method: "GET", path: "/api/records/opportunity?filter=" + urlq("account.top_deal > 5"), user: "rep1", status: 400, code: "bad_query"},
			{name: "nor expanded", method: "GET", path: "/api/records/opportunity?expand=account", user: "rep1", status: 200, contains: []string{"Acme"}, notContain: []string{"top_deal", "headroom"}},
			{name: "a readable computed field filters", method: "GET", path: "/api/records/account?total=true&filter=" + urlq("limit_twice > 100000"), user: "rep1", status: 200, contains: []string{`"total":1`}},
			{name: "explain says why", method: "GET", path: "/api/access/explain?user=mkt&object=account&field=headroom", user: "admin", status: 200,
				contains: []string{`"field_level":"hidden"`, "computed from account.credit_limit", `"actions":["read"]`}},
			{name: "explain a visible-to-all roll-up", method: "GET", path: "/api/access/explain?user=rep1&object=account&field=deals_total", user: "admin", status: 200,
				contains: []string{"visibility: all", `"actions":["create","read","update","transfer"]`}},
			{name: "the meta description leaves them out", method: "GET", path: "/api/meta/objects/account", user: "rep1", status: 200,
				contains: []string{`"name":"limit_twice"`, `"access":"read"`}, notContain: []string{`"name":"top_deal"`, `"name":"headroom"`}},
		})
	})
}

// TestMetadataDescribesOnlyWhatTheUserMaySee checks issue 7 (3).
func TestMetadataDescribesOnlyWhatTheUserMaySee(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addUser(t, "agent", "service_agent")
		f.run(t, []scenario{
			{name: "admin gets every object whole", method: "GET", path: "/api/meta/objects", user: "admin", status: 200,
				contains: []string{`"name":"opportunity"`, `"name":"credit_limit"`}, notContain: []string{`"access"`}},
			{name: "an agent gets only readable objects", method: "GET", path: "/api/meta/objects", user: "agent", status: 200,
				contains: []string{`"plural_label":{"en":"Accounts"`, `"plural_label":{"en":"Contacts"`}, notContain: []string{`"plural_label":{"en":"Opportunities"`, `"plural_label":{"en":"Leads"`, `"name":"credit_limit"`, `"name":"annual_revenue"`}},
			{name: "with their access on each field", method: "GET", path: "/api/meta/objects/contact", user: "agent", status: 200,
				contains: []string{`"name":"email","type":"email"`, `"access":"edit"`, `"access":"read"`, `"actions":["read","update","transfer"]`}},
			{name: "an unreadable object is not found", method: "GET", path: "/api/meta/objects/opportunity", user: "agent", status: 404},
			{name: "a rep sees their read-only field as read", method: "GET", path: "/api/meta/objects/account", user: "rep1", status: 200,
				contains: []string{`"actions":["create","read","update","transfer"]`}},
		})
	})
}

// TestComputedFieldsThroughLookupsFollowTheirRecords checks that a
// computed field reading fields of another record through a lookup
// (campaign_member.name is contact.name, account_relation.name names both
// accounts) is readable only by a user who may read every record of the
// objects it reaches, as a roll-up is: otherwise a rep read the name of
// another rep's contact or account in a record of their own, or in any
// campaign member, and could filter on it.
func TestComputedFieldsThroughLookupsFollowTheirRecords(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addUser(t, "mkt", "marketing")
		rep1, rep2 := f.userID("rep1"), f.userID("rep2")
		secret := f.create("admin", "account", fmt.Sprintf(`{"name": "Hidden Harbour", "owner_id": %q}`, rep1))
		mine := f.create("admin", "account", fmt.Sprintf(`{"name": "Open Orchard", "owner_id": %q}`, rep2))
		con := f.create("admin", "contact", fmt.Sprintf(`{"name": "Wen Quietly", "account": %q, "owner_id": %q}`, secret, rep1))
		camp := f.create("admin", "campaign", `{"name": "Spring fair"}`)
		member := f.create("admin", "campaign_member", fmt.Sprintf(`{"campaign": %q, "contact": %q}`, camp, con))
		rel := f.create("admin", "account_relation", fmt.Sprintf(`{"account": %q, "related_account": %q, "relation": "upstream", "owner_id": %q}`, mine, secret, rep2))
		f.run(t, []scenario{
			{name: "rep2 reads the campaign member without the contact's name", method: "GET", path: "/api/records/campaign_member/" + member, user: "rep2", status: 200,
				contains: []string{`"contact":"` + con + `"`}, notContain: []string{"Wen Quietly", `"name"`}},
			{name: "nor lists it", method: "GET", path: "/api/records/campaign_member", user: "rep2", status: 200, contains: []string{member}, notContain: []string{"Wen Quietly"}},
			{name: "nor filters on it", method: "GET", path: "/api/records/campaign_member?filter=" + urlq(`name startsWith "Wen"`), user: "rep2", status: 400, code: "bad_query"},
			{name: "nor sorts on it", method: "GET", path: "/api/records/campaign_member?sort=name", user: "rep2", status: 400, code: "bad_query"},
			{name: "rep2's own relation does not name rep1's account", method: "GET", path: "/api/records/account_relation/" + rel, user: "rep2", status: 200,
				contains: []string{`"related_account":"` + secret + `"`}, notContain: []string{"Hidden Harbour", "Open Orchard"}},
			{name: "marketing reads every contact and lead, so the names", method: "GET", path: "/api/records/campaign_member/" + member, user: "mkt", status: 200, contains: []string{`"name":"Wen Quietly"`}},
			{name: "a formula through a lookup to an object read whole stays readable", method: "GET", path: "/api/meta/objects/quote_line", user: "rep2", status: 200, contains: []string{`"name":"name"`}},
			{name: "the meta description leaves it out", method: "GET", path: "/api/meta/objects/campaign_member", user: "rep2", status: 200, notContain: []string{`"name":"name"`}},
			{name: "explain says why", method: "GET", path: "/api/access/explain?user=rep2&object=account_relation&field=name", user: "admin", status: 200,
				contains: []string{`"field_level":"hidden"`, "reads account records through a lookup"}},
		})
	})
}
