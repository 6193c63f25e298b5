package workflows_test

import (
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestDecisionOnceAcrossServers sends the same decision to two servers on
// one database at the same moment, and two approvers' decisions on a step
// any one of them decides: each time one decision is taken and the other
// answered 409, and the history holds one.
func TestDecisionOnceAcrossServers(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := newContractServer(t, db)
		s2 := s.Another(apitest.Options{})
		both := func(a, b func() int) []int {
			var wg sync.WaitGroup
			got := make([]int, 2)
			start := make(chan struct{})
			for i, f := range []func() int{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i] = f()
				}()
			}
			close(start)
			wg.Wait()
			sort.Ints(got)
			return got
		}
		post := func(srv *apitest.Server, path, user string) func() int {
			return func() int {
				status, _ := srv.Raw("POST", path, user, "application/json", nil, nil)
				return status
			}
		}
		for i := 0; i < 4; i++ {
			c := "/api/records/agreement/" + s.Create("rep1", "agreement", `{"name": "Twice", "amount": 100}`)
			s.Run(t, []apitest.Scenario{action(c, "submit", "rep1", "", 200)})
			if got := both(post(s, c+"/actions/approve", "manager"), post(s2, c+"/actions/approve", "manager")); got[0] != 200 || got[1] != 409 {
				t.Fatalf("the same approval on two servers: %v", got)
			}
			s.Run(t, []apitest.Scenario{
				{Name: "one decision in the history", Method: "GET", Path: c + "/approvals", User: "manager", Status: 200,
					Contains: []string{`"step":"legal_and_finance"`, `"decision":"approved"`}},
			})
			status, raw := s.Raw("GET", c+"/approvals", "manager", "", nil, nil)
			if status != 200 || strings.Count(string(raw), `"decision":"approved"`) != 1 {
				t.Fatalf("history: %s", raw)
			}
		}
	})
}
