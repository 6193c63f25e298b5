package metadata

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Label is a user-facing text in several languages, keyed by language code
// ("en", "zh"). In documents it is either a map or a plain string, which is
// taken as English.
type Label map[string]string

// UnmarshalJSON accepts a plain string as the English label.
func (l *Label) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = Label{"en": s}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("label: %w", err)
	}
	*l = m
	return nil
}

// Get returns the label in lang, falling back to English and then to any
// language present.
func (l Label) Get(lang string) string {
	if s, ok := l[lang]; ok && s != "" {
		return s
	}
	if s, ok := l["en"]; ok && s != "" {
		return s
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if l[k] != "" {
			return l[k]
		}
	}
	return ""
}

// Option is one value of a picklist or multi-picklist. Keys other than
// value, label and when are free attributes (a stage's probability, a
// colour) kept in Attrs.
type Option struct {
	Value string         `json:"value"`
	Label Label          `json:"label,omitempty"`
	When  []string       `json:"when,omitempty"`
	Attrs map[string]any `json:"-"`
}

// UnmarshalJSON decodes an option, keeping unknown keys as attributes.
func (o *Option) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("option: %w", err)
	}
	*o = Option{}
	for k, v := range raw {
		var err error
		switch k {
		case "value":
			err = json.Unmarshal(v, &o.Value)
		case "label":
			err = json.Unmarshal(v, &o.Label)
		case "when":
			err = json.Unmarshal(v, &o.When)
		default:
			if o.Attrs == nil {
				o.Attrs = map[string]any{}
			}
			var a any
			d := json.NewDecoder(strings.NewReader(string(v)))
			d.UseNumber()
			err = d.Decode(&a)
			o.Attrs[k] = normalizeNumber(a)
		}
		if err != nil {
			return fmt.Errorf("option %q: %w", k, err)
		}
	}
	return nil
}

// MarshalJSON encodes an option with its attributes inline.
func (o Option) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(o.Attrs)+3)
	for k, v := range o.Attrs {
		m[k] = v
	}
	m["value"] = o.Value
	if len(o.Label) > 0 {
		m["label"] = o.Label
	}
	if len(o.When) > 0 {
		m["when"] = o.When
	}
	return json.Marshal(m)
}

// normalizeNumber turns a json.Number into int64 or float64 and leaves other
// values alone, recursing into maps and slices.
func normalizeNumber(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumber(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumber(e)
		}
	}
	return v
}

// Field is one field of an object. Which options apply depends on Type.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Label    Label  `json:"label,omitempty"`
	Help     Label  `json:"help,omitempty"`
	Required bool   `json:"required,omitempty"`
	Unique   bool   `json:"unique,omitempty"`
	Default  any    `json:"default,omitempty"`
	// DefaultFormula is an expression giving the default value on create,
	// such as "today() + 30".
	DefaultFormula string   `json:"default_formula,omitempty"`
	Options        []Option `json:"options,omitempty"`
	Target         string   `json:"target,omitempty"`
	OnDelete       string   `json:"on_delete,omitempty"`
	// MasterDetail makes a required, cascading lookup a master-detail
	// relationship: the record is part of its master (a quote's line),
	// always held by the master's owner, written only by those who may
	// change the master (docs/metadata.md). At most one per object.
	MasterDetail bool     `json:"master_detail,omitempty"`
	Formula      string   `json:"formula,omitempty"`
	MaxLength    int      `json:"max_length,omitempty"`
	Min          *float64 `json:"min,omitempty"`
	Max          *float64 `json:"max,omitempty"`
	Pattern      string   `json:"pattern,omitempty"`
	Tracked      bool     `json:"tracked,omitempty"`
	DependsOn    string   `json:"depends_on,omitempty"`
	// Scale is the number of decimal places of a currency or decimal field.
	Scale *int `json:"scale,omitempty"`
	// Format is the numbering pattern of an auto-number field, such as
	// "CT-{YYYY}-{0000}".
	Format string `json:"format,omitempty"`
	// MaxSize is the largest accepted upload, in bytes, of a file or image field.
	MaxSize int64 `json:"max_size,omitempty"`
	// Accept lists the content types a file or image field accepts.
	Accept []string `json:"accept,omitempty"`
	// Visibility "all" makes a computed field readable by everyone who may
	// read the record, even users who may not read what it is computed
	// from; by default (empty) it is readable only by users who may read
	// every field it reads (and, for a roll-up, every child record).
	Visibility string `json:"visibility,omitempty"`
}

// VisibilityAll is the Visibility that shows a computed field to every
// reader of its record.
const VisibilityAll = "all"

// Title returns the field's label in lang, or its name.
func (f *Field) Title(lang string) string {
	if s := f.Label.Get(lang); s != "" {
		return s
	}
	return f.Name
}

