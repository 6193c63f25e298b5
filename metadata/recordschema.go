package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// FieldSchema describes the JSON form of a field's value as JSON Schema
// (draft 2020-12, which OpenAPI 3.1 shares). Every value may be null;
// whether a field is required is checked on the merged record.
func FieldSchema(f *Field) map[string]any {
	m := map[string]any{}
	kind := TypeOf(f).Kind()
	switch kind {
	case KindInt:
		m["type"] = []string{"integer", "null"}
	case KindFloat:
		m["type"] = []string{"number", "null"}
	case KindMoney:
		m["type"] = []string{"number", "string", "null"}
		m["pattern"] = `^-?[0-9]+(\.[0-9]+)?$`
	case KindBool:
		m["type"] = []string{"boolean", "null"}
	case KindDate:
		m["type"], m["format"] = []string{"string", "null"}, "date"
	case KindDateTime:
		m["type"], m["format"] = []string{"string", "null"}, "date-time"
	case KindStringList, KindRefList:
		m["type"], m["items"] = []string{"array", "null"}, map[string]any{"type": "string"}
	case KindFile:
		m["type"] = []string{"object", "null"}
		m["properties"] = map[string]any{"id": map[string]any{"type": "string"}, "name": map[string]any{"type": "string"},
			"size": map[string]any{"type": "integer"}, "content_type": map[string]any{"type": "string"}}
		m["required"] = []string{"id"}
	default:
		m["type"] = []string{"string", "null"}
	}
	if len(f.Options) > 0 {
		vals := make([]any, 0, len(f.Options)+1)
		for _, o := range f.Options {
			vals = append(vals, o.Value)
		}
		if kind == KindStringList {
			m["items"] = map[string]any{"type": "string", "enum": vals}
		} else {
			m["enum"] = append(vals, nil)
		}
	}
	if t := f.Label.Get("en"); t != "" {
		m["title"] = t
	}
	if d := f.Help.Get("en"); d != "" {
		m["description"] = d
	}
	if Computed(f) || IsSystemField(f.Name) {
		m["readOnly"] = true
	}
	return m
}

// RecordSchema describes a record of o as JSON Schema: the system fields
// and every field, keyed by name. Only the fields in visible are included
// when it is not nil.
func RecordSchema(o *Object, visible func(field string) bool) map[string]any {
	props := map[string]any{}
	for _, f := range systemFields {
		props[f.Name] = FieldSchema(f)
	}
	for _, f := range o.Fields {
		if visible == nil || visible(f.Name) {
			props[f.Name] = FieldSchema(f)
		}
	}
	return map[string]any{"type": "object", "title": o.Title("en"), "properties": props}
}

// CompileRecordSchema compiles the JSON Schema of o's records, so record
// bodies are checked by the same library as metadata. Nothing is loaded
// from outside.
func CompileRecordSchema(o *Object) (*jsonschema.Schema, error) {
	doc, err := RecordSchemaDoc(o)
	if err != nil {
		return nil, err
	}
	return CompileRecordSchemaDoc(o.Name, doc)
}

// RecordSchemaDoc is the JSON document of o's record schema
// (RecordSchema with every field), which CompileRecordSchemaDoc compiles:
// two objects with equal documents compile to equal schemas.
func RecordSchemaDoc(o *Object) ([]byte, error) {
	doc, err := json.Marshal(RecordSchema(o, nil))
	if err != nil {
		return nil, fmt.Errorf("metadata: record schema of %s: %w", o.Name, err)
	}
	return doc, nil
}

// CompileRecordSchemaDoc compiles the record schema document of the
// object named object (made by RecordSchemaDoc).
func CompileRecordSchemaDoc(object string, doc []byte) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = refuseURL
	url := "crm://records/" + object + ".json"
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		return nil, fmt.Errorf("metadata: record schema of %s: %w", object, err)
	}
	return c.Compile(url)
}

// RecordErrors validates a decoded record body (json.Number for numbers)
// against a compiled record schema and returns, per top-level field, the
// first problem found. Each field of the body is checked against its
// property's schema, which is what checking the whole object does (its
// schema only names the properties; keys that are no field are the
// caller's to report) at a quarter of the cost: the validator no longer
// walks every property of the object for a body that sends a few.
func RecordErrors(sch *jsonschema.Schema, body map[string]any) map[string]string {
	var out map[string]string
	for field, v := range body {
		p := sch.Properties[field]
		if p == nil {
			continue
		}
		err := p.Validate(v)
		var notJSON jsonschema.InvalidJSONTypeError
		if err == nil || errors.As(err, &notJSON) {
			// A value no JSON decoder makes (the UI's uploaded file
			// reference) is the field type's to check.
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if ve, ok := err.(*jsonschema.ValidationError); ok {
			out[field] = leaves(ve)[0].Message
		} else {
			out[field] = err.Error()
		}
	}
	return out
}
