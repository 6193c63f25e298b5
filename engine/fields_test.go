package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// allTypes is an object with one field of every type.
const allTypes = `{"name": "sample", "fields": [
	{"name": "t", "type": "text", "unique": true},
	{"name": "lt", "type": "long_text"},
	{"name": "i", "type": "integer"},
	{"name": "d", "type": "decimal"},
	{"name": "c", "type": "currency", "scale": 2},
	{"name": "pc", "type": "percent"},
	{"name": "b", "type": "boolean"},
	{"name": "dt", "type": "date"},
	{"name": "ts", "type": "datetime"},
	{"name": "em", "type": "email"},
	{"name": "ph", "type": "phone"},
	{"name": "u", "type": "url"},
	{"name": "pl", "type": "picklist", "options": [{"value": "x"}, {"value": "y"}]},
	{"name": "mp", "type": "multi_picklist", "options": [{"value": "p"}, {"value": "q"}, {"value": "r"}]},
	{"name": "lk", "type": "lookup", "target": "account", "on_delete": "set_null", "tracked": true},
	{"name": "mm", "type": "many_to_many", "target": "competitor"},
	{"name": "no", "type": "auto_number", "format": "S-{YYYY}-{000}"},
	{"name": "fl", "type": "file"}
]}`

// addObject applies a new object definition.
func addObject(t *testing.T, e *Engine, doc string) {
	t.Helper()
	o, ps := metadata.ParseObject("test", []byte(doc))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	s := e.Snapshot().Schema.Clone()
	s.Objects = append(s.Objects, o)
	if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
		t.Fatal(err)
	}
}

func TestFieldTypesRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		addObject(t, e, allTypes)
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", body(t, `{"name": "A"}`))
		if err != nil {
			t.Fatal(err)
		}
		comp, err := e.Create(ctx, "competitor", body(t, `{"name": "Rival"}`))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := e.Upload(ctx, "sample", "fl", "a.txt", strings.NewReader("hello file"))
		if err != nil {
			t.Fatal(err)
		}
		refJSON, _ := json.Marshal(ref)
		in := fmt.Sprintf(`{"t": "text", "lt": "long\ntext", "i": 9007199254740993, "d": 3.25, "c": "12345678.91",
			"pc": 12.5, "b": true, "dt": "2026-02-28", "ts": "2026-03-01T08:30:00+08:00", "em": "a@b.cn",
			"ph": "+86 571 8888 0000", "u": "https://example.com", "pl": "y", "mp": ["r", "p"],
			"lk": %q, "mm": [%q], "fl": %s}`, acc["id"], comp["id"], refJSON)
		rec, err := e.Create(ctx, "sample", body(t, in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Get(ctx, "sample", rec["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"t": "text", "lt": "long\ntext", "i": int64(9007199254740993), "d": 3.25, "c": json.Number("12345678.91"),
			"pc": 12.5, "b": true, "dt": "2026-02-28", "ts": "2026-03-01T00:30:00.000Z", "em": "a@b.cn",
			"ph": "+86 571 8888 0000", "u": "https://example.com", "pl": "y", "mp": []string{"p", "r"},
			"lk": acc["id"], "mm": []string{comp["id"].(string)},
		}
		for k, v := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) || fmt.Sprintf("%T", got[k]) != fmt.Sprintf("%T", v) {
				t.Errorf("%s: got %v (%T), want %v (%T)", k, got[k], got[k], v, v)
			}
		}
		if no, _ := got["no"].(string); len(no) != len("S-2026-001") || no[len(no)-3:] != "001" {
			t.Errorf("auto number: %v", got["no"])
		}
		if f, ok := got["fl"].(metadata.FileRef); !ok || f.Size != 10 || f.ContentType != "text/plain" {
			t.Errorf("file: %v", got["fl"])
		}
		// Every type filters and sorts.
		filters := map[string]int{
			`t == "text"`: 1, `lt contains "TEXT"`: 1, `i > 9007199254740992`: 1, `d >= 3.25`: 1, `c == 12345678.91`: 1,
			`pc < 50`: 1, `b == true`: 1, `dt == "2026-02-28"`: 1, `ts < "2026-03-02T00:00:00Z"`: 1, `em endsWith "b.cn"`: 1,
			`ph startsWith "+86"`: 1, `u != nil`: 1, `pl in ["x", "y"]`: 1, `mp contains "p"`: 1, `mp contains "q"`: 0,
			fmt.Sprintf(`lk == %q`, acc["id"]): 1, fmt.Sprintf(`mm contains %q`, comp["id"]): 1, `no startsWith "S-"`: 1,
			`is_empty(pl)`: 0, `!(b == true)`: 0,
		}
		for f, n := range filters {
			res, err := e.List(ctx, "sample", ListOptions{Filter: f, Sort: "-c,t"})
			if err != nil {
				t.Errorf("filter %s: %v", f, err)
				continue
			}
			if len(res.Items) != n {
				t.Errorf("filter %s: %d items, want %d", f, len(res.Items), n)
			}
		}
		// Deleting the account clears the set_null lookup.
		if err := e.Delete(ctx, "account", acc["id"].(string)); err != nil {
			t.Fatal(err)
		}
		got, _ = e.Get(ctx, "sample", rec["id"].(string))
		if got["lk"] != nil {
			t.Errorf("set_null lookup kept %v", got["lk"])
		}
		// Its history says so, by the system on behalf of the deleter, at
		// the version the clearing made.
		hist, err := e.History(ctx, "sample", rec["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		cleared := slices.IndexFunc(hist, func(h HistoryEntry) bool { return h.Field == "lk" && h.OldValue == acc["id"] && h.NewValue == nil })
		if cleared < 0 || !hist[cleared].BySystem || hist[cleared].Version != got["version"] {
			t.Errorf("history of the cleared lookup: %+v (record at version %v)", hist, got["version"])
		}
		// Unique text: a second record with the same value is refused.
		if _, err := e.Create(ctx, "sample", body(t, `{"t": "text"}`)); err == nil {
			t.Error("duplicate unique value accepted")
		}
	})
}

