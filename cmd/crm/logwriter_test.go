package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogWriter checks that buffered log lines come out whole and in
// order: after the flush interval, when the buffer fills, and on Close,
// and that lines after Close are written at once.
func TestLogWriter(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	l := newLogWriter(&out)
	fmt.Fprintln(l, "first")
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "first\n" {
		if time.Now().After(deadline) {
			t.Fatalf("not written after the interval: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Concurrent writers: every line whole, each writer's lines in order.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				fmt.Fprintf(l, "w%d line %04d %s\n", w, i, strings.Repeat("x", 20))
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(out.String(), "\n"); n < 2 {
		t.Fatalf("a full buffer was not written out: %d lines so far", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1+4*3000 {
		t.Fatalf("%d lines, want %d", len(lines), 1+4*3000)
	}
	next := map[string]int{}
	for _, line := range lines[1:] {
		var w string
		var i int
		if _, err := fmt.Sscanf(line, "%s line %d", &w, &i); err != nil || len(line) != len("w0 line 0000 ")+20 {
			t.Fatalf("broken line %q", line)
		}
		if i != next[w] {
			t.Fatalf("%s: line %d after %d", w, i, next[w]-1)
		}
		next[w]++
	}
	fmt.Fprintln(l, "after close")
	if !strings.HasSuffix(out.String(), "after close\n") {
		t.Fatal("a line after Close was not written at once")
	}
}
