package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/crmplatform/crm/metadata"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The builder edits a document of any registered kind (approval
// processes, state workflows, automations, reminders, reports,
// dashboards, sales rules, web forms …) as a form generated from the
// kind's JSON Schema: one generator for every kind, no page written per
// kind. Each value of the document is one input named after its JSON
// pointer ("f/steps/0/name"), so the problems of a refused change, which
// carry JSON pointers, go next to the input they concern. Lists of
// objects are repeatable rows added and removed with buttons that post
// the form back (no script needed); what the generator cannot show as
// inputs (a value of any type) is a small JSON input.

// fnode is one part of a generated form.
type fnode struct {
	// Type says how it is shown: text, area (long text), formula (a
	// condition or expression, in code type), integer, number, bool
	// (default, yes, no), enum and object (a select), label (English and
	// Chinese), lines (one value per line), choice (a select of
	// alternatives with a value), group (an object's properties in a
	// fieldset), rows (a list of items, each removable, one more to add)
	// or json (any other value as JSON).
	Type string
	// Path is the value's JSON pointer in the document; ID the input's id.
	Path, ID string
	Label    string
	Required bool
	// Value is the value as text (a label's English, a choice's value);
	// Zh a label's Chinese.
	Value, Zh string
	Choices   []optionView
	// Children are a group's properties and a list's items.
	Children []*fnode
	// Item tells a list's item apart: Remove is its remove button's name.
	Item        bool
	Add, Remove string
	Error, Help string
	// Other labels a label's Chinese input or a choice's value input.
	Other string
	// Wide inputs take the form's whole width; Rows is a text area's
	// height (0 for a one-line input).
	Wide bool
	Rows int
	// Fields offers the fields of the document's object to a field input.
	Fields bool
}

// kindForm generates and reads the form of one document kind in one
// language.
type kindForm struct {
	root    *jsonschema.Schema
	order   *onode
	lang    string
	sc      *metadata.Schema
	objects []optionView
}

// newKindForm returns the form generator of kind k.
func newKindForm(k *metadata.DocKind, lang string, sc *metadata.Schema) *kindForm {
	root, src := k.JSONSchema()
	f := &kindForm{root: root, order: sourceOrder(k.Name(), src), lang: lang, sc: sc}
	for _, o := range sc.Objects {
		f.objects = append(f.objects, optionView{Value: o.Name, Label: o.Title(lang) + " (" + o.Name + ")"})
	}
	return f
}

// deref follows a schema's references.
func deref(s *jsonschema.Schema) *jsonschema.Schema {
	for s != nil && s.Ref != nil {
		s = s.Ref
	}
	return s
}

// hasType reports whether a schema allows JSON type t.
func hasType(s *jsonschema.Schema, t string) bool { return s != nil && slices.Contains(s.Types, t) }

// stringEnum returns a schema's enumerated values when they are all
// strings.
func stringEnum(s *jsonschema.Schema) []string {
	var out []string
	for _, v := range s.Enum {
		str, ok := v.(string)
		if !ok {
			return nil
		}
		out = append(out, str)
	}
	return out
}

// items returns the schema of an array's items.
func items(s *jsonschema.Schema) *jsonschema.Schema {
	if s.Items2020 != nil {
		return deref(s.Items2020)
	}
	if it, ok := s.Items.(*jsonschema.Schema); ok {
		return deref(it)
	}
	return nil
}

// isText reports whether a schema is a string (or a string enumeration).
func isText(s *jsonschema.Schema) bool {
	return s != nil && (hasType(s, "string") || (len(s.Types) == 0 && stringEnum(s) != nil && len(s.OneOf) == 0))
}

// alternative is one branch of a tagged choice: a fixed value (Value) or
// an object with one text property (Key).
type alternative struct{ Value, Key string }

// alternatives reads a oneOf of fixed texts and one-property objects
// (an approver: "manager", {"user": …}, {"role": …}); nil when the oneOf
// is something else.
func alternatives(s *jsonschema.Schema) []alternative {
	var out []alternative
	for _, a := range s.OneOf {
		a = deref(a)
		switch {
		case stringEnum(a) != nil:
			for _, v := range stringEnum(a) {
				out = append(out, alternative{Value: v})
			}
		case hasType(a, "object") && len(a.Properties) == 1 && len(a.Required) == 1 && isText(deref(a.Properties[a.Required[0]])):
			out = append(out, alternative{Key: a.Required[0]})
		default:
			return nil
		}
	}
	return out
}

