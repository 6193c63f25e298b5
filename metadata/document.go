package metadata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Document is one document of a registered kind: its name, the document
// as decoded JSON values (what is stored and compared) and the kind's Go
// value decoded from it. Value is derived from Raw: change a document by
// replacing it (PutDocument), not by editing Value.
type Document struct {
	Name string
	// Raw is the document as JSON values (numbers as json.Number).
	Raw map[string]any
	// Value is the kind's Go value (*T of its KindSpec), or nil for a
	// document of a kind this program does not know.
	Value any
}

// MarshalJSON writes the document as it was written.
func (d *Document) MarshalJSON() ([]byte, error) { return json.Marshal(d.Raw) }

// Parse decodes one document of the kind (YAML or JSON), checks it against
// the kind's JSON Schema and decodes it into the kind's Go value. Problems
// carry file and the JSON pointer of each bad value; checks that need the
// other documents are left to Validate.
func (k *DocKind) Parse(file string, data []byte) (*Document, Problems) {
	doc, err := DecodeDocument(data)
	if err != nil {
		return nil, Problems{{File: file, Message: err.Error()}}
	}
	return k.ParseValue(file, doc)
}

// ParseValue is Parse for a document already decoded into JSON values
// (numbers as json.Number or float64).
func (k *DocKind) ParseValue(file string, doc any) (*Document, Problems) {
	d, ps := k.parse(doc)
	for i := range ps {
		ps[i].File = file
	}
	return d, ps
}

// parse checks and decodes one document.
func (k *DocKind) parse(doc any) (*Document, Problems) {
	if ps := checkAgainst(k.jsonSchema(), doc); len(ps) > 0 {
		return nil, ps
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, Problems{Problemf("", "a %s document must be a mapping of keys to values", k.name)}
	}
	name, _ := m["name"].(string)
	if name == "" {
		return nil, Problems{Problemf("/name", "a %s document needs a name", k.name)}
	}
	v, err := k.decode(doc)
	if err != nil {
		return nil, Problems{Problemf("", "%s", decodeMessage(err))}
	}
	return &Document{Name: name, Raw: m, Value: v}, nil
}

// decodeMessage turns an error of encoding/json into a user's message.
func decodeMessage(err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown key " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

// Documents returns the documents of kind (other than objects and roles),
// sorted by name.
func (s *Schema) Documents(kind string) []*Document { return s.Docs[kind] }

// Document returns the document of kind named name.
func (s *Schema) Document(kind, name string) (*Document, bool) {
	docs := s.Docs[kind]
	i := sort.Search(len(docs), func(i int) bool { return docs[i].Name >= name })
	if i < len(docs) && docs[i].Name == name {
		return docs[i], true
	}
	return nil, false
}

// PutDocument adds d to the documents of kind, replacing the one of the
// same name; the list stays sorted by name.
func (s *Schema) PutDocument(kind string, d *Document) {
	if s.Docs == nil {
		s.Docs = map[string][]*Document{}
	}
	docs := s.Docs[kind]
	i := sort.Search(len(docs), func(i int) bool { return docs[i].Name >= d.Name })
	if i < len(docs) && docs[i].Name == d.Name {
		docs[i] = d
		return
	}
	docs = append(docs, nil)
	copy(docs[i+1:], docs[i:])
	docs[i] = d
	s.Docs[kind] = docs
}

// RemoveDocument removes the document of kind named name and reports
// whether there was one.
func (s *Schema) RemoveDocument(kind, name string) bool {
	docs := s.Docs[kind]
	for i, d := range docs {
		if d.Name == name {
			s.Docs[kind] = append(docs[:i:i], docs[i+1:]...)
			if len(s.Docs[kind]) == 0 {
				delete(s.Docs, kind)
			}
			return true
		}
	}
	return false
}

// UnmarshalJSON reads a schema as MarshalJSON wrote it (the stored form of
// a metadata version), decoding each document into its kind's Go value.
func (s *Schema) UnmarshalJSON(b []byte) error {
	var aux struct {
		Objects []*Object                    `json:"objects"`
		Roles   []*Role                      `json:"roles"`
		Docs    map[string][]json.RawMessage `json:"docs"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = Schema{Objects: aux.Objects, Roles: aux.Roles}
	for kind, raws := range aux.Docs {
		k, known := LookupKind(kind)
		for i, raw := range raws {
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				return fmt.Errorf("metadata: %s document %d: %w", kind, i, err)
			}
			doc := &Document{Raw: m}
			doc.Name, _ = m["name"].(string)
			if known && !k.builtin {
				v, err := k.decode(m)
				if err != nil {
					return fmt.Errorf("metadata: %s document %q: %s", kind, doc.Name, decodeMessage(err))
				}
				doc.Value = v
			}
			s.PutDocument(kind, doc)
		}
	}
	return nil
}
