package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/jobs"
)

func TestJobsCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migratedDB(t)
	// A job that keeps failing, run until its attempts are used up.
	a, err := open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := a.Engine.Jobs()
	r.Register(jobs.Kind{Name: "test.webhook", MaxAttempts: 1, Step: func(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
		return jobs.Progress{Done: 1, Total: 4, Message: "delivering"}, errors.New("connection refused\nby peer")
	}})
	id, _, err := r.Enqueue(ctx, a.db.SQL(), jobs.Spec{Kind: "test.webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Drain(ctx, jobs.DrainOptions{Kinds: []string{"test.webhook"}}); err == nil {
		t.Fatal("the step must fail")
	}
	if _, _, err := r.Enqueue(ctx, a.db.SQL(), jobs.Spec{Kind: engine.PurgeFilesKind}); err != nil {
		t.Fatal(err)
	}
	if err := r.Drain(ctx, jobs.DrainOptions{}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	tests := []struct {
		args   []string
		code   int
		want   []string
		forbid []string
	}{
		{[]string{"jobs", "--db", db}, 0, []string{"ID", "KIND", "STATE", "ATTEMPTS", "PROGRESS", "NEXT RUN", "LAST ERROR", id, "test.webhook", "failed", "1/1", "0/?", "connection refused by peer", "files.purge", "done", "0 unattached upload(s) deleted"}, nil},
		{[]string{"jobs", "--state", "failed", "--db", db}, 0, []string{id}, []string{"files.purge"}},
		{[]string{"jobs", "--state", "broken", "--db", db}, 2, []string{"use pending, running, done or failed"}, nil},
		{[]string{"jobs", "retry", "no-such-job", "--db", db}, 2, []string{"no such job"}, nil},
		{[]string{"jobs", "retry", id, "--db", db}, 0, []string{"job " + id + " queued again"}, nil},
		{[]string{"jobs", "retry", id, "--db", db}, 2, []string{"has not failed"}, nil},
		{[]string{"jobs", "list", "--state", "pending", "--db", db}, 0, []string{id, "pending", "0/1", "files.purge"}, []string{"done"}},
		{[]string{"jobs", "--state", "failed", "--db", db}, 0, []string{"no jobs"}, []string{id}},
		{[]string{"jobs", "frobnicate", "--db", db}, 2, []string{"usage: crm jobs"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:len(tt.args)-2], " "), func(t *testing.T) {
			code, out := runCmd(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, f := range tt.forbid {
				if strings.Contains(out, f) {
					t.Errorf("output has %q:\n%s", f, out)
				}
			}
		})
	}
}
