package bench

import (
	"testing"
	"time"
)

// TestMedian checks the median of iteration times: the middle one of an
// odd count, the upper middle one of an even count, whatever the order.
func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{40, 10, 30, 20}, 30},
		{[]time.Duration{1, 1, 1000, 1, 900}, 1},
	}
	for _, tt := range tests {
		if got := median(append([]time.Duration(nil), tt.in...)); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
