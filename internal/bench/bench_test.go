package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestResultHolds checks the verdict on a target: within it by the pairs'
// median and by the trimmed means where the iterations were kept, by the
// ratio of the means otherwise.
func TestResultHolds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		target                float64
		engine, plain         time.Duration
		engineTrim, plainTrim time.Duration
		pairs                 float64
		want                  bool
	}{
		{"no target", 0, 300, 100, 300, 100, 3, true},
		{"both within", 1.25, 120, 100, 118, 100, 1.2, true},
		{"a checkpoint on the engine's side: the mean over, the rest within", 1.25, 140, 100, 118, 100, 1.2, true},
		{"pairs over", 1.25, 120, 100, 118, 100, 1.3, false},
		{"trimmed means over (a slow part the median does not see)", 1.25, 130, 100, 127, 100, 1.2, false},
		{"no iterations kept, mean within", 1.25, 117, 100, 0, 0, 0, true},
		{"no iterations kept, mean over", 1.2, 130, 100, 0, 0, 0, false},
	}
	for _, tt := range tests {
		r := Result{Name: "x", N: 1, Target: tt.target, Engine: tt.engine, Plain: tt.plain, EngineTrim: tt.engineTrim, PlainTrim: tt.plainTrim, PairP50: tt.pairs}
		if got := r.Holds(); got != tt.want {
			t.Errorf("%s: Holds() = %v, want %v", tt.name, got, tt.want)
		}
		if want := !tt.want; strings.Contains(r.String(), "MISSED") != want {
			t.Errorf("%s: %q should say MISSED: %v", tt.name, r.String(), want)
		}
	}
}

// TestSummarize checks what a run's verdict is read on: the median of
// the pairs' ratios (each engine iteration over the hand-written one
// beside it, not the ratio of each way's median), each way's median, and
// each way's total without its slowest 1 %.
func TestSummarize(t *testing.T) {
	t.Parallel()
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// A drift: the pairs' ratios are 1.1, 1.2, 1.3, 1.2 and 1.1 whatever
	// the pace, while the ways' medians (30 against 20) give 1.5.
	var r Result
	summarize(&r, ms(11, 24, 39, 48, 55), ms(10, 20, 30, 40, 50))
	if r.PairP50 < 1.1999 || r.PairP50 > 1.2001 {
		t.Errorf("pairs' median = %v, want 1.2", r.PairP50)
	}
	if r.EngineP50 != 39*time.Millisecond || r.PlainP50 != 30*time.Millisecond {
		t.Errorf("medians = %v and %v, want 39ms and 30ms", r.EngineP50, r.PlainP50)
	}
	// 200 iterations: the slowest 2 of each way are left out.
	engine, plain := make([]time.Duration, 200), make([]time.Duration, 200)
	for i := range engine {
		engine[i], plain[i] = 2*time.Millisecond, time.Millisecond
	}
	engine[7], plain[90], plain[3] = time.Second, time.Second, time.Second
	summarize(&r, engine, plain)
	if r.EngineTrim != 198*2*time.Millisecond || r.PlainTrim != 198*time.Millisecond {
		t.Errorf("trimmed totals = %v and %v, want 396ms and 198ms", r.EngineTrim, r.PlainTrim)
	}
	if got := r.TrimmedRatio(); got != 2 {
		t.Errorf("trimmed ratio = %v, want 2", got)
	}
}

