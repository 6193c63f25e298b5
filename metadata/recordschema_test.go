package metadata

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRecordErrors checks record bodies against a compiled record schema:
// each field with a value of the wrong shape is named with its problem,
// fields with good values (or null), keys that are no field and values no
// JSON decoder makes (the UI's file references, the field type's to check)
// pass.
func TestRecordErrors(t *testing.T) {
	t.Parallel()
	o := &Object{Name: "deal", Fields: []*Field{
		{Name: "name", Type: "text"},
		{Name: "seats", Type: "integer"},
		{Name: "amount", Type: "currency"},
		{Name: "stage", Type: "picklist", Options: []Option{{Value: "open"}, {Value: "won"}}},
		{Name: "closes", Type: "date"},
		{Name: "tags", Type: "multi_picklist", Options: []Option{{Value: "a"}, {Value: "b"}}},
		{Name: "card", Type: "file"},
	}}
	sch, err := CompileRecordSchema(o)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want map[string]string // field → part of its message
	}{
		{"good", `{"name": "x", "seats": 3, "amount": "12.50", "stage": "won", "closes": "2026-11-30", "tags": ["a"]}`, nil},
		{"nulls and unknown keys", `{"name": null, "stage": null, "nope": 1}`, nil},
		{"a value no JSON decoder makes", `{"card": "set below", "seats": "3"}`, map[string]string{"seats": "expected integer or null"}},
		{"wrong shapes", `{"name": 5, "seats": 1.5, "amount": "12,5", "stage": "lost", "closes": "30.11.2026", "tags": ["c"]}`, map[string]string{
			"name": "expected string or null", "seats": "expected integer or null", "amount": "does not match pattern",
			"stage": "value must be one of", "closes": "is not valid 'date'", "tags": "value must be one of"}},
	}
	for _, tt := range tests {
		d := json.NewDecoder(strings.NewReader(tt.body))
		d.UseNumber()
		var body map[string]any
		if err := d.Decode(&body); err != nil {
			t.Fatal(err)
		}
		if _, ok := body["card"]; ok {
			body["card"] = FileRef{ID: "f1", Name: "card.txt"}
		}
		got := RecordErrors(sch, body)
		if len(got) != len(tt.want) {
			t.Errorf("%s: errors %v, want fields %v", tt.name, got, tt.want)
		}
		for field, part := range tt.want {
			if !strings.Contains(got[field], part) {
				t.Errorf("%s: %s: %q, want it to say %q", tt.name, field, got[field], part)
			}
		}
	}
}

// TestRecordQuickChecks makes sure the quick checks of a record schema
// answer as the validator does: each value of each field gets the same
// problem (or none) with them as with the validator alone, and they exist
// only for the fields whose schema asks nothing but JSON types and
// allowed strings.
func TestRecordQuickChecks(t *testing.T) {
	t.Parallel()
	o := &Object{Name: "deal", Fields: []*Field{
		{Name: "name", Type: "text"},
		{Name: "stage", Type: "picklist", Options: []Option{{Value: "open"}, {Value: "won"}}},
		{Name: "open", Type: "boolean"},
		{Name: "ratio", Type: "decimal"},
		{Name: "seats", Type: "integer"},
		{Name: "amount", Type: "currency"},
		{Name: "closes", Type: "date"},
		{Name: "tags", Type: "multi_picklist", Options: []Option{{Value: "a"}}},
	}}
	sch, err := CompileRecordSchema(o)
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]bool{"name": true, "stage": true, "open": true, "ratio": true, "id": true,
		"seats": false, "amount": false, "closes": false, "tags": false, "created_at": false} {
		if _, got := sch.quick[field]; got != want {
			t.Errorf("%s has a quick check: %v, want %v", field, got, want)
		}
	}
	slow := &CompiledRecordSchema{Schema: sch.Schema}
	values := []any{nil, "", "open", "won", "lost", "Open", true, false, json.Number("3"), json.Number("1.5"), 2.5,
		[]any{"a"}, map[string]any{"a": 1}, FileRef{ID: "f1"}}
	for _, f := range o.Fields {
		for _, v := range values {
			body := map[string]any{f.Name: v}
			got, want := RecordErrors(sch, body), RecordErrors(slow, body)
			if got[f.Name] != want[f.Name] {
				t.Errorf("%s = %#v: %q, the validator says %q", f.Name, v, got[f.Name], want[f.Name])
			}
		}
	}
}
