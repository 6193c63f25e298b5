package metadata

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// cascadeObject has a country picklist, a province that depends on it, a
// multi-picklist of regions that depends on it too, and a boolean that
// controls a picklist.
func cascadeObject() *Object {
	return &Object{Name: "place", Fields: []*Field{
		{Name: "country", Type: "picklist", Options: []Option{{Value: "cn"}, {Value: "us"}}},
		{Name: "province", Type: "picklist", DependsOn: "country", Options: []Option{
			{Value: "zj", When: []string{"cn"}}, {Value: "ca", When: []string{"us"}}, {Value: "other"}}},
		{Name: "regions", Type: "multi_picklist", DependsOn: "country", Options: []Option{
			{Value: "east", When: []string{"cn"}}, {Value: "west", When: []string{"us"}}}},
		{Name: "vip", Type: "boolean"},
		{Name: "perk", Type: "picklist", DependsOn: "vip", Options: []Option{{Value: "lounge", When: []string{"true"}}, {Value: "none"}}},
	}}
}

func TestOptionsFor(t *testing.T) {
	o := cascadeObject()
	values := func(opts []Option) string {
		var out []string
		for _, x := range opts {
			out = append(out, x.Value)
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		field, ctrl, want string
	}{
		{"province", "cn", "zj,other"},
		{"province", "us", "ca,other"},
		{"province", "", "other"},
		{"regions", "us", "west"},
		{"perk", "true", "lounge,none"},
		{"perk", "false", "none"},
		{"country", "anything", "cn,us"}, // no depends_on: every option
	}
	for _, c := range cases {
		f, _ := o.Field(c.field)
		if got := values(f.OptionsFor(c.ctrl)); got != c.want {
			t.Errorf("%s.OptionsFor(%q) = %s, want %s", c.field, c.ctrl, got, c.want)
		}
	}
}

// TestCascadeCheck checks the record check of dependent picklists: every
// value OptionsFor would not offer is refused with the cascade code.
func TestCascadeCheck(t *testing.T) {
	o := cascadeObject()
	cases := []struct {
		name  string
		field string
		rec   map[string]any
		want  string // "" when the value is allowed
	}{
		{"allowed", "province", map[string]any{"country": "cn", "province": "zj"}, ""},
		{"free option", "province", map[string]any{"province": "other"}, ""},
		{"wrong country", "province", map[string]any{"country": "us", "province": "zj"}, `"zj" is not allowed when country is "us"`},
		{"no country", "province", map[string]any{"province": "zj"}, `"zj" needs country to be set first`},
		{"multi", "regions", map[string]any{"country": "cn", "regions": `["east","west"]`}, `"west" is not allowed when country is "cn"`},
		{"boolean true", "perk", map[string]any{"vip": true, "perk": "lounge"}, ""},
		{"boolean false", "perk", map[string]any{"vip": false, "perk": "lounge"}, `"lounge" is not allowed when vip is "false"`},
		{"no value", "province", map[string]any{"country": "us", "province": nil}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := o.Field(c.field)
			vs := CheckRecordValue(o, f, c.rec[c.field], c.rec)
			switch {
			case c.want == "" && len(vs) > 0:
				t.Fatalf("unexpected %v", vs)
			case c.want != "" && (len(vs) != 1 || vs[0].Code != "cascade" || vs[0].Message != c.want):
				t.Fatalf("got %v, want cascade %q", vs, c.want)
			}
		})
	}
}

func TestWidens(t *testing.T) {
	yes := [][2]string{{"text", "long_text"}, {"email", "text"}, {"phone", "long_text"}, {"url", "text"},
		{"picklist", "text"}, {"auto_number", "long_text"}, {"integer", "decimal"}, {"integer", "percent"},
		{"decimal", "percent"}, {"percent", "decimal"}}
	no := [][2]string{{"long_text", "text"}, {"text", "email"}, {"decimal", "integer"}, {"text", "integer"},
		{"lookup", "text"}, {"date", "datetime"}, {"unknown", "text"}, {"multi_picklist", "picklist"}}
	for _, c := range yes {
		if !Widens(c[0], c[1]) {
			t.Errorf("%s should widen to %s", c[0], c[1])
		}
	}
	for _, c := range no {
		if Widens(c[0], c[1]) {
			t.Errorf("%s should not widen to %s", c[0], c[1])
		}
	}
}

func TestStorageAbilities(t *testing.T) {
	cases := []struct {
		field                    Field
		target, lookup           string
		linked, computed, sorted bool
	}{
		{Field{Type: "lookup", Target: "account"}, "account", "account", false, false, true},
		{Field{Type: "many_to_many", Target: "tag"}, "tag", "", true, false, false},
		{Field{Type: "auto_number", Format: "N-{000}"}, "", "", false, true, true},
		{Field{Type: "text", Formula: "name"}, "", "", false, true, true},
		{Field{Type: "file"}, "", "", false, false, false},
		{Field{Type: "multi_picklist", Options: []Option{{Value: "a"}}}, "", "", false, false, true},
	}
	for _, c := range cases {
		f := c.field
		target, _ := ReferenceTarget(&f)
		lookup, _ := LookupTarget(&f)
		if target != c.target || lookup != c.lookup || Linked(&f) != c.linked || Computed(&f) != c.computed || Sortable(&f) != c.sorted {
			t.Errorf("%s: target %q lookup %q linked %v computed %v sortable %v", f.Type, target, lookup, Linked(&f), Computed(&f), Sortable(&f))
		}
	}
}

