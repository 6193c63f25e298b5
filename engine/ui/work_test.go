package ui_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/workflows/reminders"
)

// TestWorkPages: the pages of the parts built on the engine, as their
// users see them: lead conversion with the duplicate choice, state
// buttons, approvals on the record and waiting on the approver's home.
func TestWorkPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, mgr := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "manager")
		acc := s.Create("rep1", "account", `{"name": "West Lake Trading Co., Ltd."}`)
		lead := s.Create("rep1", "lead", `{"person": "Li Lei", "company": "West Lake Trading", "email": "li@westlake.example", "status": "new"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "discount": 15, "stage": "proposal"}`)
		conv := "/ui/o/lead/" + lead + "/convert"
		run(t, rep1, []pageCase{
			{name: "the lead offers the conversion page", path: "/ui/o/lead/" + lead, status: 200, contains: []string{`href="` + conv + `"`}},
			{name: "conversion page", path: conv, status: 200,
				contains: []string{"Convert Lead Li Lei", `name="t_account" value="new"`, `name="t_opportunity" value="skip"`}},
			{name: "a duplicate account is offered to choose", method: "POST", path: conv, form: url.Values{"t_opportunity": {"new"}}, status: 409,
				contains: []string{"Records like this one exist already", `value="id:` + acc + `"`, "Use West Lake Trading Co., Ltd.", `value="create"`}},
			{name: "converted into the existing account", method: "POST", path: conv, form: url.Values{"t_account": {"id:" + acc}, "t_opportunity": {"new"}}, status: 303},
			{name: "the lead names its account", path: "/ui/o/lead/" + lead + "?flash=converted", status: 200,
				contains: []string{"Converted.", "/ui/o/account/" + acc}, notContain: []string{`href="` + conv + `"`}},
			{name: "a lead converts once", method: "POST", path: conv, form: url.Values{"t_account": {"id:" + acc}}, status: 409, contains: []string{"already converted"}},
			{name: "a duplicate lead is shown with its match", method: "POST", path: "/ui/o/lead", form: url.Values{"person": {"Li Lei again"}, "email": {"LI@westlake.example"}}, status: 409,
				contains: []string{"Records like this one exist already", `href="/ui/o/lead/` + lead + `"`, `name="allow_duplicate"`}, notContain: []string{"Reload"}},
			{name: "and created anyway where the rule only warns", method: "POST", path: "/ui/o/lead", form: url.Values{"person": {"Li Lei again"}, "email": {"LI@westlake.example"}, "allow_duplicate": {"true"}}, status: 303},
			{name: "state buttons of the opportunity", path: "/ui/o/opportunity/" + opp, status: 200,
				contains:   []string{`action="/ui/o/opportunity/` + opp + `/state"`, `value="negotiation">Negotiate`, `value="won">Mark as won`},
				notContain: []string{`value="qualify">`}},
			{name: "a state button moves the stage", method: "POST", path: "/ui/o/opportunity/" + opp + "/state", form: url.Values{"field": {"stage"}, "to": {"negotiation"}, "version": {"1"}}, status: 303},
			{name: "a transition the workflow forbids is refused", method: "POST", path: "/ui/o/opportunity/" + opp + "/state", form: url.Values{"field": {"stage"}, "to": {"qualify"}, "version": {"2"}}, status: 422,
				contains: []string{"stage"}},
			{name: "submitted for approval", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/submit", form: url.Values{"comment": {"15 % for a first order"}}, status: 303},
			{name: "the request shows on the record", path: "/ui/o/opportunity/" + opp, status: 200,
				contains:   []string{"Discount approval", "Pending", "Sales manager", "15 % for a first order", `actions/recall"`, "Locked while Discount approval waits for a decision"},
				notContain: []string{`actions/submit"`, `actions/approve"`, `href="/ui/o/opportunity/` + opp + `/edit"`, `/ui/o/opportunity/` + opp + `/delete"`}},
		})
		run(t, rep2, []pageCase{
			{name: "another rep's lead has no conversion page", path: conv, status: 404, notContain: []string{"Li Lei"}},
			{name: "nothing waits for rep2", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}, notContain: []string{"Tea machines"}},
		})
		// The decision forms carry the version the manager reads: a decision
		// on an older one is refused.
		_, page := mgr.get("/ui/o/opportunity/" + opp)
		if !regexp.MustCompile(`actions/approve" class="action">\s*<input type="hidden" name="_csrf"[^>]*>\s*<input type="hidden" name="version" value="\d+">`).MatchString(page) {
			t.Errorf("the approve form carries no version: %s", page)
		}
		run(t, mgr, []pageCase{
			{name: "a decision on an older version", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/approve", form: url.Values{"version": {"1"}}, status: 409, contains: []string{"changed since you read it"}},
			{name: "the approval waits on the manager's home", path: "/ui/", status: 200, contains: []string{"Waiting for you", "Tea machines", "Discount approval", "/ui/o/opportunity/" + opp}},
			{name: "the manager may decide", path: "/ui/o/opportunity/" + opp, status: 200,
				contains:   []string{`actions/approve"`, `actions/reject"`, "as its approver you may still change: Discount", `href="/ui/o/opportunity/` + opp + `/edit"`},
				notContain: []string{`actions/recall"`, `/ui/o/opportunity/` + opp + `/delete"`}},
			{name: "approved", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/approve", form: url.Values{"comment": {"fine"}}, status: 303},
			{name: "approved on the record", path: "/ui/o/opportunity/" + opp, status: 200, contains: []string{"Approved", "fine"}, notContain: []string{`actions/approve"`}},
			{name: "nothing waits any more", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}},
		})
		run(t, rep1, []pageCase{
			{name: "decided, the deal is the rep's to change again", path: "/ui/o/opportunity/" + opp, status: 200,
				contains: []string{`href="/ui/o/opportunity/` + opp + `/edit"`}, notContain: []string{"Locked while"}},
		})
		// A quote waiting for its discount approval offers no new line.
		product := s.Create("admin", "product", `{"name": "Widget", "code": "W-1", "list_price": 100}`)
		quote := s.Create("rep1", "quote", `{"name": "Offer", "account": "`+acc+`"}`)
		line := s.Create("rep1", "quote_line", `{"quote": "`+quote+`", "product": "`+product+`", "quantity": 2, "unit_price": 100, "discount": 20}`)
		newLine, editLine := `href="/ui/o/quote_line/new?quote=`+quote+`"`, `href="/ui/o/quote_line/`+line+`/edit"`
		run(t, rep1, []pageCase{
			// The unit price is the product's list price when left empty:
			// the new line's form does not make the browser ask for it.
			{name: "a new line's unit price may be left empty", path: "/ui/o/quote_line/new?quote=" + quote, status: 200,
				contains: []string{`id="f_unit_price"`, "Left empty, the product&#39;s price in the quote&#39;s price list, else its list price", `id="f_product"`}, notContain: []string{`id="f_unit_price" name="unit_price" type="number" inputmode="decimal" value="" step="0.01" min="0" required`}},
			{name: "a new line without its unit price", method: "POST", path: "/ui/o/quote_line", form: url.Values{"quote": {quote}, "product": {product}, "quantity": {"1.5"}, "discount": {"20"}}, status: 303},
		})
		_, list := s.Do("GET", "/api/records/quote_line?filter="+url.QueryEscape(`quote == "`+quote+`" && quantity == 1.5`), "rep1", "")
		if items, _ := list["items"].([]any); len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["unit_price"]) != "100.00" || fmt.Sprint(items[0].(map[string]any)["discount"]) != "20" {
			t.Fatalf("the line saved from the form, priced at the list price: %v", list)
		}
		run(t, rep1, []pageCase{
			{name: "a quote offers a new line", path: "/ui/o/quote/" + quote, status: 200, contains: []string{newLine}},
			{name: "its line may be edited", path: "/ui/o/quote_line/" + line, status: 200, contains: []string{editLine}, notContain: []string{"Locked:"}},
			{name: "the quote submitted", method: "POST", path: "/ui/o/quote/" + quote + "/actions/submit", status: 303},
			{name: "then offers none", path: "/ui/o/quote/" + quote, status: 200, contains: []string{"Locked while Quote discount approval waits"}, notContain: []string{newLine}},
			{name: "nor an edit of its line", path: "/ui/o/quote_line/" + line, status: 200,
				contains: []string{"Locked: its Quote waits for a decision of Quote discount approval"}, notContain: []string{editLine, "/ui/o/quote_line/" + line + "/delete"}},
		})
	})
}

