package sales_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestGivenQuoteBringsItsLines: a sample quote with lines, given by the
// administrator to a rep (who reads quote lines by ownership), brings its
// lines along: the rep lists as many as the quote counts, on both
// databases; another rep reads none. Given away again by its new owner's
// manager, the lines go too.
func TestGivenQuoteBringsItsLines(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		id, count := sampleQuote(t, s)
		if got := quoteLines(t, s, id, "rep1"); got != "0" {
			t.Fatalf("rep1 reads %s lines of the admin's quote before it is given", got)
		}
		for _, give := range []struct{ by, to string }{{"admin", "rep1"}, {"manager", "rep2"}} {
			if st, m := s.Do("POST", "/api/records/quote/"+id+"/actions/transfer", give.by, fmt.Sprintf(`{"owner_id": %q}`, s.UserID(give.to))); st != 200 {
				t.Fatalf("%s gives the quote to %s: %d %v", give.by, give.to, st, m)
			}
			rival := map[string]string{"rep1": "rep2", "rep2": "rep1"}[give.to]
			if got, theirs := quoteLines(t, s, id, give.to), quoteLines(t, s, id, rival); got != count || theirs != "0" {
				t.Errorf("given to %s: they read %s lines (the quote counts %s), %s reads %s", give.to, got, count, rival, theirs)
			}
		}
	})
}

// TestSharedQuoteSharesItsLines: a quote shared with a rep shares its
// lines (parts of it: a master-detail lookup) the same way: read with a
// read share, edited and added to with an edit share (the line added is
// the quote owner's, who sees every line of their quote), gone with the
// share; a rep it is not shared with reads none and adds none, on both
// databases.
func TestSharedQuoteSharesItsLines(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		id, count := sampleQuote(t, s)
		rep1 := s.UserID("rep1")
		if st, m := s.Do("POST", "/api/records/quote/"+id+"/actions/transfer", "admin", fmt.Sprintf(`{"owner_id": %q}`, rep1)); st != 200 {
			t.Fatalf("give the quote to rep1: %d %v", st, m)
		}
		_, page := s.Do("GET", "/api/records/quote_line?limit=1&filter="+apitest.Query(fmt.Sprintf("quote == %q", id)), "rep1", "")
		line := page["items"].([]any)[0].(map[string]any)
		edit := func(version any) string {
			return fmt.Sprintf(`{"version": %v, "description": "checked"}`, version)
		}
		shares := "/api/records/quote/" + id + "/shares"
		lineURL := "/api/records/quote_line/" + line["id"].(string)
		added := fmt.Sprintf(`{"quote": %q, "product": %q, "quantity": 2}`, id, line["product"])
		s.Run(t, []apitest.Scenario{
			{Name: "rep2 cannot read a line", Method: "GET", Path: lineURL, User: "rep2", Status: 404},
			{Name: "nor add one", Method: "POST", Path: "/api/records/quote_line", User: "rep2", Body: added, Status: 422},
			{Name: "rep1 shares the quote with rep2", Method: "POST", Path: shares, User: "rep1", Body: `{"user": "rep2", "access": "read"}`, Status: 201},
			{Name: "rep2 reads the line", Method: "GET", Path: lineURL, User: "rep2", Status: 200, Contains: []string{line["id"].(string)}},
			{Name: "but may not edit it", Method: "PATCH", Path: lineURL, User: "rep2", Body: edit(line["version"]), Status: 403},
			{Name: "nor, as a reader, add one: a line is part of its quote", Method: "POST", Path: "/api/records/quote_line", User: "rep2", Body: added, Status: 403, Code: "forbidden"},
			{Name: "an edit share", Method: "POST", Path: shares, User: "rep1", Body: `{"user": "rep2", "access": "edit"}`, Status: 201},
			{Name: "lets rep2 edit it", Method: "PATCH", Path: lineURL, User: "rep2", Body: edit(line["version"]), Status: 200, Contains: []string{`"description":"checked"`}},
			{Name: "and add one, which is rep1's", Method: "POST", Path: "/api/records/quote_line", User: "rep2", Body: added, Status: 201, Contains: []string{`"owner_id":"` + rep1 + `"`}},
		})
		// rep1, rep2 and their manager read every line, the added one too.
		more := fmt.Sprint(mustAtoi(t, count) + 1)
		if mine, theirs, all := quoteLines(t, s, id, "rep1"), quoteLines(t, s, id, "rep2"), quoteLines(t, s, id, "manager"); mine != more || theirs != more || all != more {
			t.Errorf("after rep2 added a line: rep1 reads %s lines, rep2 %s, their manager %s; want %s", mine, theirs, all, more)
		}
		if st, m := s.Do("DELETE", shares+"/rep2", "rep1", ""); st != 204 {
			t.Fatalf("unshare: %d %v", st, m)
		}
		if got := quoteLines(t, s, id, "rep2"); got != "0" {
			t.Errorf("once the share is gone rep2 reads %s lines", got)
		}
	})
}