func TestFilterOps(t *testing.T) {
	cases := []struct {
		typ  string
		has  []FilterOp
		lack []FilterOp
	}{
		{"text", []FilterOp{FilterEqual, FilterOrder, FilterText, FilterEmpty}, []FilterOp{FilterContains, FilterDateRange}},
		{"currency", []FilterOp{FilterEqual, FilterOrder}, []FilterOp{FilterText}},
		{"date", []FilterOp{FilterDateRange, FilterOrder}, []FilterOp{FilterText}},
		{"boolean", []FilterOp{FilterEqual}, []FilterOp{FilterOrder}},
		{"lookup", []FilterOp{FilterEqual}, []FilterOp{FilterOrder, FilterText}},
		{"multi_picklist", []FilterOp{FilterContains, FilterEmpty}, []FilterOp{FilterEqual}},
		{"image", []FilterOp{FilterEmpty}, []FilterOp{FilterEqual, FilterContains}},
	}
	for _, c := range cases {
		f := &Field{Type: c.typ, Target: "x"}
		for _, op := range c.has {
			if !SupportsFilter(f, op) {
				t.Errorf("%s should support %s", c.typ, op)
			}
		}
		for _, op := range c.lack {
			if SupportsFilter(f, op) {
				t.Errorf("%s should not support %s", c.typ, op)
			}
		}
	}
}

func TestFormInput(t *testing.T) {
	opts := []Option{{Value: "a"}, {Value: "b"}}
	cases := []struct {
		field Field
		want  string
	}{
		{Field{Type: "text"}, `{"kind":"text","max_length":255}`},
		{Field{Type: "long_text", MaxLength: 2000}, `{"kind":"textarea","max_length":2000}`},
		{Field{Type: "email"}, `{"kind":"email","max_length":254}`},
		{Field{Type: "phone"}, `{"kind":"tel","max_length":40}`},
		{Field{Type: "url"}, `{"kind":"url","max_length":2048}`},
		{Field{Type: "integer"}, `{"kind":"number","step":"1","scale":0}`},
		{Field{Type: "decimal"}, `{"kind":"number","step":"any"}`},
		{Field{Type: "percent", Scale: ptr(1)}, `{"kind":"number","step":"0.1","scale":1}`},
		{Field{Type: "currency"}, `{"kind":"currency","step":"0.01","scale":2}`},
		{Field{Type: "currency", Scale: ptr(0)}, `{"kind":"currency","step":"1","scale":0}`},
		{Field{Type: "boolean"}, `{"kind":"checkbox"}`},
		{Field{Type: "date"}, `{"kind":"date"}`},
		{Field{Type: "datetime"}, `{"kind":"datetime"}`},
		{Field{Type: "picklist", Options: opts}, `{"kind":"select","options":[{"value":"a"},{"value":"b"}]}`},
		{Field{Type: "multi_picklist", Options: opts}, `{"kind":"multiselect","multiple":true,"options":[{"value":"a"},{"value":"b"}]}`},
		{Field{Type: "lookup", Target: "account"}, `{"kind":"lookup","target":"account"}`},
		{Field{Type: "many_to_many", Target: "tag"}, `{"kind":"lookup","multiple":true,"target":"tag"}`},
		{Field{Type: "file"}, `{"kind":"file"}`},
		{Field{Type: "image"}, `{"kind":"file","accept":["image/png","image/jpeg","image/gif","image/webp"]}`},
		{Field{Type: "auto_number", Format: "N-{000}"}, `{"kind":"text","read_only":true}`},
		{Field{Type: "currency", Formula: "1"}, `{"kind":"currency","step":"0.01","scale":2,"read_only":true}`},
	}
	for _, c := range cases {
		f := c.field
		got, _ := json.Marshal(FormInput(&f))
		if string(got) != c.want {
			t.Errorf("%s: got %s, want %s", f.Type, got, c.want)
		}
	}
}

func TestAutoNumberAssign(t *testing.T) {
	f := &Field{Name: "no", Type: "auto_number", Format: "CT-{YYYY}-{000}"}
	a, ok := TypeOf(f).(Assigner)
	if !ok {
		t.Fatal("auto_number is not an Assigner")
	}
	var keys []string
	next := func(key string) (int64, error) { keys = append(keys, key); return int64(len(keys)), nil }
	v1, _ := a.Assign(f, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), next)
	v2, _ := a.Assign(f, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), next)
	if v1 != "CT-2026-001" || v2 != "CT-2027-002" || !slices.Equal(keys, []string{"CT-2026-{000}", "CT-2027-{000}"}) {
		t.Fatalf("got %v %v with keys %v", v1, v2, keys)
	}
}
