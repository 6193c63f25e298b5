package templates

import (
	"testing"
	"time"
)

// TestRelativeDate reads sample cells written relative to the day of the
// load, and refuses what is not one.
func TestRelativeDate(t *testing.T) {
	t.Parallel()
	shanghai := time.FixedZone("CST", 8*3600)
	today := time.Date(2026, 12, 31, 0, 0, 0, 0, shanghai)
	tests := []struct {
		cell, want string
		bad        bool
	}{
		{cell: "today", want: "2026-12-31T00:00:00+08:00"},
		{cell: "today+1", want: "2027-01-01T00:00:00+08:00"},
		{cell: "today-365", want: "2025-12-31T00:00:00+08:00"},
		{cell: "today-2 14:30", want: "2026-12-29T14:30:00+08:00"},
		{cell: "today 00:00", want: "2026-12-31T00:00:00+08:00"},
		{cell: "today+x", bad: true},
		{cell: "today 25:00", bad: true},
		{cell: "today-1 9:30", bad: true},
		{cell: "todays", bad: true},
	}
	for _, tt := range tests {
		got, err := relativeDate(tt.cell, today)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: accepted as %v", tt.cell, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("%q: %v, %v; want %s", tt.cell, got, err, tt.want)
		}
	}
}
