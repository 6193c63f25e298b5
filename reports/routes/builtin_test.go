package routes_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// campaignDeal is an opportunity of a campaign: creator, campaign, stage,
// amount.
type campaignDeal struct {
	creator, campaign, stage, amount string
}

// campaignDeals are the opportunities of the campaigns test; admin's are
// out of the manager's reach.
var campaignDeals = []campaignDeal{
	{"rep1", "Spring fair", "won", "5000.00"},
	{"rep1", "Spring fair", "won", "1234.56"},
	{"rep1", "Spring fair", "proposal", "800"},
	{"rep2", "短信推广", "won", "999.99"},
	{"rep2", "短信推广", "lost", "50"},
	{"admin", "Spring fair", "won", "10000"},
	{"rep2", "Free webinar", "won", "100"},
}

// campaignCosts are the campaigns and their actual cost.
var campaignCosts = map[string]string{"Spring fair": "1000.00", "短信推广": "333.33", "Free webinar": "0"}

// leadSeeds are leads: owner, source, status and the index of the
// campaign deal they were converted to (-1 for none).
var leadSeeds = []struct {
	owner, source, status string
	deal                  int
}{
	{"rep1", "web", "converted", 0},
	{"rep1", "web", "converted", 2},
	{"rep1", "web", "new", -1},
	{"rep1", "web", "converted", 5}, // a deal of admin's: the manager may not read it
	{"rep2", "referral", "converted", 3},
	{"rep2", "referral", "contacted", -1},
	{"admin", "trade_show", "converted", 6},
}

// runGroups runs a stored report as user and returns its answer and its
// detail rows by group, which must be n.
func runGroups(t *testing.T, s *apitest.Server, user, report string, n int) (map[string]any, map[string]map[string]any) {
	t.Helper()
	st, res := get(t, s, user, "/api/reports/"+report+"/run", nil)
	if st != 200 {
		t.Fatalf("run %s: %d %v", report, st, res)
	}
	got := byKey(t, res)
	if len(got) != n {
		t.Fatalf("%s: groups %v, want %d", report, keys(got), n)
	}
	return res, got
}

// ownerVisible reports whether user reads records owned by owner: admin
// all, the manager their reps', a rep their own.
func ownerVisible(user, owner string) bool {
	return user == "admin" || owner == user || user == "manager" && (owner == "rep1" || owner == "rep2")
}