// TestIterateInBlocks checks the order in which the two ways run: in
// turn every iteration by default, block iterations of one way, then of
// the other, otherwise, the first way changing every block; and that a
// block of no iteration is refused.
func TestIterateInBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, block int
		want     string
	}{
		{3, 1, "E0 P0 P1 E1 E2 P2"},
		{5, 2, "E0 E1 P0 P1 P2 P3 E2 E3 E4 P4"},
		{3, 10, "E0 E1 E2 P0 P1 P2"},
	}
	for _, tt := range tests {
		var got []string
		way := func(tag string) func(context.Context, int) error {
			return func(_ context.Context, i int) error {
				got = append(got, fmt.Sprint(tag, i))
				return nil
			}
		}
		r, err := iterate(context.Background(), Case{Name: "order", Engine: way("E"), Plain: way("P")}, 0, tt.n, tt.block)
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("n=%d block=%d: %s, want %s", tt.n, tt.block, s, tt.want)
		}
		if r.N != tt.n {
			t.Errorf("n=%d block=%d: result %+v", tt.n, tt.block, r)
		}
	}
	if _, err := RunInBlocks(context.Background(), Case{Name: "order"}, 1, 0); err == nil {
		t.Error("a block of 0 iterations was accepted")
	}
}

// TestIterateContext checks that both ways get a context that cannot be
// cancelled (so that neither pays the SQLite driver's watch of one) and
// that the run still stops once its own context ends.
func TestIterateContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ran := 0
	way := func(wctx context.Context, i int) error {
		if wctx.Done() != nil {
			t.Errorf("iteration %d: the way's context can be cancelled", i)
		}
		if ran++; ran == 3 {
			cancel()
		}
		return nil
	}
	_, err := iterate(ctx, Case{Name: "ctx", Engine: way, Plain: way}, 0, 10, 1)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if ran != 3 {
		t.Errorf("%d iterations ran after the context ended at the third", ran)
	}
}

// TestNextN checks how a pilot run sizes the next: a fifth more than its
// time per iteration predicts for minTime, growing, at most a hundred
// times the pilot and maxSized.
func TestNextN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n             int
		took, minTime time.Duration
		want          int
	}{
		{300, 24 * time.Millisecond, time.Second, 15001},
		{300, 999 * time.Millisecond, time.Second, 361},
		{10, 0, time.Second, 1000},
		{10, time.Microsecond, time.Second, 1000},
		{500_000, time.Millisecond, time.Second, maxSized},
		{5, 4 * time.Second, time.Second, 6},
	}
	for _, tt := range tests {
		if got := nextN(tt.n, tt.took, tt.minTime); got != tt.want {
			t.Errorf("nextN(%d, %v, %v) = %d, want %d", tt.n, tt.took, tt.minTime, got, tt.want)
		}
	}
}

// TestRunFor checks that a run shorter than minTime is a pilot: the run
// of record starts again from the setup with more iterations, and none
// is added without minTime.
func TestRunFor(t *testing.T) {
	t.Parallel()
	var setups []int
	way := func(context.Context, int) error { time.Sleep(100 * time.Microsecond); return nil }
	c := Case{Name: "sized", Setup: func(_ context.Context, n int) error { setups = append(setups, n); return nil }, Engine: way, Plain: way}
	r, err := RunFor(context.Background(), c, 2, 1, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.N <= 2 || r.Engine+r.Plain < 20*time.Millisecond || len(setups) < 2 || setups[len(setups)-1] != r.N+warmup(r.N) {
		t.Errorf("RunFor 20ms: result n=%d took %v, setups %v", r.N, r.Engine+r.Plain, setups)
	}
	setups = nil
	if r, err = RunFor(context.Background(), c, 2, 1, 0); err != nil || r.N != 2 || len(setups) != 1 {
		t.Errorf("RunFor without minTime: n=%d, setups %v, err %v", r.N, setups, err)
	}
}

// TestCommission checks the hand-written update's commission against the
// standard template's formula as the engine stores it (cents, half up).
func TestCommission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stage string
		cents int64
		want  int64
	}{
		{"proposal", 500_000_00, 0},
		{"won", 100_000_00, 1_000_00},
		{"won", 100_000_50, 3_000_02},
		{"won", 1_000_000_00, 30_000_00},
		{"won", 35_839_648_550, 1_791_982_428},
		{"won", 150, 2},
	}
	for _, tt := range tests {
		if got := commission(tt.stage, tt.cents); got != tt.want {
			t.Errorf("commission(%q, %d) = %d, want %d", tt.stage, tt.cents, got, tt.want)
		}
	}
}
