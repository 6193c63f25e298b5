package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestGroupCommit runs concurrent creates on SQLite, where they share
// transactions: every create is answered with its own result, the valid
// ones are all stored, and those that fail (a validation error, an
// after-hook failing once the row is written, a panic) leave nothing and
// fail nothing else.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db := storetest.SQLiteFrom(t, standard)
	e := newEngine(t, db, ownerGuard{})
	hookErr := errors.New("after-hook refused")
	e.OnBefore(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
		time.Sleep(time.Millisecond) // let the queue fill while a group runs
		return nil
	})
	e.OnAfter(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
		switch ev.New["person"] {
		case "hook-fails":
			return hookErr
		case "panics":
			panic("a hook panicked")
		}
		return nil
	})
	const n = 60
	errs := make([]error, n)
	recs := make([]Record, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"person": fmt.Sprint("P", i), "source": "web"}
			switch i % 10 {
			case 3:
				body["person"] = "hook-fails"
			case 6:
				body["source"] = "no-such-source"
			case 9:
				body["person"] = "panics"
			}
			recs[i], errs[i] = e.Create(as("u1"), "lead", body)
		}()
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, hookErr) {
				t.Errorf("%d: want the hook's error, got %v", i, err)
			}
		case 6:
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%d: want a validation error, got %v", i, err)
			}
		case 9:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("%d: want the panic as an error, got %v", i, err)
			}
		default:
			want++
			if err != nil || recs[i]["person"] != fmt.Sprint("P", i) {
				t.Errorf("%d: %v %v", i, recs[i], err)
				continue
			}
			if _, err := e.Get(as("u1"), "lead", recs[i]["id"].(string)); err != nil {
				t.Errorf("%d: answered but not stored: %v", i, err)
			}
		}
	}
	var stored int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM lead`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != want {
		t.Errorf("%d leads stored, want %d", stored, want)
	}
	// Numbers come from the counter in the same transactions: the failed
	// creates gave theirs back, so the stored ones are 1..want.
	var maxNo string
	if err := db.SQL().QueryRow(`SELECT MAX(number) FROM lead`).Scan(&maxNo); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(maxNo, fmt.Sprintf("%05d", want)) {
		t.Errorf("highest number %s, want …%05d", maxNo, want)
	}
	commits, units := e.GroupStats()
	if units != int64(want) || commits >= units {
		t.Errorf("%d units in %d group transactions: the creates were not grouped", units, commits)
	}
}