// mustAtoi reads a whole number.
func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sampleQuote loads the standard template's sample data and returns the
// id of a quote with more than one line, and how many it counts.
func sampleQuote(t *testing.T, s *apitest.Server) (id, count string) {
	t.Helper()
	fsys, err := defaults.FS("standard")
	if err != nil {
		t.Fatal(err)
	}
	s.LoadSample(fsys)
	st, page := s.Do("GET", "/api/records/quote?limit=1&filter="+apitest.Query("line_count > 1"), "admin", "")
	items, _ := page["items"].([]any)
	if st != 200 || len(items) == 0 {
		t.Fatalf("a sample quote with lines: %d %v", st, page)
	}
	quote := items[0].(map[string]any)
	return quote["id"].(string), fmt.Sprint(quote["line_count"])
}

// quoteLines returns how many lines of the quote user lists.
func quoteLines(t *testing.T, s *apitest.Server, quote, user string) string {
	t.Helper()
	st, page := s.Do("GET", "/api/records/quote_line?total=exact&filter="+apitest.Query(fmt.Sprintf("quote == %q", quote)), user, "")
	if st != 200 {
		t.Fatalf("%s lists the lines: %d %v", user, st, page)
	}
	return fmt.Sprint(page["total"])
}

// TestQuoteLinesArePartsOfTheirQuote: a quote's lines are parts of it (a
// master-detail lookup), always held by the quote's owner: a line the
// rep's manager adds is the rep's, a line cannot be given away alone nor
// created for someone else, a line moved to another quote goes to that
// quote's owner, and a rep may not delete a line of a quote they may not
// change; on both databases.
func TestQuoteLinesArePartsOfTheirQuote(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		id, _ := sampleQuote(t, s)
		rep1, rep2 := s.UserID("rep1"), s.UserID("rep2")
		st, page := s.Do("GET", "/api/records/quote?limit=1&filter="+apitest.Query(fmt.Sprintf("id != %q", id)), "admin", "")
		if st != 200 || len(page["items"].([]any)) == 0 {
			t.Fatalf("another quote: %d %v", st, page)
		}
		other := page["items"].([]any)[0].(map[string]any)["id"].(string)
		for quote, to := range map[string]string{id: rep1, other: rep2} {
			if st, m := s.Do("POST", "/api/records/quote/"+quote+"/actions/transfer", "admin", fmt.Sprintf(`{"owner_id": %q}`, to)); st != 200 {
				t.Fatalf("give a quote: %d %v", st, m)
			}
		}
		_, page = s.Do("GET", "/api/records/quote_line?limit=1&filter="+apitest.Query(fmt.Sprintf("quote == %q", id)), "rep1", "")
		product := page["items"].([]any)[0].(map[string]any)["product"].(string)
		st, added := s.Do("POST", "/api/records/quote_line", "manager", fmt.Sprintf(`{"quote": %q, "product": %q, "quantity": 1}`, id, product))
		if st != 201 {
			t.Fatalf("the manager adds a line: %d %v", st, added)
		}
		line := "/api/records/quote_line/" + added["id"].(string)
		move := func(quote string) string {
			return fmt.Sprintf(`{"ids": [%q], "set": {"quote": %q}}`, added["id"], quote)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "the manager's line is rep1's", Method: "GET", Path: line, User: "rep1", Status: 200, Contains: []string{`"owner_id":"` + rep1 + `"`}},
			{Name: "a line is not given away alone", Method: "POST", Path: line + "/actions/transfer", User: "rep1", Body: fmt.Sprintf(`{"owner_id": %q}`, rep2), Status: 403, Code: "forbidden"},
			{Name: "nor by its owner_id", Method: "POST", Path: "/api/records/quote_line/mass_update", User: "rep1", Body: fmt.Sprintf(`{"ids": [%q], "set": {"owner_id": %q}}`, added["id"], rep2), Status: 403, Code: "forbidden"},
			{Name: "nor created for another", Method: "POST", Path: "/api/records/quote_line", User: "admin", Body: fmt.Sprintf(`{"quote": %q, "product": %q, "owner_id": %q}`, id, product, rep2), Status: 422, Contains: []string{"owner_id", "belongs to the owner of its quote"}},
			{Name: "rep2 may not delete it", Method: "DELETE", Path: line, User: "rep2", Status: 404},
			{Name: "rep1 may not move it to rep2's quote", Method: "POST", Path: "/api/records/quote_line/mass_update", User: "rep1", Body: move(other), Status: 422},
			{Name: "the admin moves it there", Method: "POST", Path: "/api/records/quote_line/mass_update", User: "admin", Body: move(other), Status: 200},
			{Name: "it is rep2's now", Method: "GET", Path: line, User: "rep2", Status: 200, Contains: []string{`"owner_id":"` + rep2 + `"`}},
			{Name: "and no longer rep1's", Method: "GET", Path: line, User: "rep1", Status: 404},
			{Name: "the manager, who may change both quotes, moves it back", Method: "POST", Path: "/api/records/quote_line/mass_update", User: "manager", Body: move(id), Status: 200},
			{Name: "rep1's again", Method: "GET", Path: line, User: "rep1", Status: 200, Contains: []string{`"owner_id":"` + rep1 + `"`}},
		})
	})
}