func TestAutoNumberConcurrent(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := e.Create(as("u1"), "lead", map[string]any{"person": fmt.Sprint("P", i)})
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.List(as("u1"), "lead", ListOptions{Sort: "number", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != n {
			t.Fatalf("%d leads", len(res.Items))
		}
		for i, r := range res.Items {
			want := fmt.Sprintf("%05d", i+1)
			if no := r["number"].(string); no[len(no)-5:] != want {
				t.Fatalf("lead %d has number %s, want …%s (gap-free, no duplicates)", i, no, want)
			}
		}
	})
}

// TestDefaultsYieldToSentValues creates records of an object whose fields
// have defaults: a value sent wins over the default, many-to-many links
// too, and a field not sent gets its default.
func TestDefaultsYieldToSentValues(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		var ids []string
		for _, name := range []string{"Usual", "Other"} {
			c, err := e.Create(ctx, "competitor", map[string]any{"name": name})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c["id"].(string))
		}
		addObject(t, e, fmt.Sprintf(`{"name": "pick", "fields": [{"name": "tier", "type": "text", "default": "basic"},
			{"name": "rivals", "type": "many_to_many", "target": "competitor", "default": [%q]}]}`, ids[0]))
		tests := []struct {
			body   map[string]any
			tier   string
			rivals []string
		}{
			{map[string]any{"tier": "gold", "rivals": []any{ids[1]}}, "gold", ids[1:]},
			{map[string]any{"rivals": []any{}}, "basic", []string{}},
			{map[string]any{}, "basic", ids[:1]},
		}
		for _, tt := range tests {
			rec, err := e.Create(ctx, "pick", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Get(ctx, "pick", rec["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if got["tier"] != tt.tier || fmt.Sprint(got["rivals"]) != fmt.Sprint(tt.rivals) {
				t.Errorf("%v: tier %v, rivals %v; want %s, %v", tt.body, got["tier"], got["rivals"], tt.tier, tt.rivals)
			}
		}
	})
}
