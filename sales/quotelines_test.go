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
// lines (its details) the same way: read with a read share, edited with
// an edit share, gone with the share; a line the rep adds through an edit
// share is the quote owner's, who sees every line of their quote (one
// added as a reader stays the rep's); a rep it is not shared with reads
// none, on both databases.
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
			{Name: "a line rep2 adds as a reader stays rep2's", Method: "POST", Path: "/api/records/quote_line", User: "rep2", Body: added, Status: 201, Contains: []string{`"owner_id":"` + s.UserID("rep2") + `"`}},
			{Name: "an edit share", Method: "POST", Path: shares, User: "rep1", Body: `{"user": "rep2", "access": "edit"}`, Status: 201},
			{Name: "lets rep2 edit it", Method: "PATCH", Path: lineURL, User: "rep2", Body: edit(line["version"]), Status: 200, Contains: []string{`"description":"checked"`}},
			{Name: "and add one, which is rep1's", Method: "POST", Path: "/api/records/quote_line", User: "rep2", Body: added, Status: 201, Contains: []string{`"owner_id":"` + rep1 + `"`}},
		})
		// rep1 reads their lines and the one added as an editor; rep2 and
		// their manager every line.
		n := mustAtoi(t, count)
		if mine, theirs, all := quoteLines(t, s, id, "rep1"), quoteLines(t, s, id, "rep2"), quoteLines(t, s, id, "manager"); mine != fmt.Sprint(n+1) || theirs != fmt.Sprint(n+2) || all != fmt.Sprint(n+2) {
			t.Errorf("after rep2 added two lines: rep1 reads %s lines, rep2 %s, their manager %s; want %d, %d, %d", mine, theirs, all, n+1, n+2, n+2)
		}
		if st, m := s.Do("DELETE", shares+"/rep2", "rep1", ""); st != 204 {
			t.Fatalf("unshare: %d %v", st, m)
		}
		if got := quoteLines(t, s, id, "rep2"); got != "1" {
			t.Errorf("once the share is gone rep2 reads %s lines, not only their own", got)
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