// TestBuilderOfParts: the builder edits the documents of the parts'
// kinds (workflows, sales rules, reports) through the same checks and
// dry run as /api/meta/{kind}: a copy of an approval process with a bad
// formula is refused with its JSON pointer, a good one is planned,
// applied and in force at once.
func TestBuilderOfParts(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin := signedIn(t, s, "admin")
		kinds := []string{}
		for _, k := range []string{"approvals", "state_workflows", "automations", "conversions", "duplicate_rules", "assignment_rules", "web_forms", "reports", "dashboards"} {
			kinds = append(kinds, `href="/ui/admin/kinds/`+k+`"`)
		}
		run(t, admin, []pageCase{
			{name: "every kind in the builder", path: "/ui/admin/", status: 200, contains: kinds},
			{name: "an approval process offers a copy", path: "/ui/admin/kinds/approvals/discount_approval", status: 200, contains: []string{`href="/ui/admin/kinds/approvals/new?from=discount_approval"`}},
			{name: "the copy starts from it", path: "/ui/admin/kinds/approvals/new?from=discount_approval", status: 200, contains: []string{"discount_approval_copy", "entry_criteria"}},
			{name: "a web form's editor gives the HTML for the web site", path: "/ui/admin/kinds/web_forms/contact_us", status: 200,
				contains: []string{"On your web site", `<textarea id="snippet"`, "&lt;form", "/f/contact_us?lang=en", "_website"}},
			{name: "other kinds have none", path: "/ui/admin/kinds/approvals/discount_approval", status: 200, notContain: []string{`id="snippet"`}},
		})
		zh := signedIn(t, s, "admin")
		zh.get("/ui/")
		if st, _, _ := zh.post("/ui/lang", url.Values{"lang": {"zh"}, "back": {"/ui/"}}); st != 303 {
			t.Fatalf("switching to Chinese: %d", st)
		}
		run(t, zh, []pageCase{
			{name: "the web form's HTML in Chinese", path: "/ui/admin/kinds/web_forms/contact_us", status: 200, contains: []string{"嵌入网站", "/f/contact_us?lang=zh"}},
		})
		doc := `{"name": "big_deal", "object": "opportunity", "entry_criteria": "amount >", "steps": [{"name": "manager", "approvers": ["manager"]}]}`
		st, body, _ := admin.post("/ui/admin/kinds/approvals", url.Values{"doc": {doc}})
		if st != 422 || !strings.Contains(body, "entry_criteria") {
			t.Fatalf("a bad formula in a process: %d %s", st, body)
		}
		admin.review(t, "/ui/admin/kinds/approvals", url.Values{"doc": {strings.Replace(doc, "amount >", "amount > 1000000", 1)}}, "big_deal")
		run(t, admin, []pageCase{
			{name: "the new process is in force", path: "/ui/admin/kinds/approvals", status: 200, contains: []string{`href="/ui/admin/kinds/approvals/big_deal"`}},
		})
	})
}

