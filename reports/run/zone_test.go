package run

import (
	"testing"
	"time"
)

func TestZoneChanges(t *testing.T) {
	var z zones
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	if ch := z.changes(load("Asia/Shanghai")); len(ch) != 1 || ch[0].minutes != 480 {
		t.Errorf("Shanghai: %v, want one offset of 480 minutes", ch)
	}
	if ch := z.changes(load("Asia/Kolkata")); len(ch) != 1 || ch[0].minutes != 330 {
		t.Errorf("Kolkata: %v, want one offset of 330 minutes", ch)
	}
	la := z.changes(load("America/Los_Angeles"))
	if len(la) < 190 || la[0].minutes != -480 {
		t.Fatalf("Los Angeles: %d changes from %d, want two a year from -480", len(la), la[0].minutes)
	}
	// Each instant's offset is the one of the last change at or before it,
	// as Go's time zone database says.
	for _, at := range []string{"2026-03-08T09:59:59Z", "2026-03-08T10:00:00Z", "2026-07-01T07:30:00Z", "2026-11-01T08:59:59Z", "2026-11-01T09:00:00Z", "1999-07-01T00:00:00Z"} {
		tt, _ := time.Parse(time.RFC3339, at)
		got := la[0].minutes
		for _, c := range la[1:] {
			if !tt.Before(c.from) {
				got = c.minutes
			}
		}
		want := -480
		if tt.Year() >= 2000 {
			_, off := tt.In(load("America/Los_Angeles")).Zone()
			want = off / 60
		}
		if got != want {
			t.Errorf("%s: offset %d, want %d", at, got, want)
		}
	}
	if got := z.changes(load("America/Los_Angeles")); &got[0] != &la[0] {
		t.Error("the changes of a zone are computed once")
	}
}