// kindOf says how a value of schema s under key is shown.
func kindOf(s *jsonschema.Schema, key string) string {
	switch {
	case s == nil:
		return "json"
	case len(s.OneOf) == 2 && isText(deref(s.OneOf[0])) && hasType(deref(s.OneOf[1]), "object"):
		if ap, ok := deref(s.OneOf[1]).AdditionalProperties.(*jsonschema.Schema); ok && isText(deref(ap)) {
			return "label"
		}
	case len(s.OneOf) == 2 && isText(deref(s.OneOf[0])) && hasType(deref(s.OneOf[1]), "array") && isText(items(deref(s.OneOf[1]))):
		return "lines"
	case len(s.OneOf) > 0 && alternatives(s) != nil:
		return "choice"
	case stringEnum(s) != nil:
		return "enum"
	case hasType(s, "boolean"):
		return "bool"
	case hasType(s, "integer"):
		return "integer"
	case hasType(s, "number"):
		return "number"
	case hasType(s, "string"):
		switch {
		case key == "object":
			return "object"
		case strings.HasSuffix(s.Location, "/$defs/formula") || key == "filter" || key == "formula" || key == "condition" ||
			key == "becomes_true" || strings.HasSuffix(key, "_formula") || strings.HasSuffix(key, "_if") || strings.HasSuffix(key, "_criteria"):
			return "formula"
		case s.MaxLength > 500 || key == "description" || key == "body" || key == "message":
			return "area"
		}
		return "text"
	case hasType(s, "array") && items(s) != nil:
		if isText(items(s)) {
			return "lines"
		}
		return "rows"
	case hasType(s, "object") && len(s.Properties) > 0:
		return "group"
	}
	return "json"
}

// title is the label of a property: the UI's text for it, else its name
// made readable.
func (f *kindForm) title(key string) string {
	if hasMessage("prop_" + key) {
		return tr(f.lang, "prop_"+key)
	}
	s := strings.ReplaceAll(key, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// inputID is the id of the input of a JSON pointer.
func inputID(path string) string { return "d" + strings.ReplaceAll(path, "/", "-") }

// build generates the form of a document (doc as decoded from JSON, nil
// for a new one).
func (f *kindForm) build(doc any) *fnode {
	n := f.node(deref(f.root), "", "", doc, true)
	n.Type = "group"
	return n
}

// fieldNames lists the fields of a document's object (its "object"), for
// its field inputs to offer.
func (f *kindForm) fieldNames(doc any) []string {
	m, _ := doc.(map[string]any)
	name, _ := m["object"].(string)
	o, ok := f.sc.Object(name)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(o.Fields))
	for _, fd := range o.Fields {
		out = append(out, fd.Name)
	}
	return out
}

// properties lists an object schema's properties in the order the kind's
// schema writes them (names sorted, "name" first, where it is not known).
func (f *kindForm) properties(s *jsonschema.Schema) []string {
	keys := make([]string, 0, len(s.Properties))
	if o := f.order.at(s.Location); o != nil {
		if p := o.kids["properties"]; p != nil {
			keys = append(keys, p.keys...)
		}
	}
	var rest []string
	for k := range s.Properties {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if (rest[i] == "name") != (rest[j] == "name") {
			return rest[i] == "name"
		}
		return rest[i] < rest[j]
	})
	return append(keys, rest...)
}

