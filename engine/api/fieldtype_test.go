package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// ratingType is a field type known only to this test: one to five stars.
// Registering it is all the platform needs to define, store, write, read,
// filter, sort and widen fields of the type; nothing in engine/ names it.
// It is what a new metadata/field_xxx.go file would hold.
type ratingType struct{}

func init() { metadata.RegisterFieldType(ratingType{}) }

// Name implements metadata.FieldType.
func (ratingType) Name() string { return "rating" }

// Kind implements metadata.FieldType: formulas and filter literals see a
// whole number.
func (ratingType) Kind() metadata.Kind { return metadata.KindInt }

// Column implements metadata.FieldType: a small integer.
func (ratingType) Column(dialect string, f *metadata.Field) string {
	if dialect == metadata.DialectPostgres {
		return "SMALLINT"
	}
	return "INTEGER"
}

// Check implements metadata.FieldType.
func (ratingType) Check(f *metadata.Field) []metadata.Problem {
	if len(f.Options) > 0 {
		return []metadata.Problem{{Path: "/options", Message: "a rating has no options"}}
	}
	return nil
}

// Normalize implements metadata.FieldType.
func (ratingType) Normalize(f *metadata.Field, v any) (any, error) {
	var n int64
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		n = x
	case json.Number:
		var err error
		if n, err = x.Int64(); err != nil {
			return nil, fmt.Errorf("a rating is a whole number of stars, not %s", x)
		}
	default:
		return nil, fmt.Errorf("a rating is a number of stars, not %T", v)
	}
	if n < 1 || n > 5 {
		return nil, fmt.Errorf("a rating is 1 to 5 stars, not %d", n)
	}
	return n, nil
}

// Output implements metadata.FieldType.
func (ratingType) Output(f *metadata.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	n, ok := v.(int64)
	if !ok {
		return nil, fmt.Errorf("stored rating %v is not a number", v)
	}
	return n, nil
}

// FilterOps implements metadata.Filterer: comparisons, no text search.
func (ratingType) FilterOps(f *metadata.Field) []metadata.FilterOp {
	return []metadata.FilterOp{metadata.FilterEqual, metadata.FilterOrder, metadata.FilterEmpty}
}

// Sortable implements metadata.Sorter.
func (ratingType) Sortable(f *metadata.Field) bool { return true }

// Input implements metadata.Inputter: a choice of stars.
func (ratingType) Input(f *metadata.Field) metadata.Input {
	in := metadata.Input{Kind: metadata.InputSelect}
	for i := 1; i <= 5; i++ {
		in.Options = append(in.Options, metadata.Option{Value: fmt.Sprint(i), Label: metadata.Label{"en": strings.Repeat("★", i)}})
	}
	return in
}

// WidensTo implements metadata.Widener: every rating is a number.
func (ratingType) WidensTo(to string) bool { return to == "integer" || to == "decimal" }

// Compile-time checks of the abilities the type claims.
var (
	_ metadata.FieldType = ratingType{}
	_ metadata.Filterer  = ratingType{}
	_ metadata.Sorter    = ratingType{}
	_ metadata.Inputter  = ratingType{}
	_ metadata.Widener   = ratingType{}
)

// TestFieldTypeFromOneFile adds a field of the test's own type to accounts
// through the metadata API and uses it end to end over HTTP: the table
// change, writes with the type's checks, reads, filters with the type's
// operators, sorting, the record-level rule (another rep sees nothing of
// it), OpenAPI, and a widening change of type that keeps the values.
func TestFieldTypeFromOneFile(t *testing.T) {
	t.Parallel()
	stars := &metadata.Field{Name: "stars", Type: "rating"}
	if in := metadata.FormInput(stars); in.Kind != metadata.InputSelect || len(in.Options) != 5 {
		t.Fatalf("form input %+v", in)
	}
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.run(t, []scenario{
			{name: "add the field", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "stars", "type": "rating", "tracked": true}`, status: 201, contains: []string{"add_field", "stars"}},
			{name: "the type's own definition check", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "stars2", "type": "rating", "options": [{"value": "x"}]}`, status: 422, code: "invalid_metadata", contains: []string{"no options"}},
		})
		acme := f.create("rep1", "account", `{"name": "Acme", "stars": 5}`)
		beta := f.create("rep1", "account", `{"name": "Beta", "stars": 3}`)
		f.create("rep1", "account", `{"name": "Gamma"}`)
		f.create("rep2", "account", `{"name": "Delta", "stars": 5}`)
		list := "/api/records/account?total=true&filter="
		f.run(t, []scenario{
			{name: "the type's value check", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "Bad", "stars": 7}`, status: 422, code: "invalid_record", contains: []string{`"field":"stars"`, "1 to 5 stars"}},
			{name: "read", method: "GET", path: "/api/records/account/" + acme, user: "rep1", status: 200, contains: []string{`"stars":5`}},
			{name: "filter with the type's operators", method: "GET", path: list + urlq(`stars >= 4`), user: "rep1", status: 200, contains: []string{`"total":1`, "Acme"}, notContain: []string{"Beta", "Delta"}},
			{name: "in and not", method: "GET", path: list + urlq(`stars in [3, 4] || !(stars > 1)`), user: "rep1", status: 200, contains: []string{`"total":2`, "Beta", "Gamma"}, notContain: []string{"Acme"}},
			{name: "is_empty", method: "GET", path: list + urlq(`is_empty(stars)`), user: "rep1", status: 200, contains: []string{`"total":1`, "Gamma"}},
			{name: "an operator the type does not take", method: "GET", path: list + urlq(`stars startsWith "4"`), user: "rep1", status: 400, code: "bad_query", contains: []string{`"field":"stars"`, "works on text"}},
			{name: "another rep sees none of it", method: "GET", path: list + urlq(`stars >= 1`), user: "rep2", status: 200, contains: []string{`"total":1`, "Delta"}, notContain: []string{"Acme", "Beta"}},
			{name: "update", method: "PATCH", path: "/api/records/account/" + beta, user: "rep1", body: `{"version": 1, "stars": 4}`, status: 200, contains: []string{`"stars":4`}},
			{name: "openapi describes it", method: "GET", path: "/api/openapi.json", user: "rep1", status: 200, contains: []string{`"stars"`}},
		})
		status, raw := f.raw("GET", "/api/records/account?sort=-stars,name", "rep1", "application/json", nil)
		a, b, g := bytes.Index(raw, []byte("Acme")), bytes.Index(raw, []byte("Beta")), bytes.Index(raw, []byte("Gamma"))
		if status != 200 || a < 0 || !(a < b && b < g) {
			t.Fatalf("sort by -stars: %d %s", status, raw)
		}
		f.run(t, []scenario{
			{name: "narrowing to text is refused", method: "PUT", path: "/api/meta/objects/account/fields/stars", user: "admin", body: `{"name": "stars", "type": "text"}`, status: 422, contains: []string{"stars", "force"}},
			{name: "widening to integer keeps values", method: "PUT", path: "/api/meta/objects/account/fields/stars", user: "admin", body: `{"name": "stars", "type": "integer"}`, status: 200, contains: []string{"change_type", "rating widens to integer"}},
			{name: "values kept", method: "GET", path: list + urlq(`stars >= 4`), user: "rep1", status: 200, contains: []string{`"total":2`, "Acme", "Beta"}},
		})
	})
}
