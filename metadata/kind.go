package metadata

import (
	"bytes"
	"fmt"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// DocKind is a registered kind of metadata document: objects, roles, and
// whatever other packages register (conversions, approvals, reports …).
// Each kind has a name (the key of Schema.Docs and the API path
// /api/meta/{name}), the folder of a template that holds its documents, a
// JSON Schema every document passes, semantic checks against the whole
// schema and an optional compiler run once per metadata version.
type DocKind struct {
	name    string
	folder  string
	public  bool
	builtin bool
	// schema is the compiled JSON Schema of a registered kind; def names
	// the definition of the embedded schema of a built-in one.
	schema *jsonschema.Schema
	def    string
	// source is the JSON text of a registered kind's schema.
	source []byte
	// decode turns a schema-checked document into the kind's Go value.
	decode func(doc any) (any, error)
	// put adds a parsed document to a schema, replacing one of the same
	// name.
	put func(s *Schema, d *Document)
	// check runs the kind's semantic checks on one document's Go value.
	check func(s *Schema, v any) Problems
	// compile derives what the engine keeps per metadata version.
	compile func(s *Schema) (any, Problems)
}

// Name is the kind's name: "objects", "roles", "reports" ….
func (k *DocKind) Name() string { return k.name }

// Folder is the folder of a template holding the kind's documents.
func (k *DocKind) Folder() string { return k.folder }

// Public reports whether every signed-in user may read the kind's
// documents through the API (otherwise only administrators may).
func (k *DocKind) Public() bool { return k.public }

// Builtin reports whether the kind is objects or roles, whose documents
// live in Schema.Objects and Schema.Roles rather than Schema.Docs.
func (k *DocKind) Builtin() bool { return k.builtin }

// jsonSchema returns the compiled JSON Schema of one document of the kind.
func (k *DocKind) jsonSchema() *jsonschema.Schema {
	if k.def != "" {
		return documentSchema(k.def)
	}
	return k.schema
}

// JSONSchema returns the compiled JSON Schema one document of the kind
// passes and, for a registered kind, the schema's JSON text (nil for
// objects and roles): the builder generates its forms from them.
func (k *DocKind) JSONSchema() (*jsonschema.Schema, []byte) { return k.jsonSchema(), k.source }

// Compile runs the kind's compiler on s: what it returns is kept with the
// metadata version (engine.Snapshot.Compiled(kind name)). A kind without
// a compiler returns nil and no problems.
func (k *DocKind) Compile(s *Schema) (any, Problems) {
	if k.compile == nil {
		return nil, nil
	}
	return k.compile(s)
}

// KindSpec describes a document kind whose documents decode into T (a
// struct with json tags; keys it does not know are refused).
type KindSpec[T any] struct {
	// Name is the kind's name: a lowercase identifier, plural by custom
	// ("reports"). It keys Schema.Docs and names the API path
	// /api/meta/{Name}.
	Name string
	// Folder is the template folder of the kind's documents; Name when
	// empty.
	Folder string
	// Schema is the JSON Schema (draft 2020-12) of one document; it must
	// require a "name" key. It may refer to the shared definitions of
	// crm://metadata.schema.json ("#/$defs/label", "#/$defs/identifier");
	// nothing else is loaded.
	Schema []byte
	// Public lets every signed-in user read the documents through the
	// API; otherwise only administrators may. Writes are always for
	// administrators.
	Public bool
	// Check runs the semantic checks of one document against the whole
	// schema (references to objects and fields …). Problems carry JSON
	// pointers relative to the document; the file is filled in.
	Check func(s *Schema, doc *T) Problems
	// Compile, when set, derives from a schema that passed every check
	// what the engine keeps with the metadata version (compiled
	// conditions, say). Problems should name their file with
	// Schema.Source.
	Compile func(s *Schema) (any, Problems)
}

// Docs is the typed handle RegisterKind returns: it reads the documents of
// its kind out of a schema as the kind's Go type.
type Docs[T any] struct{ kind *DocKind }

// Kind returns the registered kind.
func (d Docs[T]) Kind() *DocKind { return d.kind }

// All returns the kind's documents in s, sorted by name.
func (d Docs[T]) All(s *Schema) []*T {
	docs := s.Documents(d.kind.name)
	out := make([]*T, 0, len(docs))
	for _, doc := range docs {
		if v, ok := doc.Value.(*T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Each calls fn with each of the kind's documents in s, sorted by name, and
// returns the problems fn reports with their file set to the document's
// source, so that a kind's Compile need not name files itself.
func (d Docs[T]) Each(s *Schema, fn func(v *T) Problems) Problems {
	var ps Problems
	for _, doc := range s.Documents(d.kind.name) {
		v, ok := doc.Value.(*T)
		if !ok {
			continue
		}
		for _, p := range fn(v) {
			p.File = s.Source(d.kind.name, doc.Name)
			ps = append(ps, p)
		}
	}
	return ps
}

// Get returns the document named name of the kind in s.
func (d Docs[T]) Get(s *Schema, name string) (*T, bool) {
	doc, ok := s.Document(d.kind.name, name)
	if !ok {
		return nil, false
	}
	v, ok := doc.Value.(*T)
	return v, ok
}

var (
	kindsMu   sync.RWMutex
	kinds     = map[string]*DocKind{}
	kindOrder []*DocKind
)

// reservedKinds are names a registered kind may not take: they are API
// paths of /api/meta or names of the check's own stages.
var reservedKinds = map[string]bool{"versions": true, "field_types": true, "formulas": true, "template": true, SampleFolder: true}

// RegisterKind makes a document kind known: templates load its folder,
// Validate checks its documents, Diff and the versioned storage carry
// them, and the API serves them under /api/meta/{name}. Call it from the
// kind's package at init (or wiring) time, before metadata is loaded. It
// panics on a duplicate name or folder, a reserved name, or a schema that
// does not compile, as database/sql.Register does.
func RegisterKind[T any](spec KindSpec[T]) Docs[T] {
	if spec.Folder == "" {
		spec.Folder = spec.Name
	}
	if !identPattern.MatchString(spec.Name) || reservedKinds[spec.Name] {
		panic(fmt.Sprintf("metadata: document kind name %q is not allowed", spec.Name))
	}
	url := "crm://kinds/" + spec.Name + ".schema.json"
	sch, err := compileKindSchema(url, spec.Schema)
	if err != nil {
		panic(fmt.Sprintf("metadata: schema of document kind %s: %v", spec.Name, err))
	}
	k := &DocKind{
		name: spec.Name, folder: spec.Folder, public: spec.Public, schema: sch, source: bytes.Clone(spec.Schema),
		decode:  decodeAs[T],
		put:     func(s *Schema, d *Document) { s.PutDocument(spec.Name, d) },
		compile: spec.Compile,
	}
	if spec.Check != nil {
		k.check = func(s *Schema, v any) Problems {
			t, ok := v.(*T)
			if !ok {
				return nil
			}
			return spec.Check(s, t)
		}
	}
	addKind(k)
	return Docs[T]{kind: k}
}

// addKind adds a kind to the registry, refusing duplicates.
func addKind(k *DocKind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[k.name]; dup {
		panic("metadata: document kind registered twice: " + k.name)
	}
	for _, o := range kindOrder {
		if o.folder == k.folder {
			panic(fmt.Sprintf("metadata: document kinds %s and %s share the folder %s", o.name, k.name, k.folder))
		}
	}
	kinds[k.name] = k
	kindOrder = append(kindOrder, k)
	// Objects and roles first (their order matters to the checks), then
	// the others by name, so every walk over kinds is deterministic.
	sort.SliceStable(kindOrder, func(i, j int) bool {
		a, b := kindOrder[i], kindOrder[j]
		if a.builtin != b.builtin {
			return a.builtin
		}
		if a.builtin {
			return false
		}
		return a.name < b.name
	})
}

// LookupKind returns the document kind registered under name.
func LookupKind(name string) (*DocKind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// DocKinds lists the registered kinds: objects, roles, then the others by
// name.
func DocKinds() []*DocKind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	return append([]*DocKind(nil), kindOrder...)
}

// kindForFolder returns the kind whose documents live in folder.
func kindForFolder(folder string) (*DocKind, bool) {
	for _, k := range DocKinds() {
		if k.folder == folder {
			return k, true
		}
	}
	return nil, false
}

// compileKindSchema compiles a kind's schema beside the shared metadata
// schema, refusing any other reference.
func compileKindSchema(url string, doc []byte) (*jsonschema.Schema, error) {
	c := newSchemaCompiler()
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// decodeAs decodes a schema-checked document into a new T, refusing keys
// T does not have.
func decodeAs[T any](doc any) (any, error) {
	v := new(T)
	if err := decodeInto(doc, v); err != nil {
		return nil, err
	}
	return v, nil
}

// The built-in kinds.
var (
	objectKind = &DocKind{
		name: DocObject, folder: "objects", def: "object", public: true, builtin: true,
		decode: decodeAs[Object],
		put: func(s *Schema, d *Document) {
			s.Objects = putNamed(s.Objects, d.Value.(*Object), func(o *Object) string { return o.Name })
		},
	}
	roleKind = &DocKind{
		name: DocRole, folder: "roles", def: "role", builtin: true,
		decode: decodeAs[Role],
		put: func(s *Schema, d *Document) {
			s.Roles = putNamed(s.Roles, d.Value.(*Role), func(r *Role) string { return r.Name })
		},
	}
)

// putNamed replaces the element of list with v's name in its place, or
// appends v.
func putNamed[T any](list []*T, v *T, name func(*T) string) []*T {
	for i, cur := range list {
		if name(cur) == name(v) {
			list[i] = v
			return list
		}
	}
	return append(list, v)
}

func init() {
	addKind(objectKind)
	addKind(roleKind)
}
