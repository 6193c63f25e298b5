package reminders_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/mailserver/mailtest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/workflows/reminders"
	"github.com/emersion/go-smtp"
)

// clock is a settable clock shared by the servers of a test.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) Now() time.Time   { return *c.t.Load() }
func (c *clock) at(s string)      { c.set(mustTime(s)) }
func mustTime(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
func (c *clock) platform() apitest.Options {
	return apitest.Options{Template: defaults.WithBases(reminderTemplate), Platform: platform.Config{Now: c.Now}}
}

// sms is what the SMS webhook received.
type smsBox struct {
	mu   sync.Mutex
	msgs []map[string]string
}

func (b *smsBox) to(phone string) []map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]string
	for _, m := range b.msgs {
		if m["to"] == phone {
			out = append(out, m)
		}
	}
	return out
}

// startSMS serves the SMS webhook with httptest.
func startSMS(t *testing.T) (*smsBox, string) {
	box := &smsBox{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		box.mu.Lock()
		box.msgs = append(box.msgs, m)
		box.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return box, srv.URL
}

// reminderTemplate adds reminders to the standard template (replacing its
// two): a birthday (yearly), three days before a close date, a formula
// becoming true, and a day after an account's creation with a field one
// recipient may not read.
var reminderTemplate = fstest.MapFS{
	"template.yaml": {Data: []byte("name: reminders\nextends: standard")},
	"reminders/contact_birthday.yaml": {Data: []byte(`
name: contact_birthday
label: {en: Birthday, zh: 生日}
object: contact
when: {yearly: birthday, at: "09:00"}
recipients: [owner]
channels: [in_app, email]
subject: {en: "Birthday: {{name}}", zh: "生日：{{name}}"}
message: {en: "{{name}} has a birthday on {{birthday}}", zh: "{{name}} 的生日是 {{birthday}}"}
`)},
	"reminders/opportunity_closing.yaml": {Data: []byte(`
name: opportunity_closing
object: opportunity
when: {field: close_date, offset: -3d}
condition: "stage not in ['won', 'lost']"
recipients: [owner, manager, {user: rep2}]
channels: [in_app, sms]
message: {en: "{{name}} closes on {{close_date}}, stage {{stage}}", zh: "{{name}} 将于 {{close_date}} 成交，阶段：{{stage}}"}
`)},
	"reminders/big_deal.yaml": {Data: []byte(`
name: big_deal
object: opportunity
when: {formula: "amount > 1000000"}
recipients: [manager]
channels: [in_app, email]
message: {en: "{{name}} is big: {{amount}}", zh: "大单：{{name}}，金额 {{amount}}"}
`)},
	"reminders/account_check.yaml": {Data: []byte(`
name: account_check
object: account
when: {field: created_at, offset: +1d}
recipients: [owner, {role: service_agent}]
channels: [in_app, email]
message: {en: "Check {{name}}: credit {{credit_limit}}"}
`)},
}

// scan runs the due-reminder scan and every job due after it on the
// servers at once, as several servers sharing the database do.
func scan(t *testing.T, servers ...*apitest.Server) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := servers[0].Platform.Engine.Jobs().Enqueue(ctx, servers[0].DB.SQL(), jobs.Spec{Kind: reminders.KindScan}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Platform.Engine.Jobs().Drain(ctx, jobs.DrainOptions{})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// notifications returns the count of a user's notifications whose JSON
// holds every part.
func notifications(t *testing.T, s *apitest.Server, user string, parts ...string) int {
	t.Helper()
	s.Login(user, user+"-password") // the clock moved past the last token's life
	status, m := s.Do("GET", "/api/notifications", user, "")
	if status != 200 {
		t.Fatalf("notifications of %s: %d %v", user, status, m)
	}
	n := 0
	for _, it := range m["items"].([]any) {
		raw, _ := json.Marshal(it)
		all := true
		for _, p := range parts {
			all = all && strings.Contains(string(raw), p)
		}
		if all {
			n++
		}
	}
	return n
}

// TestReminders covers the Done-when items of reminders on both
// databases: a birthday, a date with an offset and a formula becoming
// true delivered once across a restart and with two servers; a recipient
// who cannot read the record gets nothing; fields a recipient may not read
// are left out; a changed date re-plans, a failing condition and a deleted
// record cancel; e-mail through an SMTP server and SMS through a webhook.
func TestReminders(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		box, smtpURL := mailtest.Start(t)
		texts, smsURL := startSMS(t)
		t.Setenv("CRM_SMTP_URL", smtpURL)
		t.Setenv("CRM_SMS_WEBHOOK_URL", smsURL)
		clk := newClock(mustTime("2026-03-01T08:00:00Z"))
		s := apitest.New(t, db, clk.platform())
		ctx := context.Background()
		for user, u := range map[string]access.UserUpdate{
			"rep1":    {Email: ptr("rep1@example.com"), Phone: ptr("+1 555 0101")},
			"manager": {Email: ptr("manager@example.com"), Phone: ptr("+86 138 0000 0001"), Language: ptr("zh")},
			"rep2":    {Email: ptr("rep2@example.com"), Phone: ptr("+1 555 0102")},
			"agent":   {Email: ptr("agent@example.com")},
		} {
			if _, err := s.Platform.Access.UpdateUser(ctx, user, u); err != nil {
				t.Fatal(err)
			}
		}
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		if status, m := s.Do("PATCH", "/api/records/account/"+acc, "admin", `{"version": 1, "credit_limit": 5000}`); status != 200 {
			t.Fatalf("credit limit: %d %v", status, m)
		}
		s.Create("rep1", "contact", `{"name": "Li Lei", "account": "`+acc+`", "birthday": "1980-03-05"}`)
		gone := s.Create("rep1", "contact", `{"name": "Han Meimei", "account": "`+acc+`", "birthday": "1990-03-06"}`)
		deal := s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`", "amount": 5000, "close_date": "2026-03-10"}`)
		lost := s.Create("rep1", "opportunity", `{"name": "Lost cause", "account": "`+acc+`", "close_date": "2026-03-12"}`)
		if status, m := s.Do("PATCH", "/api/records/opportunity/"+deal, "rep1", `{"version": 1, "amount": 2000000}`); status != 200 {
			t.Fatalf("amount: %d %v", status, m)
		}

		// Nothing is due yet but the formula that became true.
		scan(t, s)
		if n := notifications(t, s, "manager", `"source":"reminder:big_deal"`, "大单：Deal，金额 2,000,000.00"); n != 1 {
			t.Fatalf("big deal notifications of the manager: %d", n)
		}
		if got := box.To("manager@example.com"); len(got) != 1 || !strings.Contains(got[0].Text, "大单：Deal") {
			t.Fatalf("big deal e-mail: %+v", got)
		}
		if notifications(t, s, "rep1") != 0 {
			t.Fatal("rep1 got something before it was due")
		}

		// The server is down over the account's check (due 03-02 08:00)
		// and comes back on 03-02 at noon as two servers: delivered once,
		// without the credit limit to the agent, who may not read it.
		if status, _ := s.Do("DELETE", "/api/records/contact/"+gone, "admin", ""); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		if status, m := s.Do("PATCH", "/api/records/opportunity/"+lost, "rep1", `{"version": 1, "stage": "lost"}`); status != 200 {
			t.Fatalf("lost: %d %v", status, m)
		}
		clk.at("2026-03-02T12:00:00Z")
		s2 := s.Another(clk.platform())
		scan(t, s, s2)
		scan(t, s2, s)
		if n := notifications(t, s, "rep1", `"source":"reminder:account_check"`, "Check Acme: credit 5,000.00"); n != 1 {
			t.Fatalf("account check of rep1: %d", n)
		}
		if n := notifications(t, s, "agent", "Check Acme: credit \""); n != 1 {
			t.Fatalf("account check of the agent, without the credit limit: %d", n)
		}
		if got := box.To("agent@example.com"); len(got) != 1 || strings.Contains(got[0].Text, "5,000") {
			t.Fatalf("the agent's e-mail shows the hidden credit limit or is missing: %+v", got)
		}
		if got := box.To("rep1@example.com"); len(got) != 1 || strings.TrimSpace(got[0].Text) != "Check Acme: credit 5,000.00" || got[0].Subject != "Account" {
			t.Fatalf("rep1's e-mail: %+v", got)
		}

		// The birthday, after a restart (a new server on the database).
		clk.at("2026-03-05T09:30:00Z")
		s3 := s.Another(clk.platform())
		scan(t, s3, s2)
		if n := notifications(t, s3, "rep1", "Li Lei has a birthday on 1980-03-05"); n != 1 {
			t.Fatalf("birthday notifications: %d", n)
		}
		if got := box.To("rep1@example.com"); len(got) != 2 || got[1].Subject != "Birthday: Li Lei" {
			t.Fatalf("birthday e-mail: %+v", got)
		}

		// The close date moves: the reminder moves with it.
		s.Login("rep1", "rep1-password")
		if status, m := s.Do("PATCH", "/api/records/opportunity/"+deal, "rep1", `{"version": 2, "close_date": "2026-03-20"}`); status != 200 {
			t.Fatalf("close date: %d %v", status, m)
		}
		clk.at("2026-03-08T10:00:00Z")
		scan(t, s, s3)
		if texts.to("+1 555 0101") != nil {
			t.Fatal("the closing reminder went out for the old date")
		}
		clk.at("2026-03-17T09:05:00Z")
		scan(t, s3, s)
		scan(t, s, s2)
		if got := texts.to("+1 555 0101"); len(got) != 1 || got[0]["text"] != "Deal closes on 2026-03-20, stage Qualify" {
			t.Fatalf("rep1's SMS: %+v", got)
		}
		if got := texts.to("+86 138 0000 0001"); len(got) != 1 || got[0]["text"] != "Deal 将于 2026-03-20 成交，阶段：初步接触" {
			t.Fatalf("the manager's SMS: %+v", got)
		}
		if texts.to("+1 555 0102") != nil || notifications(t, s, "rep2") != 0 {
			t.Fatal("rep2, who cannot read the deal, got its reminder")
		}
		if n := notifications(t, s, "rep1", `"source":"reminder:opportunity_closing"`); n != 1 {
			t.Fatalf("closing notifications: %d (the lost deal's was cancelled)", n)
		}

		// Next year's birthday is planned; the deleted contact's is not.
		var planned []string
		rows, err := s.DB.SQL().QueryContext(ctx, "SELECT reminder, record_id FROM crm_reminder_schedule ORDER BY reminder")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r, id string
			rows.Scan(&r, &id)
			planned = append(planned, r+":"+id)
		}
		rows.Close()
		if len(planned) != 1 || !strings.HasPrefix(planned[0], "contact_birthday:") || strings.HasSuffix(planned[0], gone) {
			t.Fatalf("planned: %v", planned)
		}
		clk.at("2027-03-05T10:00:00Z")
		scan(t, s2)
		if n := notifications(t, s, "rep1", "Li Lei has a birthday"); n != 2 {
			t.Fatalf("birthdays over two years: %d", n)
		}
		if n := notifications(t, s2, "manager", `"source":"reminder:big_deal"`); n != 1 || len(box.To("manager@example.com")) != 1 {
			t.Fatalf("the formula's reminder after scans on three servers: %d notification(s), %d e-mail(s)", n, len(box.To("manager@example.com")))
		}
	})
}

