package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestBatchCreate checks POST /api/records/{object}/batch: all or none,
// each record with the checks of a single create, the failing record
// named by its place, and the records visible exactly as single creates
// would make them.
func TestBatchCreate(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		records := func(n int, name func(i int) string) string {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = fmt.Sprintf(`{"name": %q, "industry": "retail"}`, name(i))
			}
			return `{"records": [` + strings.Join(parts, ", ") + `]}`
		}
		tooMany := records(engine.MaxBatch+1, func(i int) string { return fmt.Sprint("N", i) })
		f.run(t, []scenario{
			{name: "a batch", method: "POST", path: "/api/records/account/batch", user: "rep1", body: records(3, func(i int) string { return fmt.Sprint("Batch ", i) }),
				status: 201, contains: []string{`"items":[`, `"name":"Batch 0"`, `"name":"Batch 2"`}},
			{name: "one invalid record refuses all, naming it", method: "POST", path: "/api/records/account/batch", user: "rep1",
				body:   `{"records": [{"name": "Good 1"}, {"name": "Bad", "employees": -1}, {"name": "Good 2"}]}`,
				status: 422, code: "invalid_record", contains: []string{`"path":"/records/1"`, `"field":"employees"`}},
			{name: "a read-only field in one record", method: "POST", path: "/api/records/account/batch", user: "rep1",
				body:   `{"records": [{"name": "Good 3"}, {"name": "Ro", "credit_limit": 5}]}`,
				status: 403, code: "forbidden", contains: []string{`"path":"/records/1"`, "credit_limit"}},
			{name: "no right to create", method: "POST", path: "/api/records/campaign/batch", user: "rep1", body: `{"records": [{"name": "C"}]}`, status: 403, code: "forbidden"},
			{name: "too many", method: "POST", path: "/api/records/account/batch", user: "admin", body: tooMany, status: 400, code: "bad_request", contains: []string{`"field":"records"`}},
			{name: "empty", method: "POST", path: "/api/records/account/batch", user: "rep1", body: `{"records": []}`, status: 400, code: "malformed_body"},
			{name: "not a list", method: "POST", path: "/api/records/account/batch", user: "rep1", body: `{"records": {"name": "x"}}`, status: 400, code: "malformed_body"},
			{name: "a record that is not an object", method: "POST", path: "/api/records/account/batch", user: "rep1", body: `{"records": [{"name": "x"}, null]}`, status: 400, code: "malformed_body", contains: []string{`"path":"/records/1"`}},
			{name: "unknown key", method: "POST", path: "/api/records/account/batch", user: "rep1", body: `{"items": []}`, status: 400, code: "malformed_body"},
		})
		// Only the first batch was written, owned by rep1: rep2 sees none of it.
		for user, want := range map[string]string{"rep1": "3", "rep2": "0", "manager": "3"} {
			status, m := f.do("GET", "/api/records/account?total=exact&filter="+urlq(`name startsWith "Batch" || name startsWith "Good"`), user, "")
			if status != 200 || fmt.Sprint(m["total"]) != want {
				t.Errorf("%s sees %v accounts of the batches (%d), want %s", user, m["total"], status, want)
			}
		}
	})
}
