package metadata

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

//go:embed schema/metadata.schema.json
var schemaJSON []byte

// Names of the built-in document kinds and of the template manifest, each
// checked by its own part of the embedded JSON Schema. DocObject and
// DocRole are also the names of their kinds in the registry (DocKinds).
const (
	DocObject   = "objects"
	DocRole     = "roles"
	DocTemplate = "template"
)

// metadataSchemaURL names the embedded schema; kinds' schemas may refer to
// its definitions.
const metadataSchemaURL = "crm://metadata.schema.json"

// docSchemas are the compiled definitions of objects, roles and the
// template manifest, by their name in the embedded schema's $defs,
// compiled again when field types were registered since (their names are
// the enum of a field's type).
var docSchemas struct {
	sync.Mutex
	types int
	byDef map[string]*jsonschema.Schema
}

// documentSchema returns the compiled definition def ("object", "role",
// "template") of the embedded schema.
func documentSchema(def string) *jsonschema.Schema {
	docSchemas.Lock()
	defer docSchemas.Unlock()
	if n := len(FieldTypeNames()); docSchemas.byDef == nil || n != docSchemas.types {
		docSchemas.byDef, docSchemas.types = compileSchemas(), n
	}
	return docSchemas.byDef[def]
}

// newSchemaCompiler returns a JSON Schema compiler that knows the embedded
// metadata schema (with the registered field types as the values a
// field's type may take) and refuses to load anything else.
func newSchemaCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.LoadURL = refuseURL
	if err := c.AddResource(metadataSchemaURL, bytes.NewReader(withFieldTypes(schemaJSON))); err != nil {
		panic(err)
	}
	return c
}

// compileSchemas compiles the definitions of the embedded schema.
func compileSchemas() map[string]*jsonschema.Schema {
	c := newSchemaCompiler()
	out := map[string]*jsonschema.Schema{}
	for _, def := range []string{"object", "role", "template"} {
		out[def] = c.MustCompile(metadataSchemaURL + "#/$defs/" + def)
	}
	return out
}

// refuseURL is the schema loader: nothing outside the embedded schemas
// may be referenced.
func refuseURL(url string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("metadata: schema reference %q is not allowed", url)
}

// DecodeDocument parses YAML or JSON (JSON is YAML) into plain values with
// string keys, ready for schema validation.
func DecodeDocument(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	// A round trip through JSON turns YAML's values into JSON's (numbers as
	// float64 or int, maps with string keys) as the schema validator wants.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot be represented as JSON: %w", err)
	}
	var out any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckDocument validates a decoded document of the given kind (a
// registered kind's name, or DocTemplate) against its JSON Schema and
// returns one problem per failing value, with its JSON pointer.
func CheckDocument(kind string, doc any) Problems {
	var sch *jsonschema.Schema
	if kind == DocTemplate {
		sch = documentSchema("template")
	} else if k, ok := LookupKind(kind); ok {
		sch = k.jsonSchema()
	} else {
		return Problems{Problemf("", "unknown document kind %q", kind)}
	}
	return checkAgainst(sch, doc)
}

// checkAgainst validates a decoded document against a compiled schema and
// returns one problem per failing value, with its JSON pointer.
func checkAgainst(sch *jsonschema.Schema, doc any) Problems {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Problems{Problemf("", "%v", err)}
	}
	var ps Problems
	seen := map[string]bool{}
	for _, e := range leaves(ve) {
		msg := e.Message
		if strings.Contains(e.KeywordLocation, "/additionalProperties") && strings.HasPrefix(msg, "additionalProperties") {
			msg = strings.Replace(msg, "additionalProperties", "unknown key(s)", 1)
			msg = strings.Replace(msg, " not allowed", "", 1)
		}
		msg = plainPattern(msg)
		key := e.InstanceLocation + "\x00" + msg
		if seen[key] {
			continue
		}
		seen[key] = true
		ps = append(ps, Problem{Path: e.InstanceLocation, Message: msg})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	return ps
}

// patternWords says in words what the patterns of the embedded schemas
// ask for, so a problem never shows a regular expression.
var patternWords = map[string]string{
	"^[a-z][a-z0-9_]*$":           "must start with a lowercase letter and hold only lowercase letters, digits and _",
	"^[a-z]{2}(-[A-Za-z]{2,4})?$": "must be a language code such as en or zh-CN",
}

// plainPattern replaces jsonschema's "does not match pattern '…'" with
// what the pattern asks for.
func plainPattern(msg string) string {
	p, ok := strings.CutPrefix(msg, "does not match pattern ")
	if !ok {
		return msg
	}
	if w, ok := patternWords[strings.Trim(p, "'")]; ok {
		return w
	}
	return "is not in the expected form"
}

// leaves returns the innermost errors of a validation error tree: the ones
// that say what is wrong rather than which branch failed. Where a oneOf
// failed, only its least deep branch is kept, so "label" errors read as one.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	if strings.HasSuffix(e.KeywordLocation, "/oneOf") || strings.HasSuffix(e.KeywordLocation, "/anyOf") {
		return []*jsonschema.ValidationError{{
			KeywordLocation:  e.KeywordLocation,
			InstanceLocation: e.InstanceLocation,
			Message:          oneOfMessage(e),
		}}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// oneOfMessage summarises the failures of the branches of a oneOf.
func oneOfMessage(e *jsonschema.ValidationError) string {
	var parts []string
	for _, c := range e.Causes {
		for _, l := range leaves(c) {
			parts = append(parts, plainPattern(l.Message))
		}
	}
	return "matches none of the allowed forms: " + strings.Join(parts, "; or ")
}

// decodeInto decodes a schema-checked document into a Go value, refusing
// unknown keys the schema let through.
func decodeInto(doc any, out any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(out)
}