func ptr(s string) *string { return &s }

// TestStandardReminders delivers the standard template's reminders: a
// contact's birthday, a deal closing in three days and an instalment of a
// contract's payment plan overdue, to the owner (and the owner's manager).
func TestStandardReminders(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		clk := newClock(mustTime("2026-05-01T08:00:00Z"))
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: clk.Now}})
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		s.Create("rep1", "contact", `{"name": "Li Lei", "account": "`+acc+`", "birthday": "1985-05-02"}`)
		s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`", "amount": 800, "close_date": "2026-05-04"}`)
		contract := s.Create("rep1", "contract", `{"name": "Supply", "account": "`+acc+`", "amount": 1000}`)
		s.Create("rep1", "payment_plan", `{"name": "First instalment", "contract": "`+contract+`", "due_date": "2026-05-01", "amount": 400}`)
		s.Create("rep1", "payment_plan", `{"name": "Later instalment", "contract": "`+contract+`", "due_date": "2026-06-01", "amount": 600}`)
		// The contract comes into force after its instalments were
		// planned (a change of another record than theirs); a draft's
		// instalments are nobody's overdue payment.
		s.Run(t, []apitest.Scenario{{Name: "the contract comes into force", User: "rep1", Method: "PATCH", Path: "/api/records/contract/" + contract, Body: `{"status": "active", "version": 1}`, Status: 200}})
		draft := s.Create("rep1", "contract", `{"name": "Draft supply", "account": "`+acc+`", "amount": 500}`)
		draftLine := s.Create("rep1", "payment_plan", `{"name": "Draft instalment", "contract": "`+draft+`", "due_date": "2026-05-01", "amount": 500}`)
		stopped := s.Create("rep1", "contract", `{"name": "Stopped supply", "account": "`+acc+`", "amount": 500}`)
		stoppedLine := s.Create("rep1", "payment_plan", `{"name": "Stopped instalment", "contract": "`+stopped+`", "due_date": "2026-05-01", "amount": 500}`)
		s.RunJobs()
		clk.at("2026-05-02T09:01:00Z")
		scan(t, s)
		if n := notifications(t, s, "rep1", `"subject":"Birthday: Li Lei"`, "Today is the birthday of Li Lei (Acme)"); n != 1 {
			t.Fatalf("birthday: %d", n)
		}
		if n := notifications(t, s, "rep1", `"subject":"Closing in 3 days: Deal"`, "Deal (Acme) is expected to close on 2026-05-04; it is at stage Qualify with 800.00"); n != 1 {
			t.Fatalf("closing, the owner: %d", n)
		}
		if n := notifications(t, s, "manager", `"subject":"Closing in 3 days: Deal"`); n != 1 {
			t.Fatalf("closing, the manager: %d", n)
		}
		if n := notifications(t, s, "rep1", `"subject":"Payment overdue: First instalment"`, "Instalment First instalment of Supply was due on 2026-05-01; 400.00 is still outstanding."); n != 1 {
			t.Fatalf("overdue payment, the owner: %d", n)
		}
		if n := notifications(t, s, "manager", `"subject":"Payment overdue: First instalment"`); n != 1 {
			t.Fatalf("overdue payment, the manager: %d", n)
		}
		if n := notifications(t, s, "rep1", "Draft instalment"); n != 0 {
			t.Fatalf("an instalment of a draft contract: %d", n)
		}
		if n := notifications(t, s, "rep1", "Later instalment"); n != 0 {
			t.Fatalf("an instalment not yet due: %d", n)
		}
		if n := notifications(t, s, "rep2"); n != 0 {
			t.Fatalf("rep2 got %d", n)
		}
		// The draft comes into force once its instalment is overdue: the
		// reminder, judged again a day after it was due, comes then, once
		// (an edit of the instalment meanwhile keeps it). One that never
		// holds is judged again for 32 days, then dropped.
		s.Run(t, []apitest.Scenario{
			{Name: "the overdue instalment edited", User: "rep1", Method: "PATCH", Path: "/api/records/payment_plan/" + draftLine, Body: `{"notes": "Chased by phone", "version": 1}`, Status: 200},
			{Name: "the draft comes into force", User: "rep1", Method: "PATCH", Path: "/api/records/contract/" + draft, Body: `{"status": "active", "version": 1}`, Status: 200},
		})
		for _, at := range []string{"2026-05-03T08:59:00Z", "2026-05-03T09:01:00Z", "2026-05-06T09:01:00Z"} {
			clk.at(at)
			scan(t, s)
			if n, want := notifications(t, s, "rep1", `"subject":"Payment overdue: Draft instalment"`), map[bool]int{true: 0, false: 1}[at < "2026-05-03T09"]; n != want {
				t.Fatalf("at %s, the instalment of the contract put in force: %d, want %d", at, n, want)
			}
		}
		planned := func() int {
			var n int
			if err := db.SQL().QueryRow(store.Rebind(db.Dialect, `SELECT COUNT(*) FROM crm_reminder_schedule WHERE record_id = ?`), stoppedLine).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := planned(); n != 1 {
			t.Fatalf("the terminated contract's instalment is to be judged again: %d", n)
		}
		clk.at("2026-06-04T09:01:00Z")
		scan(t, s)
		if n := planned(); n != 0 || notifications(t, s, "rep1", "Stopped instalment") != 0 {
			t.Fatalf("32 days after it was due, it is no longer judged: %d planned", n)
		}
	})
}