// TestNotificationsOnHome: the unread in-app notifications an automation
// sent show on their recipient's home page with a link to the record,
// until marked read; another rep who may not read the record got none
// and sees none, and may not mark the manager's read.
func TestNotificationsOnHome(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		nextStepNotice(t, s, []any{"manager", map[string]string{"user": "rep2"}}, "Next step <b>now</b>")
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`"}`)
		if st, body := s.Do("PATCH", "/api/records/opportunity/"+opp, "rep1", `{"next_step": "Call Li", "version": 1}`); st != 200 {
			t.Fatalf("patch: %d %v", st, body)
		}
		s.RunJobs()
		_, list := s.Do("GET", "/api/notifications", "manager", "")
		items, _ := list["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("the manager's notifications: %v", list)
		}
		id, _ := items[0].(map[string]any)["id"].(string)
		mgr, rep2 := signedIn(t, s, "manager"), signedIn(t, s, "rep2")
		read := "/ui/notifications/" + id + "/read"
		run(t, rep2, []pageCase{
			{name: "rep2, who may not read the deal, has nothing", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}, notContain: []string{"Call Li", "Next step", read}},
			{name: "nor may mark the manager's read", method: "POST", path: read, status: 404},
		})
		run(t, mgr, []pageCase{
			{name: "the notification waits on the manager's home", path: "/ui/", status: 200,
				contains:   []string{`data-kind="notification"`, "Notification", `href="/ui/o/opportunity/` + opp + `"`, "Next step &lt;b&gt;now&lt;/b&gt;", "Deal: Call Li", `action="` + read + `"`},
				notContain: []string{"Nothing waits for you.", "<b>now</b>"}},
			{name: "marked read", method: "POST", path: read, status: 303},
			{name: "gone from the home page", path: "/ui/?flash=marked_read", status: 200, contains: []string{"Marked as read.", "Nothing waits for you."}, notContain: []string{"Call Li"}},
			{name: "an unknown one", method: "POST", path: "/ui/notifications/nope/read", status: 404},
		})
	})
}