// node generates the form of value v of schema s at path.
func (f *kindForm) node(s *jsonschema.Schema, key, path string, v any, required bool) *fnode {
	s = deref(s)
	n := &fnode{Type: kindOf(s, key), Path: path, ID: inputID(path), Label: f.title(key), Required: required}
	switch n.Type {
	case "group":
		m, _ := v.(map[string]any)
		for _, k := range f.properties(s) {
			n.Children = append(n.Children, f.node(s.Properties[k], k, path+"/"+k, m[k], slices.Contains(s.Required, k)))
		}
	case "rows":
		list, _ := v.([]any)
		it := items(s)
		for i, e := range list {
			c := f.node(it, key, path+"/"+strconv.Itoa(i), e, false)
			c.Item, c.Label = true, tr(f.lang, "row_n", n.Label, i+1)
			c.Remove = tr(f.lang, "remove_row", c.Label)
			n.Children = append(n.Children, c)
		}
		n.Add = tr(f.lang, "add_row", n.Label)
	case "label":
		switch l := v.(type) {
		case string:
			n.Value = l
		case map[string]any:
			n.Value, _ = l["en"].(string)
			n.Zh, _ = l["zh"].(string)
		}
	case "lines":
		switch l := v.(type) {
		case string:
			n.Value = l
		case []any:
			parts := make([]string, 0, len(l))
			for _, e := range l {
				parts = append(parts, fmt.Sprint(e))
			}
			n.Value = strings.Join(parts, "\n")
		}
		n.Help = tr(f.lang, "one_per_line")
	case "choice":
		sel, text := "", ""
		switch c := v.(type) {
		case string:
			sel = c
		case map[string]any:
			for k, val := range c {
				sel, text = k, fmt.Sprint(val)
			}
		}
		n.Choices = append(n.Choices, optionView{Label: "—"})
		for _, a := range alternatives(s) {
			if a.Key != "" {
				n.Choices = append(n.Choices, optionView{Value: a.Key, Label: f.title(a.Key) + " …", Selected: sel == a.Key})
			} else {
				n.Choices = append(n.Choices, optionView{Value: a.Value, Label: f.title(a.Value), Selected: sel == a.Value})
			}
		}
		n.Value, n.Other = text, tr(f.lang, "choice_value", n.Label)
	case "enum", "bool", "object":
		cur := scalarString(v)
		n.Choices = append(n.Choices, optionView{Label: "—"})
		var values []optionView
		switch n.Type {
		case "enum":
			for _, e := range stringEnum(s) {
				values = append(values, optionView{Value: e, Label: f.title(e)})
			}
		case "bool":
			values = []optionView{{Value: "true", Label: tr(f.lang, "yes")}, {Value: "false", Label: tr(f.lang, "no")}}
		case "object":
			values = append(values, f.objects...)
		}
		found := cur == ""
		for _, o := range values {
			o.Selected = o.Value == cur
			found = found || o.Selected
			n.Choices = append(n.Choices, o)
		}
		if !found { // a value the document has though it is not offered
			n.Choices = append(n.Choices, optionView{Value: cur, Label: cur, Selected: true})
		}
	case "json":
		if v != nil {
			if str, ok := v.(string); ok && !json.Valid([]byte(str)) {
				n.Value = str // a text as it is ("pending"; "true" is quoted)
			} else {
				n.Value = jsonText(v)
			}
		}
		n.Help = tr(f.lang, "json_value_help")
	default:
		n.Value = scalarString(v)
		n.Fields = n.Type == "text" && key == "field"
		if n.Type == "formula" {
			n.Help = tr(f.lang, "formula_input_help")
		}
	}
	switch n.Type {
	case "lines", "json", "formula", "area":
		n.Wide, n.Rows = true, max(2, min(12, strings.Count(n.Value, "\n")+2))
	case "label":
		n.Other, n.Label = tr(f.lang, "in_chinese", n.Label), tr(f.lang, "in_english", n.Label)
		if lines := max(strings.Count(n.Value, "\n"), strings.Count(n.Zh, "\n")); lines > 0 {
			n.Wide, n.Rows = true, min(16, lines+2)
		}
	}
	return n
}

// posted reads a value a generated form posted.
type posted func(name string) string

// read reads a posted form back into a document. Rows stay in place even
// when empty (so adding and removing rows keeps the form as it was); prune
// drops them before the document is checked.
func (f *kindForm) read(get posted) any {
	v, _ := f.value(deref(f.root), "", "", get)
	if v == nil {
		v = map[string]any{}
	}
	return v
}

// value reads the value of schema s at path; ok is false when the form
// leaves it out.
func (f *kindForm) value(s *jsonschema.Schema, key, path string, get posted) (any, bool) {
	s = deref(s)
	raw := get("f" + path)
	text := strings.TrimSpace(raw)
	switch kindOf(s, key) {
	case "group":
		m := map[string]any{}
		for _, k := range f.properties(s) {
			if v, ok := f.value(s.Properties[k], k, path+"/"+k, get); ok {
				m[k] = v
			}
		}
		return m, len(m) > 0
	case "rows":
		count, _ := strconv.Atoi(get("n" + path))
		list := []any{}
		for i := range min(count, 200) {
			v, _ := f.value(items(s), key, path+"/"+strconv.Itoa(i), get)
			list = append(list, v)
		}
		return list, len(list) > 0
	case "label":
		zh := strings.TrimSpace(get("f" + path + "~zh"))
		if strings.Contains(raw, "\n") || strings.Contains(get("f"+path+"~zh"), "\n") { // long texts as written
			text, zh = areaText(raw), areaText(get("f"+path+"~zh"))
		}
		switch {
		case text == "" && zh == "":
			return nil, false
		case zh == "":
			return text, true
		case text == "":
			return map[string]any{"zh": zh}, true
		}
		return map[string]any{"en": text, "zh": zh}, true
	case "lines":
		var list []any
		for _, l := range strings.Split(raw, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				list = append(list, l)
			}
		}
		if len(list) == 0 {
			return nil, false
		}
		if len(list) == 1 && !hasType(s, "array") {
			return list[0], true
		}
		return list, true
	case "choice":
		if text == "" {
			return nil, false
		}
		for _, a := range alternatives(s) {
			if a.Value == text {
				return text, true
			}
		}
		return map[string]any{text: strings.TrimSpace(get("f" + path + "~v"))}, true
	case "bool":
		if text == "" {
			return nil, false
		}
		return text == "true", true
	case "integer", "number":
		if text == "" {
			return nil, false
		}
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return text, true // the schema says what is wrong, at this input
		}
		return json.Number(text), true
	case "json":
		if text == "" {
			return nil, false
		}
		var v any
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		if d.Decode(&v) != nil || d.More() {
			return text, true // a text as it is
		}
		return v, true
	case "formula", "area":
		if text == "" {
			return nil, false
		}
		return areaText(raw), true
	}
	return text, text != ""
}

