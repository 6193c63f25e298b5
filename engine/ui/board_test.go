package ui_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/internal/apitest"
)

func TestBoardAndCalendar(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Board Co"}`)
		acc2 := s.Create("rep2", "account", `{"name": "Other Co"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "stage": "proposal", "amount": "5000"}`)
		s.Create("rep2", "opportunity", `{"name": "Secret deal", "account": "`+acc2+`", "stage": "proposal"}`)
		now := time.Now().UTC()
		s.Create("rep1", "activity", `{"subject": "Visit Board Co", "kind": "visit", "starts_at": "`+now.Format(time.RFC3339)+`"}`)
		s.Create("rep2", "activity", `{"subject": "Secret visit", "kind": "visit", "starts_at": "`+now.Format(time.RFC3339)+`"}`)
		rep, mgr := signedIn(t, s, "rep1"), signedIn(t, s, "manager")
		run(t, rep, []pageCase{
			{name: "list links the board and the calendar", path: "/ui/o/opportunity", status: 200, contains: []string{`href="/ui/board/opportunity"`, `href="/ui/calendar/opportunity"`}},
			{name: "board by stage", path: "/ui/board/opportunity", status: 200, contains: []string{"Qualify", "Negotiation", "Tea machines", `data-drop-value="won"`, `action="/ui/board/opportunity/` + opp + `"`}, notContain: []string{"Secret deal"}},
			{name: "the moves the workflow forbids are greyed and explained", path: "/ui/board/opportunity", status: 200,
				contains: []string{`<option value="qualify" disabled>Qualify — not allowed</option>`, `<option value="proposal" selected>`, `<option value="negotiation">`,
					`data-allowed="[&#34;needs&#34;,&#34;negotiation&#34;,&#34;won&#34;,&#34;lost&#34;]"`, `data-refused="Not allowed here: the state workflow or your rights"`},
				notContain: []string{"You may not change this record."}},
			{name: "a stale card is refused and explained", method: "POST", path: "/ui/board/opportunity/" + opp, form: url.Values{"field": {"stage"}, "to": {"won"}, "version": {"7"}},
				status: 409, contains: []string{"The move was refused", "changed by someone else"}},
			{name: "an unknown stage is refused and explained", method: "POST", path: "/ui/board/opportunity/" + opp, form: url.Values{"field": {"stage"}, "to": {"nope"}, "version": {"1"}},
				status: 422, contains: []string{"The move was refused", `role="alert"`}},
			{name: "move", method: "POST", path: "/ui/board/opportunity/" + opp, form: url.Values{"field": {"stage"}, "to": {"negotiation"}, "version": {"1"}}, status: 303},
			{name: "move again", method: "POST", path: "/ui/board/opportunity/" + opp, form: url.Values{"field": {"stage"}, "to": {"won"}, "version": {"2"}}, status: 303},
			{name: "calendar month", path: "/ui/calendar/activity", status: 200, contains: []string{"Visit Board Co", now.Format("2006-01")}, notContain: []string{"Secret visit"}},
			{name: "calendar week", path: "/ui/calendar/activity?view=week", status: 200, contains: []string{"Visit Board Co"}, notContain: []string{"Secret visit"}},
			{name: "calendar day", path: "/ui/calendar/activity?view=day&date=" + now.Format("2006-01-02"), status: 200, contains: []string{"Visit Board Co"}},
			{name: "calendar another day", path: "/ui/calendar/activity?view=day&date=2001-01-01", status: 200, notContain: []string{"Visit Board Co"}},
			{name: "a bad date", path: "/ui/calendar/activity?date=tomorrow", status: 400},
		})
		if _, m := s.Do("GET", "/api/records/opportunity/"+opp, "rep1", ""); m["stage"] != "won" {
			t.Errorf("stage after the moves: %v", m["stage"])
		}
		rep2 := signedIn(t, s, "rep2")
		if st, body := s.Do("POST", "/api/records/opportunity/"+opp+"/shares", "rep1", `{"user": "rep2", "access": "read"}`); st != 201 {
			t.Fatalf("share: %d %v", st, body)
		}
		run(t, rep2, []pageCase{
			{name: "a card shared for reading offers no move, and says why", path: "/ui/board/opportunity", status: 200,
				contains:   []string{"Tea machines", "Secret deal", "You may not change this record.", `action="/ui/board/opportunity/`},
				notContain: []string{`action="/ui/board/opportunity/` + opp + `"`, `data-card="` + opp + `"`}},
			{name: "nor may move it: refused and explained", method: "POST", path: "/ui/board/opportunity/" + opp, form: url.Values{"field": {"stage"}, "to": {"lost"}, "version": {"3"}}, status: 403,
				contains: []string{"The move was refused"}},
		})
		run(t, mgr, []pageCase{
			{name: "the manager sees the team's cards", path: "/ui/board/opportunity", status: 200, contains: []string{"Tea machines", "Secret deal"}},
		})
		_, body := rep.get("/ui/board/opportunity")
		if i, j := strings.Index(body, `id="col-won"`), strings.Index(body, "Tea machines"); i < 0 || j < i {
			t.Error("the card is not in the Won column")
		}
	})
}