// TestReminderOnHome: a reminder that came due shows on its recipient's
// home as a reminder, linking to the record; another rep has none.
func TestReminderOnHome(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		var now atomic.Pointer[time.Time]
		at := func(s string) {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			now.Store(&tm)
		}
		at("2026-06-01T08:00:00Z")
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: func() time.Time { return *now.Load() }}})
		if st, body := s.Do("POST", "/api/meta/reminders", "admin", `{"name": "closing_tomorrow", "object": "opportunity",
			"when": {"field": "close_date", "offset": "-1d", "at": "09:00"}, "recipients": ["owner"], "channels": ["in_app"],
			"subject": {"en": "Closing tomorrow: {{name}}", "zh": "明天成交：{{name}}"}, "message": {"en": "{{name}} closes on {{close_date}}"}}`); st != 201 {
			t.Fatalf("reminder: %d %v", st, body)
		}
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Boilers", "account": "`+acc+`", "stage": "proposal", "close_date": "2026-06-05"}`)
		s.RunJobs()
		at("2026-06-04T10:00:00Z")
		if _, _, err := s.Platform.Engine.Jobs().Enqueue(t.Context(), s.DB.SQL(), jobs.Spec{Kind: reminders.KindScan}); err != nil {
			t.Fatal(err)
		}
		s.RunJobs()
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "the reminder on the owner's home", path: "/ui/", status: 200,
				contains: []string{`data-kind="reminder"`, "Reminder", `href="/ui/o/opportunity/` + opp + `"`, "Closing tomorrow: Boilers", "Boilers closes on 2026-06-05", "Mark as read"}},
		})
		run(t, signedIn(t, s, "rep2"), []pageCase{
			{name: "none on another rep's", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}, notContain: []string{"Boilers"}},
		})
	})
}

// TestReassignApproval: an administrator gives a pending approval to
// another approver from the record's page (the new approver chosen among
// the active users; the one replaced needs no choice when the step has
// one); a sales rep, who holds no reassign right, is offered no such
// form and is refused when posting one.
func TestReassignApproval(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "discount": 15, "stage": "proposal"}`)
		if st, body := s.Do("POST", "/api/records/opportunity/"+opp+"/actions/submit", "rep1", `{"comment": "first order"}`); st != 200 {
			t.Fatalf("submit: %d %v", st, body)
		}
		page, action := "/ui/o/opportunity/"+opp, "/ui/o/opportunity/"+opp+"/actions/reassign"
		// A fresh form for each post: a post adds its client's CSRF token.
		to := func() url.Values { return url.Values{"to": {s.UserID("admin")}, "comment": {"the manager is away"}} }
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "no reassignment for the submitter", path: page, status: 200, contains: []string{"Pending"}, notContain: []string{`action="` + action + `"`}},
			{name: "nor may the submitter post one", method: "POST", path: action, form: to(), status: 403},
		})
		run(t, signedIn(t, s, "admin"), []pageCase{
			{name: "the administrator may reassign", path: page, status: 200,
				contains:   []string{`action="` + action + `"`, `<select id="to-reassign" name="to" required>`, `value="` + s.UserID("admin") + `"`, "New approver"},
				notContain: []string{`name="from"`}},
			{name: "reassigned", method: "POST", path: action, form: to(), status: 303},
			{name: "the administrator decides now", path: page, status: 200, contains: []string{`actions/approve"`, "the manager is away"}},
			{name: "an unknown approver is refused", method: "POST", path: action, form: url.Values{"to": {"nobody"}}, status: 422, contains: []string{"not an active user"}},
		})
		run(t, signedIn(t, s, "manager"), []pageCase{
			{name: "nothing waits for the manager any more", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}},
		})
	})
}