// TestCampaignROIAndLeadConversion runs the built-in reports campaign_roi
// and lead_conversion_by_source as an administrator and a manager and
// compares them with figures computed here; drill-downs by aggregate list
// the records an aggregate counted.
func TestCampaignROIAndLeadConversion(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		campaigns := map[string]string{}
		for name, cost := range campaignCosts {
			campaigns[name] = s.Create("admin", "campaign", fmt.Sprintf(`{"name": %q, "actual_cost": %s}`, name, cost))
		}
		accountOf := map[string]string{"rep1": "Acme", "rep2": "Globex", "admin": "Hidden Co"}
		dealIDs := make([]string, len(campaignDeals))
		for i, d := range campaignDeals {
			dealIDs[i] = s.Create(d.creator, "opportunity", fmt.Sprintf(`{"name": "Campaign deal %d", "account": %q, "campaign": %q, "stage": %q, "amount": %s}`,
				i, f.ids[accountOf[d.creator]], campaigns[d.campaign], d.stage, d.amount))
		}
		for i, l := range leadSeeds {
			body := map[string]any{"person": fmt.Sprintf("Lead %d", i), "source": l.source, "status": l.status, "owner_id": f.ids[l.owner]}
			if l.deal >= 0 {
				body["converted_opportunity"] = dealIDs[l.deal]
			}
			raw, _ := json.Marshal(body)
			s.Create("admin", "lead", string(raw))
		}

		for _, user := range []string{"admin", "manager"} {
			t.Run("campaign_roi as "+user, func(t *testing.T) {
				type roi struct {
					deals, won    int64
					revenue, cost *big.Rat
				}
				want := map[string]*roi{}
				tot := &roi{revenue: new(big.Rat), cost: new(big.Rat)}
				for _, d := range campaignDeals {
					if !ownerVisible(user, d.creator) {
						continue
					}
					id := campaigns[d.campaign]
					r := want[id]
					if r == nil {
						r = &roi{revenue: new(big.Rat), cost: apitest.Rat(t, campaignCosts[d.campaign])}
						want[id] = r
						tot.cost.Add(tot.cost, r.cost)
					}
					r.deals++
					tot.deals++
					if d.stage == "won" {
						r.won++
						tot.won++
						r.revenue.Add(r.revenue, apitest.Rat(t, d.amount))
						tot.revenue.Add(tot.revenue, apitest.Rat(t, d.amount))
					}
				}
				// ROI as the campaign's own field: (revenue − cost) ÷ cost × 100.
				ratio := func(a, b *big.Rat) *big.Rat {
					if b.Sign() == 0 {
						return nil
					}
					return percentOf(new(big.Rat).Sub(a, b), b)
				}
				res, got := runGroups(t, s, user, "campaign_roi", len(want))
				for id, r := range want {
					row := got[id]
					if !eq(t, row["deals"], big.NewRat(r.deals, 1)) || !eq(t, row["won"], big.NewRat(r.won, 1)) || !eq(t, row["revenue"], r.revenue) ||
						!eq(t, row["cost"], r.cost) || !eq(t, row["roi"], ratio(r.revenue, r.cost)) {
						t.Errorf("campaign %s: %v; want %d deals, %d won, revenue %s, cost %s", id, row, r.deals, r.won, r.revenue.FloatString(2), r.cost.FloatString(2))
					}
					// Each aggregate's drill-down lists what it counted.
					for agg, n := range map[string]int64{"": r.deals, "won": r.won, "revenue": r.won} {
						_, list := get(t, s, user, "/api/reports/campaign_roi/drill?total=true&aggregate="+agg+"&group="+q(id), nil)
						if !eq(t, list["total"], big.NewRat(n, 1)) {
							t.Errorf("campaign %s: drill %q: %v records, want %d", id, agg, list["total"], n)
						}
					}
				}
				totals := res["totals"].(map[string]any)
				if !eq(t, totals["deals"], big.NewRat(tot.deals, 1)) || !eq(t, totals["revenue"], tot.revenue) || !eq(t, totals["cost"], tot.cost) ||
					!eq(t, totals["roi"], ratio(tot.revenue, tot.cost)) {
					t.Errorf("totals %v; want revenue %s, cost %s (each campaign's once)", totals, tot.revenue.FloatString(2), tot.cost.FloatString(2))
				}
			})

			t.Run("lead_conversion_by_source as "+user, func(t *testing.T) {
				type src struct {
					leads, converted, won int64
					revenue               *big.Rat
				}
				want := map[string]*src{}
				for _, l := range leadSeeds {
					if !ownerVisible(user, l.owner) {
						continue
					}
					r := want[l.source]
					if r == nil {
						r = &src{}
						want[l.source] = r
					}
					r.leads++
					if l.status == "converted" {
						r.converted++
					}
					// Won only when the user may read the won deal.
					if l.deal >= 0 && campaignDeals[l.deal].stage == "won" && ownerVisible(user, campaignDeals[l.deal].creator) {
						r.won++
						if r.revenue == nil {
							r.revenue = new(big.Rat)
						}
						r.revenue.Add(r.revenue, apitest.Rat(t, campaignDeals[l.deal].amount))
					}
				}
				_, got := runGroups(t, s, user, "lead_conversion_by_source", len(want))
				for k, r := range want {
					row := got[k]
					if !eq(t, row["leads"], big.NewRat(r.leads, 1)) || !eq(t, row["converted"], big.NewRat(r.converted, 1)) ||
						!eq(t, row["won"], big.NewRat(r.won, 1)) || !eq(t, row["revenue"], r.revenue) ||
						!eq(t, row["conversion_rate"], percentOf(big.NewRat(r.converted, 1), big.NewRat(r.leads, 1))) ||
						!eq(t, row["win_rate"], percentOf(big.NewRat(r.won, 1), big.NewRat(r.converted, 1))) {
						t.Errorf("source %s: %v; want %+v", k, row, *r)
					}
				}
			})
		}
		s.Run(t, []apitest.Scenario{
			{Name: "campaign ROI is offered to managers only", Method: "GET", Path: "/api/reports/campaign_roi/run", User: "rep1", Status: 404, NotContain: []string{"Spring fair"}},
			{Name: "a rep may not read campaign costs", Method: "POST", Path: "/api/reports/run", User: "rep1",
				Body:   `{"name": "h", "object": "opportunity", "kind": "summary", "group_by": [{"field": "campaign"}], "aggregates": [{"name": "c", "func": "max", "field": "campaign.actual_cost", "totals": "sum"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"campaign.actual_cost"}},
			{Name: "an unknown aggregate to drill by", Method: "GET", Path: "/api/reports/campaign_roi/drill?aggregate=nope", User: "manager", Status: 400, Contains: []string{"nope"}},
			{Name: "marketing reads no deals", Method: "GET", Path: "/api/reports/lead_conversion_by_source/run", User: "mkt", Status: 404},
		})
	})
}
