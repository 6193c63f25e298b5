package routes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// deal is an opportunity of the fixture.
type deal struct {
	creator, owner, account, stage, amount, close string
}

// probability of each stage of the standard template.
var probability = map[string]int64{"qualify": 10, "needs": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}

// stageOrder is the order of the stage options.
var stageOrder = []string{"qualify", "needs", "proposal", "negotiation", "won", "lost"}

// fixture is a small sales team's data on a running server.
type fixture struct {
	s        *apitest.Server
	ids      map[string]string // user and account ids by name
	deals    []deal
	dealIDs  []string          // of deals, in order
	accounts map[string]string // account name → owner
	industry map[string]string // account name → industry
}

// accounts of the fixture: name, creator, industry, source.
var accountSeeds = [][4]string{
	{"Acme", "rep1", "retail", "web"},
	{"北方机床", "rep1", "manufacturing", "referral"},
	{"Globex", "rep2", "finance", "web"},
	{"Hidden Co", "admin", "it", "trade_show"},
}

// dealSeeds are the opportunities: creator, owner (when another), account,
// stage, amount, close date.
var dealSeeds = []deal{
	{"rep1", "", "Acme", "qualify", "1000.05", "2026-01-15"},
	{"rep1", "", "Acme", "proposal", "2500.50", "2026-01-31"},
	{"rep1", "", "Acme", "proposal", "333.33", "2026-02-01"},
	{"rep1", "", "Acme", "won", "12000.00", "2026-03-10"},
	{"rep1", "", "Acme", "lost", "500", "2026-03-11"},
	{"rep1", "", "Acme", "negotiation", "0.01", "2026-02-28"},
	{"rep1", "", "北方机床", "needs", "777.77", "2026-02-14"},
	{"rep1", "", "北方机床", "qualify", "0.05", "2026-03-31"},
	{"rep2", "", "Globex", "qualify", "4000", "2026-01-01"},
	{"rep2", "", "Globex", "won", "8000.99", "2026-02-15"},
	{"rep2", "", "Globex", "negotiation", "1234.56", ""},
	{"admin", "rep1", "Hidden Co", "proposal", "999.99", "2026-03-01"},
	{"admin", "", "Hidden Co", "qualify", "50", "2026-01-20"},
}

// newFixture seeds the data.
func newFixture(t *testing.T, s *apitest.Server) *fixture {
	f := &fixture{s: s, ids: map[string]string{}, accounts: map[string]string{}, industry: map[string]string{}}
	for _, u := range []string{"admin", "manager", "rep1", "rep2", "agent", "mkt"} {
		f.ids[u] = s.UserID(u)
	}
	for _, a := range accountSeeds {
		f.ids[a[0]] = s.Create(a[1], "account", fmt.Sprintf(`{"name": %q, "industry": %q, "source": %q}`, a[0], a[2], a[3]))
		f.accounts[a[0]], f.industry[a[0]] = a[1], a[2]
	}
	for i, d := range dealSeeds {
		body := map[string]any{"name": fmt.Sprintf("Deal %d", i), "account": f.ids[d.account], "stage": d.stage, "amount": json.Number(d.amount)}
		if d.close != "" {
			body["close_date"] = d.close
		}
		if d.owner != "" {
			body["owner_id"] = f.ids[d.owner]
		} else {
			d.owner = d.creator
		}
		raw, _ := json.Marshal(body)
		f.dealIDs = append(f.dealIDs, s.Create(d.creator, "opportunity", string(raw)))
		f.deals = append(f.deals, d)
	}
	return f
}

// visible returns the deals a user may read: admin all, the manager those
// of the reps below them, a rep their own.
func (f *fixture) visible(user string) []deal {
	var out []deal
	for _, d := range f.deals {
		switch {
		case user == "admin",
			user == "manager" && (d.owner == "rep1" || d.owner == "rep2" || d.owner == "manager"),
			d.owner == user:
			out = append(out, d)
		}
	}
	return out
}

// weighted is amount × probability ÷ 100 rounded half away from zero to
// cents, as a stored currency value is.
func weighted(t *testing.T, d deal) *big.Rat {
	cents := new(big.Rat).Mul(apitest.Rat(t, d.amount), big.NewRat(probability[d.stage], 1))
	cents.Quo(cents, big.NewRat(100, 1))
	return apitest.RoundCents(cents)
}

// get sends a GET as user with headers and decodes the JSON answer.
func get(t *testing.T, s *apitest.Server, user, path string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	status, raw := s.Raw("GET", path, user, "", nil, hdr)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil && status < 300 {
		t.Fatalf("GET %s: not JSON: %s", path, raw)
	}
	return status, m
}

// post sends a JSON body as user.
func post(t *testing.T, s *apitest.Server, user, path, body string, hdr map[string]string) (int, map[string]any, []byte) {
	t.Helper()
	status, raw := s.Raw("POST", path, user, "application/json", bytes.NewReader([]byte(body)), hdr)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	_ = d.Decode(&m)
	return status, m, raw
}

// rows returns the rows of a result.
func rows(t *testing.T, res map[string]any) []map[string]any {
	t.Helper()
	list, ok := res["rows"].([]any)
	if !ok {
		t.Fatalf("no rows in %v", res)
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
	}
	return out
}

// num reads a JSON number as a rational (nil for null).
func num(t *testing.T, v any) *big.Rat {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		return apitest.Rat(t, string(x))
	}
	t.Fatalf("not a number: %#v", v)
	return nil
}

// eq reports whether a JSON number equals r (both absent counts as equal).
func eq(t *testing.T, v any, r *big.Rat) bool {
	got := num(t, v)
	if got == nil || r == nil {
		return got == nil && r == nil
	}
	return got.Cmp(r) == 0
}

// checkCounts compares the aggregate agg of a result's detail rows with
// the counts wanted by group path: the same groups, the same counts.
func checkCounts(t *testing.T, res map[string]any, agg string, want map[string]int64) {
	t.Helper()
	got := byKey(t, res)
	if len(got) != len(want) {
		t.Fatalf("groups %v, want %v", keys(got), want)
	}
	for k, n := range want {
		if !eq(t, got[k][agg], big.NewRat(n, 1)) {
			t.Errorf("%s: %v, want %d", k, got[k], n)
		}
	}
}

// q escapes a query value.
func q(s string) string { return url.QueryEscape(s) }
