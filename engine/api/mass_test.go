package api

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestMassUpdateAndDelete checks POST /api/records/{object}/mass_update
// and mass_delete: the same values set on every record, or every record
// deleted, all or none, each with the checks of a single write (record
// rights: a record the user may not reach refuses the batch, named by its
// id and place, and nothing changes; field levels; validation), and the
// owner changed by a manager as a transfer.
func TestMassUpdateAndDelete(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.create("rep1", "account", `{"name": "Mass Co"}`)
		var mine []string
		for i := range 3 {
			mine = append(mine, f.create("rep1", "opportunity", fmt.Sprintf(`{"name": "Mass %d", "account": %q, "amount": 100}`, i, acc)))
		}
		other := f.create("rep2", "opportunity", fmt.Sprintf(`{"name": "Other", "account": %q}`, f.create("rep2", "account", `{"name": "Other Co"}`)))
		ids := func(ids ...string) string { b, _ := json.Marshal(ids); return string(b) }
		tooMany := make([]string, engine.MaxBatch+1)
		for i := range tooMany {
			tooMany[i] = mine[0]
		}
		f.run(t, []scenario{
			{name: "another rep's record refuses the batch, named", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1",
				body: `{"ids": ` + ids(mine[0], mine[1], other) + `, "set": {"stage": "lost"}}`, status: 404, code: "not_found", contains: []string{`"path":"/ids/2"`, `"id":"` + other + `"`}},
			{name: "an invalid value refuses the batch", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1",
				body: `{"ids": ` + ids(mine...) + `, "set": {"amount": -5}}`, status: 422, code: "invalid_record", contains: []string{`"path":"/ids/0"`, `"field":"amount"`}},
			{name: "a read-only field", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1",
				body: `{"ids": ` + ids(mine...) + `, "set": {"approval_status": "approved"}}`, status: 403, code: "forbidden", contains: []string{"approval_status"}},
			{name: "no version", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1",
				body: `{"ids": ` + ids(mine...) + `, "set": {"stage": "lost", "version": 1}}`, status: 400, contains: []string{`"field":"version"`}},
			{name: "nothing to set", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1", body: `{"ids": ` + ids(mine...) + `, "set": {}}`, status: 400},
			{name: "no ids", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1", body: `{"ids": [], "set": {"stage": "lost"}}`, status: 400, contains: []string{`"field":"ids"`}},
			{name: "too many ids", method: "POST", path: "/api/records/opportunity/mass_delete", user: "manager", body: `{"ids": ` + ids(tooMany...) + `}`, status: 400, contains: []string{`"field":"ids"`}},
			{name: "unknown key", method: "POST", path: "/api/records/opportunity/mass_delete", user: "manager", body: `{"ids": [], "all": true}`, status: 400, code: "malformed_body"},
			{name: "reps may not delete opportunities", method: "POST", path: "/api/records/opportunity/mass_delete", user: "rep1", body: `{"ids": ` + ids(mine...) + `}`, status: 403, code: "forbidden"},
			{name: "another rep may not delete them", method: "POST", path: "/api/records/opportunity/mass_delete", user: "rep2", body: `{"ids": ` + ids(mine...) + `}`, status: 403},
			{name: "the rep's own, each set once", method: "POST", path: "/api/records/opportunity/mass_update", user: "rep1",
				body: `{"ids": ` + ids(mine[0], mine[1], mine[2], mine[0]) + `, "set": {"stage": "negotiation", "amount": "250.50"}}`, status: 200, contains: []string{`"updated":3`}},
		})
		// The refused batches changed nothing; the last set every record once.
		for _, id := range mine {
			_, rec := f.do("GET", "/api/records/opportunity/"+id, "rep1", "")
			if rec["stage"] != "negotiation" || rec["amount"] != json.Number("250.50") || rec["version"] != json.Number("2") {
				t.Errorf("%s after the mass updates: %v", id, rec)
			}
		}
		if _, rec := f.do("GET", "/api/records/opportunity/"+other, "rep2", ""); rec["stage"] == "lost" || rec["version"] != json.Number("1") {
			t.Errorf("rep2's opportunity after rep1's refused batch: %v", rec)
		}
		// The manager gives rep1's deals to rep2 (a transfer), then deletes them.
		if st, m := f.do("POST", "/api/records/opportunity/mass_update", "manager", `{"ids": `+ids(mine...)+`, "set": {"owner_id": "`+f.userID("rep2")+`"}}`); st != 200 {
			t.Fatalf("mass transfer: %d %v", st, m)
		}
		for user, want := range map[string]string{"rep1": "0", "rep2": "4"} {
			if _, m := f.do("GET", "/api/records/opportunity?total=exact", user, ""); fmt.Sprint(m["total"]) != want {
				t.Errorf("%s owns %v opportunities after the transfer, want %s", user, m["total"], want)
			}
		}
		if st, m := f.do("POST", "/api/records/opportunity/mass_delete", "manager", `{"ids": `+ids(append(mine, other)...)+`}`); st != 200 || m["deleted"] != json.Number("4") {
			t.Fatalf("mass delete: %d %v", st, m)
		}
		if _, m := f.do("GET", "/api/records/opportunity?total=exact&filter="+urlq(`name startsWith "Mass" || name == "Other"`), "admin", ""); fmt.Sprint(m["total"]) != "0" {
			t.Errorf("after the mass delete: %v", m["total"])
		}
	})
}