// TestSubmitChoosesProcess: where an object has several approval
// processes, the submit on a record's page chooses one (or leaves it to
// the first whose entry criteria the record meets); a process whose
// criteria the record does not meet is refused with the reason.
func TestSubmitChoosesProcess(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Run(t, []apitest.Scenario{{Name: "a second process", Method: "POST", Path: "/api/meta/approvals", User: "admin", Status: 201,
			Body: `{"name": "big_deal", "label": {"en": "Big deal review", "zh": "大单审批"}, "object": "opportunity", "entry_criteria": "amount > 1000",
				"entry_message": {"en": "only deals above 1,000"}, "steps": [{"name": "manager", "approvers": ["manager"]}]}`}})
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		small := s.Create("rep1", "opportunity", `{"name": "Tea cups", "account": "`+acc+`", "amount": "800", "discount": 15, "stage": "proposal"}`)
		big := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "discount": 15, "stage": "proposal"}`)
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "the submit offers the processes", path: "/ui/o/opportunity/" + big, status: 200,
				contains: []string{`<select id="process-submit" name="process"><option value="">`, `<option value="big_deal">Big deal review</option>`, `<option value="discount_approval">`}},
			{name: "submitted into the chosen one", method: "POST", path: "/ui/o/opportunity/" + big + "/actions/submit", form: url.Values{"process": {"big_deal"}}, status: 303},
			{name: "which is pending", path: "/ui/o/opportunity/" + big, status: 200, contains: []string{"Big deal review", "Pending"}},
			{name: "a process the deal does not fit is refused", path: "/ui/o/opportunity/" + small, status: 200},
			{name: "with its reason", method: "POST", path: "/ui/o/opportunity/" + small + "/actions/submit", form: url.Values{"process": {"big_deal"}}, status: 422, contains: []string{"only deals above 1,000"}},
		})
	})
}

// TestConvertWithTitle: the conversion page names the new records where
// the user wants another name than the mapped one (the new opportunity's
// here), and the conversion creates them so.
func TestConvertWithTitle(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		lead := s.Create("rep1", "lead", `{"person": "Han Mei", "company": "Jade River Foods", "email": "han@jaderiver.example", "status": "new"}`)
		conv := "/ui/o/lead/" + lead + "/convert"
		rep1 := signedIn(t, s, "rep1")
		run(t, rep1, []pageCase{
			{name: "each new record's name may be given", path: conv, status: 200,
				contains: []string{`<input id="v_opportunity" name="v_opportunity" value=""`, `<input id="v_account" name="v_account"`, "of the new record"}},
		})
		rep1.get(conv)
		run(t, rep1, []pageCase{
			{name: "converted with the deal's name", method: "POST", path: conv, form: url.Values{"t_account": {"new"}, "t_opportunity": {"new"}, "v_opportunity": {"Jade River: cold chain"}, "v_account": {""}}, status: 303},
		})
		_, list := s.Do("GET", "/api/records/opportunity?filter="+url.QueryEscape(`name == "Jade River: cold chain"`), "rep1", "")
		if items, _ := list["items"].([]any); len(items) != 1 {
			t.Fatalf("the new opportunity by its given name: %v", list)
		}
		_, list = s.Do("GET", "/api/records/account?filter="+url.QueryEscape(`name == "Jade River Foods"`), "rep1", "")
		if items, _ := list["items"].([]any); len(items) != 1 {
			t.Fatalf("the new account keeps its mapped name: %v", list)
		}
	})
}

// nextStepNotice adds an automation sending an in-app notification to
// the users to (roles or {"user": name}) when an opportunity's next step
// changes: the subject in English, the message "{{name}}: {{next_step}}".
func nextStepNotice(t *testing.T, s *apitest.Server, to []any, subject string) {
	t.Helper()
	doc, _ := json.Marshal(map[string]any{
		"name": "next_step_notice", "object": "opportunity", "changed": []string{"next_step"},
		"actions": []any{map[string]any{"notify": map[string]any{
			"channels": []string{"in_app"}, "to": to,
			"subject": map[string]string{"en": subject, "zh": "下一步"},
			"message": map[string]string{"en": "{{name}}: {{next_step}}", "zh": "{{name}}：{{next_step}}"},
		}}},
	})
	if st, body := s.Do("POST", "/api/meta/automations", "admin", string(doc)); st != 201 {
		t.Fatalf("automation: %d %v", st, body)
	}
}
