package definition

import (
	"testing"
	"time"
	_ "time/tzdata" // America/New_York on machines without a zone database

	"github.com/crmplatform/crm/metadata"
)

func TestReminderDue(t *testing.T) {
	o, ps := metadata.ParseObject("deal.yaml", []byte(`
name: deal
fields:
  - {name: name, type: text}
  - {name: close_date, type: date}
  - {name: meeting, type: datetime}
`))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	s := &metadata.Schema{Objects: []*metadata.Object{o}}
	shanghai := time.FixedZone("CST", 8*3600)
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	cases := []struct {
		name      string
		when      When
		value     any
		now       string
		due, fire string // "" when not due
		loc       *time.Location
	}{
		{"three days before, at nine", When{Field: "close_date", Offset: "-3d"}, "2026-03-10", "2026-03-01T00:00:00Z", "2026-03-07T09:00:00Z", "2026-03-07T09:00:00Z", time.UTC},
		{"in the server's time zone", When{Field: "close_date", Offset: "-3d", At: "08:30"}, "2026-03-10", "2026-03-01T00:00:00Z", "2026-03-07T00:30:00Z", "2026-03-07T00:30:00Z", shanghai},
		{"days on the calendar across a change to summer time", When{Field: "close_date", Offset: "-3d"}, "2026-03-10", "2026-03-01T00:00:00Z", "2026-03-07T14:00:00Z", "2026-03-07T14:00:00Z", newYork},
		{"hours as durations across a change to summer time", When{Field: "meeting", Offset: "-24h"}, at("2026-03-09T13:00:00Z"), "2026-03-01T00:00:00Z", "2026-03-08T13:00:00Z", "2026-03-08T13:00:00Z", newYork},
		{"late: at once while the date is ahead", When{Field: "close_date", Offset: "-3d"}, "2026-03-10", "2026-03-09T12:00:00Z", "2026-03-07T09:00:00Z", "2026-03-09T12:00:00Z", time.UTC},
		{"past: not due", When{Field: "close_date", Offset: "-3d"}, "2026-03-10", "2026-03-11T12:00:00Z", "", "", time.UTC},
		{"an hour after a datetime", When{Field: "meeting", Offset: "+1h"}, at("2026-03-10T14:00:00Z"), "2026-03-01T00:00:00Z", "2026-03-10T15:00:00Z", "2026-03-10T15:00:00Z", time.UTC},
		{"thirty minutes before", When{Field: "meeting", Offset: "-30m"}, at("2026-03-10T14:00:00Z"), "2026-03-01T00:00:00Z", "2026-03-10T13:30:00Z", "2026-03-10T13:30:00Z", time.UTC},
		{"a week before", When{Field: "close_date", Offset: "-1w", At: "10:00"}, "2026-03-10", "2026-03-01T00:00:00Z", "2026-03-03T10:00:00Z", "2026-03-03T10:00:00Z", time.UTC},
		{"empty field", When{Field: "close_date"}, nil, "2026-03-01T00:00:00Z", "", "", time.UTC},
		{"yearly: this year", When{Yearly: "close_date"}, "1980-03-05", "2026-03-01T00:00:00Z", "2026-03-05T09:00:00Z", "2026-03-05T09:00:00Z", time.UTC},
		{"yearly: passed, next year", When{Yearly: "close_date"}, "1980-03-05", "2026-03-05T09:00:01Z", "2027-03-05T09:00:00Z", "2027-03-05T09:00:00Z", time.UTC},
		{"yearly: the day before", When{Yearly: "close_date", Offset: "-1d"}, "1980-03-05", "2026-03-01T00:00:00Z", "2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z", time.UTC},
		{"yearly: February 29 in another year", When{Yearly: "close_date"}, "1992-02-29", "2027-01-01T00:00:00Z", "2027-02-28T09:00:00Z", "2027-02-28T09:00:00Z", time.UTC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cr, ps := buildReminder(s, &Reminder{Name: "r", Object: "deal", When: c.when, Recipients: []Party{{Is: PartyOwner}}, Channels: []string{ChannelInApp}, Message: metadata.Label{"en": "x"}})
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			due, fire, ok := cr.Due(map[string]any{c.when.Field + c.when.Yearly: c.value}, at(c.now), c.loc)
			if c.due == "" {
				if ok {
					t.Fatalf("due %v, want none", due)
				}
				return
			}
			if !ok || !due.Equal(at(c.due)) || !fire.Equal(at(c.fire)) {
				t.Fatalf("due %v fire %v (%v), want %s %s", due, fire, ok, c.due, c.fire)
			}
		})
	}
}