// areaText is the text of a text area as written (browsers send its
// lines ended by CR LF); only blanks is none.
func areaText(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// prune drops what the form's empty rows and groups left in a document.
func prune(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if pv, ok := prune(e); ok {
				x[k] = pv
			} else {
				delete(x, k)
			}
		}
		return x, len(x) > 0
	case []any:
		out := []any{}
		for _, e := range x {
			if pv, ok := prune(e); ok {
				out = append(out, pv)
			}
		}
		return out, len(out) > 0
	}
	return v, v != nil
}

// rowOp adds an empty row to the list at a JSON pointer ("add:/steps") or
// removes the row at one ("del:/steps/1"), in a document read by read.
func rowOp(doc any, op string) bool {
	verb, ptr, _ := strings.Cut(op, ":")
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	at := -1
	switch verb {
	case "add":
	case "del":
		i, err := strconv.Atoi(parts[len(parts)-1])
		if err != nil || len(parts) < 2 {
			return false
		}
		at, parts = i, parts[:len(parts)-1]
	default:
		return false
	}
	holder := doc
	for _, p := range parts[:len(parts)-1] {
		if holder = child(holder, p); holder == nil {
			return false
		}
	}
	key := parts[len(parts)-1]
	list, _ := child(holder, key).([]any)
	if at < 0 {
		return setChild(holder, key, append(list, nil))
	}
	if at >= len(list) {
		return false
	}
	return setChild(holder, key, append(list[:at:at], list[at+1:]...))
}

// child returns the member key of an object or the element of an array
// (nil when there is none).
func child(c any, key string) any {
	switch x := c.(type) {
	case map[string]any:
		return x[key]
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(x) {
			return x[i]
		}
	}
	return nil
}

// setChild sets the member key of an object or the element of an array.
func setChild(c any, key string, v any) bool {
	switch x := c.(type) {
	case map[string]any:
		x[key] = v
		return true
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(x) {
			x[i] = v
			return true
		}
	}
	return false
}

// attach puts the problems of a refused change next to the inputs their
// JSON pointers name (the nearest enclosing part of the form); those of
// no part are returned.
func (n *fnode) attach(errs map[string]string) {
	if e, ok := errs[n.Path]; ok {
		n.Error = e
	}
	for _, c := range n.Children {
		c.attach(errs)
	}
}

// paths lists the JSON pointers of a form's parts.
func (n *fnode) paths(out map[string]bool) {
	out[n.Path] = true
	for _, c := range n.Children {
		c.paths(out)
	}
}

// onode is the key order of a JSON object of a kind's schema text.
type onode struct {
	keys []string
	kids map[string]*onode
}

// pointerUnescape decodes a key of a JSON pointer.
var pointerUnescape = strings.NewReplacer("~1", "/", "~0", "~")

// at returns the object at a schema location ("crm://kinds/x.schema.json#/properties/steps/items").
func (o *onode) at(location string) *onode {
	_, frag, ok := strings.Cut(location, "#")
	if o == nil || !ok {
		return nil
	}
	for _, p := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if p == "" {
			continue
		}
		if o = o.kids[pointerUnescape.Replace(p)]; o == nil {
			return nil
		}
	}
	return o
}

var orders sync.Map // kind name → *onode

// sourceOrder returns the key order of a kind's schema text (nil without
// one).
func sourceOrder(kind string, src []byte) *onode {
	if src == nil {
		return nil
	}
	if o, ok := orders.Load(kind); ok {
		return o.(*onode)
	}
	d := json.NewDecoder(bytes.NewReader(src))
	o, err := readOrder(d)
	if err != nil {
		o = nil
	}
	orders.Store(kind, o)
	return o
}

// readOrder reads one JSON value, keeping the key order of its objects
// (arrays' elements are keyed by index).
func readOrder(d *json.Decoder) (*onode, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil, nil
	}
	o := &onode{kids: map[string]*onode{}}
	for i := 0; d.More(); i++ {
		key := strconv.Itoa(i)
		if delim == '{' {
			t, err := d.Token()
			if err != nil {
				return nil, err
			}
			key, _ = t.(string)
			o.keys = append(o.keys, key)
		}
		kid, err := readOrder(d)
		if err != nil {
			return nil, err
		}
		if kid != nil {
			o.kids[key] = kid
		}
	}
	if _, err := d.Token(); err != nil { // the closing delimiter
		return nil, err
	}
	return o, nil
}