// Option returns the option with the given value.
func (f *Field) Option(value string) (*Option, bool) {
	for i := range f.Options {
		if f.Options[i].Value == value {
			return &f.Options[i], true
		}
	}
	return nil, false
}

// OptionLabel returns how a value of the field shows in lang: the label
// of its option (Label.Get), or the value itself when it is no option or
// its option has no label.
func (f *Field) OptionLabel(value, lang string) string {
	if o, ok := f.Option(value); ok {
		if l := o.Label.Get(lang); l != "" {
			return l
		}
	}
	return value
}

// ScaleOr returns the field's scale or def when none is set.
func (f *Field) ScaleOr(def int) int {
	if f.Scale != nil {
		return *f.Scale
	}
	return def
}

// ValidationRule is a condition every record of an object must meet; when
// it is false the write is refused with Message, attached to Field if set.
type ValidationRule struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Message   Label  `json:"message"`
	Field     string `json:"field,omitempty"`
}

// Object is a business object (lead, account, a custom object) that becomes
// one table.
type Object struct {
	Name            string           `json:"name"`
	Label           Label            `json:"label,omitempty"`
	PluralLabel     Label            `json:"plural_label,omitempty"`
	Description     string           `json:"description,omitempty"`
	TitleField      string           `json:"title_field,omitempty"`
	Fields          []*Field         `json:"fields"`
	ValidationRules []ValidationRule `json:"validation_rules,omitempty"`
	// Indexes are the indexes the object declares on its table, besides
	// those the engine makes by itself (docs/metadata.md).
	Indexes []Index `json:"indexes,omitempty"`
}

// Field returns the field named name.
func (o *Object) Field(name string) (*Field, bool) {
	for _, f := range o.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// Title returns the object's label in lang, or its name.
func (o *Object) Title(lang string) string {
	if s := o.Label.Get(lang); s != "" {
		return s
	}
	return o.Name
}

// NamingField returns the field naming the records of o: its title field,
// else a field called name, else its first text field; nil for none.
func (o *Object) NamingField() *Field {
	if o.TitleField != "" {
		if f, ok := o.Field(o.TitleField); ok {
			return f
		}
	}
	if f, ok := o.Field("name"); ok {
		return f
	}
	for _, f := range o.Fields {
		if f.Type == "text" {
			return f
		}
	}
	return nil
}

// RecordTitle returns the text naming record rec of o: its naming field's
// text (NamingField), else its id.
func (o *Object) RecordTitle(rec map[string]any) string {
	if f := o.NamingField(); f != nil {
		if s, ok := rec[f.Name].(string); ok && s != "" {
			return s
		}
	}
	id, _ := rec["id"].(string)
	return id
}

// Clone returns a deep copy of the object made through its JSON form.
func (o *Object) Clone() *Object {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("metadata: clone %s: %v", o.Name, err))
	}
	var c Object
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("metadata: clone %s: %v", o.Name, err))
	}
	return &c
}

// Schema is the whole metadata a database holds at one version: objects,
// roles and the documents of every other registered kind.
type Schema struct {
	Objects []*Object `json:"objects"`
	Roles   []*Role   `json:"roles,omitempty"`
	// Docs holds the documents of the kinds other than objects and roles,
	// by kind name, each list sorted by document name.
	Docs map[string][]*Document `json:"docs,omitempty"`
	// Sources maps "kind:name" to the file a document came from.
	Sources map[string]string `json:"-"`
}

// Object returns the object named name.
func (s *Schema) Object(name string) (*Object, bool) {
	for _, o := range s.Objects {
		if o.Name == name {
			return o, true
		}
	}
	return nil, false
}

// Clone returns a deep copy of the schema.
func (s *Schema) Clone() *Schema {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("metadata: clone schema: %v", err))
	}
	var c Schema
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("metadata: clone schema: %v", err))
	}
	return &c
}

// source names the file a document came from, for problem reports; a
// definition that came through the API is named by where its file would
// be in a template (objects/NAME, roles/NAME, reports/NAME).
func (s *Schema) source(kind, name string, index int) string {
	if f, ok := s.Sources[kind+":"+name]; ok {
		return f
	}
	folder := kind
	if k, ok := LookupKind(kind); ok {
		folder = k.folder
	}
	if name == "" {
		return fmt.Sprintf("%s[%d]", folder, index)
	}
	return folder + "/" + name
}

// Source names the file the document of kind named name came from (or,
// for one that came through the API, where its file would be in a
// template), for the File of a problem.
func (s *Schema) Source(kind, name string) string { return s.source(kind, name, 0) }

// SetSource records the file a document of kind (DocObject, DocRole, a
// registered kind's name) named name came from.
func (s *Schema) SetSource(kind, name, file string) {
	if s.Sources == nil {
		s.Sources = map[string]string{}
	}
	s.Sources[kind+":"+name] = file
}