// failingBox is a mailbox whose server refuses the first fail messages.
type failingBox struct {
	mailtest.Mailbox
	fail atomic.Int32
}

func (b *failingBox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &failingSession{Session: mailtest.Session{Box: &b.Mailbox}, b: b}, nil
}

type failingSession struct {
	mailtest.Session
	b *failingBox
}

func (s *failingSession) Data(r io.Reader) error {
	if s.b.fail.Add(-1) >= 0 {
		io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	return s.Session.Data(r)
}

// TestTimeZoneAndRetries runs the standard birthday reminder on a server
// in Shanghai: due at nine there (01:00 UTC), not before. The mail server
// refuses the first attempt: the in-app notification is there at once,
// the e-mail job waits for its retry with the error (as crm jobs lists
// it), and the retry sends it, once.
func TestTimeZoneAndRetries(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		box := &failingBox{}
		box.fail.Store(1)
		t.Setenv("CRM_SMTP_URL", mailtest.Serve(t, box))
		shanghai := time.FixedZone("CST", 8*3600)
		clk := newClock(mustTime("2026-05-01T08:00:00Z"))
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: clk.Now, Location: shanghai}})
		ctx := context.Background()
		if _, err := s.Platform.Access.UpdateUser(ctx, "rep1", access.UserUpdate{Email: ptr("rep1@example.com")}); err != nil {
			t.Fatal(err)
		}
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		s.Create("rep1", "contact", `{"name": "Li Lei", "account": "`+acc+`", "birthday": "1985-05-02"}`)

		clk.at("2026-05-02T00:59:00Z") // 08:59 in Shanghai
		scan(t, s)
		if n := notifications(t, s, "rep1"); n != 0 {
			t.Fatalf("%d notification(s) before nine in Shanghai", n)
		}
		clk.at("2026-05-02T01:01:00Z")
		runner := s.Platform.Engine.Jobs()
		if _, _, err := runner.Enqueue(ctx, s.DB.SQL(), jobs.Spec{Kind: reminders.KindScan}); err != nil {
			t.Fatal(err)
		}
		if err := runner.Drain(ctx, jobs.DrainOptions{}); err == nil || !strings.Contains(err.Error(), "try again later") {
			t.Fatalf("the refused send: %v", err)
		}
		if n := notifications(t, s, "rep1", `"subject":"Birthday: Li Lei"`); n != 1 {
			t.Fatalf("in-app birthday: %d", n)
		}
		waiting, err := runner.List(ctx, jobs.Filter{Kind: reminders.KindEmail})
		if err != nil {
			t.Fatal(err)
		}
		if len(waiting) != 1 || waiting[0].State != jobs.Pending || waiting[0].Attempts != 1 ||
			!strings.Contains(waiting[0].LastError, "try again later") || !waiting[0].RunAt.After(clk.Now()) || len(box.To("rep1@example.com")) != 0 {
			t.Fatalf("the e-mail job after a refusal: %+v", waiting)
		}
		clk.set(waiting[0].RunAt.Add(time.Second))
		scan(t, s)
		scan(t, s)
		if got := box.To("rep1@example.com"); len(got) != 1 || got[0].Subject != "Birthday: Li Lei" {
			t.Fatalf("e-mail after the retry: %+v", got)
		}
		done, err := runner.List(ctx, jobs.Filter{Kind: reminders.KindEmail})
		if err != nil || len(done) != 1 || done[0].State != jobs.Done {
			t.Fatalf("the e-mail job after the retry: %+v %v", done, err)
		}
		if n := notifications(t, s, "rep1"); n != 1 {
			t.Fatalf("in-app notifications after the retry: %d", n)
		}
	})
}
