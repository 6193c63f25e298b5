package metadata

import (
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// note is the Go type of the test kind "notes": a text attached to a field.
type note struct {
	Name   string `json:"name"`
	Object string `json:"object"`
	Field  string `json:"field,omitempty"`
	Text   Label  `json:"text"`
	Order  int    `json:"order,omitempty"`
}

// notes is a document kind registered the way another package would.
var notes = RegisterKind(KindSpec[note]{
	Name: "notes",
	Schema: []byte(`{
		"type": "object",
		"required": ["name", "object", "text"],
		"additionalProperties": false,
		"properties": {
			"name": {"$ref": "crm://metadata.schema.json#/$defs/identifier"},
			"object": {"type": "string"},
			"field": {"type": "string"},
			"text": {"$ref": "crm://metadata.schema.json#/$defs/label"},
			"order": {"type": "integer"}
		}
	}`),
	Check: func(s *Schema, n *note) Problems {
		o, ok := s.Object(n.Object)
		if !ok {
			return Problems{Problemf("/object", "unknown object %q", n.Object)}
		}
		if _, ok := o.Field(n.Field); n.Field != "" && !ok {
			return Problems{Problemf("/field", "no field %q in object %q", n.Field, o.Name)}
		}
		return nil
	},
	Compile: compileNotes,
})

// compileNotes maps each note to its English text.
func compileNotes(s *Schema) (any, Problems) {
	texts := map[string]string{}
	for _, d := range s.Documents("notes") {
		texts[d.Name] = d.Value.(*note).Text.Get("en")
	}
	return texts, nil
}

// mapFS builds a template from file bodies.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

// hasProblem reports whether ps has a problem at file and path whose
// message contains msg.
func hasProblem(ps Problems, file, path, msg string) bool {
	for _, p := range ps {
		if p.File == file && p.Path == path && strings.Contains(p.Message, msg) {
			return true
		}
	}
	return false
}

const machineDoc = "name: machine\nfields:\n  - {name: name, type: text}\n  - {name: serial, type: text}\n"

func TestKindLoadAndCheck(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		file  string
		path  string
		msg   string
	}{
		{"unknown folder", map[string]string{"workflows/a.yaml": "name: a"}, "workflows/", "", "unknown folder"},
		{"file beside the manifest", map[string]string{"notes.txt": "hello"}, "notes.txt", "", "not part of a template"},
		{"folder inside a kind folder", map[string]string{"objects/old/machine.yaml": machineDoc}, "objects/old/", "", "unknown folder"},
		{"unknown key in a kind's document", map[string]string{"notes/a.yaml": "name: a\nobject: machine\ntext: Hi\ncolour: red"}, "notes/a.yaml", "", "unknown key"},
		{"schema of the kind", map[string]string{"notes/a.yaml": "name: a\nobject: machine\ntext: {English: Hi}"}, "notes/a.yaml", "/text", ""},
		{"cross-reference to an object", map[string]string{"notes/a.yaml": "name: a\nobject: engine\ntext: Hi"}, "notes/a.yaml", "/object", `unknown object "engine"`},
		{"cross-reference to a field", map[string]string{"notes/a.yaml": "name: a\nobject: machine\nfield: colour\ntext: Hi"}, "notes/a.yaml", "/field", `no field "colour"`},
		{"two documents of one name", map[string]string{"notes/a.yaml": "name: a\nobject: machine\ntext: Hi", "notes/b.yaml": "name: a\nobject: machine\ntext: Ho"}, "notes/b.yaml", "/name", "already defined in notes/a.yaml"},
		{"two objects of one name", map[string]string{"objects/other.yaml": machineDoc}, "objects/other.yaml", "/name", "already defined in objects/machine.yaml"},
		{"extends without a way to find the base", map[string]string{"template.yaml": "name: shop\nextends: standard"}, "template.yaml", "/extends", "cannot be found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"template.yaml": "name: shop", "objects/machine.yaml": machineDoc}
			for k, v := range c.files {
				files[k] = v
			}
			_, _, ps := LoadFS(mapFS(files))
			if !hasProblem(ps, c.file, c.path, c.msg) {
				t.Fatalf("no problem %s %s %q in:\n%v", c.file, c.path, c.msg, ps)
			}
		})
	}
}

func TestKindDocumentsTypedAndSorted(t *testing.T) {
	files := map[string]string{
		"template.yaml":        "name: shop",
		"objects/machine.yaml": machineDoc,
		".git/HEAD":            "ignored",
		"notes/z.yaml":         "name: zebra\nobject: machine\ntext: {en: Last, zh: 最后}\norder: 2",
		"notes/a.json":         `{"name": "apple", "object": "machine", "field": "serial", "text": "First"}`,
	}
	_, s, ps := LoadFS(mapFS(files))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	all := notes.All(s)
	if len(all) != 2 || all[0].Name != "apple" || all[1].Name != "zebra" || all[1].Order != 2 || all[1].Text.Get("zh") != "最后" {
		t.Fatalf("typed documents: %+v", all)
	}
	if n, ok := notes.Get(s, "apple"); !ok || n.Field != "serial" {
		t.Fatalf("get apple: %v %v", n, ok)
	}
	if _, ok := notes.Get(s, "pear"); ok {
		t.Fatal("get of a missing document")
	}
	if got := s.Source("notes", "zebra"); got != "notes/z.yaml" {
		t.Fatalf("source %q", got)
	}
	compiled, cps := notes.Kind().Compile(s)
	if len(cps) > 0 || compiled.(map[string]string)["zebra"] != "Last" {
		t.Fatalf("compile: %v %v", compiled, cps)
	}
}

// TestKindEachNamesFiles checks that Docs.Each visits the documents in
// name order and gives each problem its document's file.
func TestKindEachNamesFiles(t *testing.T) {
	files := map[string]string{
		"template.yaml":        "name: shop",
		"objects/machine.yaml": machineDoc,
		"notes/z.yaml":         "name: zebra\nobject: machine\ntext: {en: Last}",
		"notes/a.json":         `{"name": "apple", "object": "machine", "text": "First"}`,
	}
	_, s, ps := LoadFS(mapFS(files))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	var seen []string
	got := notes.Each(s, func(n *note) Problems {
		seen = append(seen, n.Name)
		return Problems{Problemf("/text", "%s is wrong", n.Name)}
	})
	if strings.Join(seen, ",") != "apple,zebra" || len(got) != 2 ||
		got[0].File != "notes/a.json" || got[0].Path != "/text" || got[1].File != "notes/z.yaml" || got[1].Message != "zebra is wrong" {
		t.Fatalf("visited %v, problems %+v", seen, got)
	}
}

func TestKindDocumentsRoundTripAndDiff(t *testing.T) {
	_, s, ps := LoadFS(mapFS(map[string]string{
		"template.yaml":        "name: shop",
		"objects/machine.yaml": machineDoc,
		"notes/a.yaml":         "name: a\nobject: machine\ntext: Hi\norder: 1",
		"notes/b.yaml":         "name: b\nobject: machine\ntext: Ho",
	}))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if n, ok := notes.Get(&back, "a"); !ok || n.Order != 1 || n.Text.Get("en") != "Hi" {
		t.Fatalf("after a round trip through JSON: %+v", n)
	}
	if !jsonEqual(s, &back) {
		t.Fatalf("round trip changed the schema:\n%s", b)
	}
	next := s.Clone()
	changed, _ := notes.Kind().ParseValue("request body", map[string]any{"name": "a", "object": "machine", "text": "Hello"})
	next.PutDocument("notes", changed)
	added, _ := notes.Kind().Parse("request body", []byte(`{"name": "c", "object": "machine", "text": "New"}`))
	next.PutDocument("notes", added)
	if !next.RemoveDocument("notes", "b") || next.RemoveDocument("notes", "b") {
		t.Fatal("remove reports wrongly")
	}
	var got []string
	for _, c := range Diff(s, next) {
		got = append(got, c.String())
	}
	want := "alter_document notes/a, add_document notes/c, drop_document notes/b"
	if strings.Join(got, ", ") != want {
		t.Fatalf("diff: %v, want %s", got, want)
	}
	if len(Diff(s, s.Clone())) != 0 {
		t.Fatal("a clone differs")
	}
}

func TestUnknownKindInStoredSchema(t *testing.T) {
	var s Schema
	if err := json.Unmarshal([]byte(`{"objects": [], "docs": {"gadgets": [{"name": "x"}]}}`), &s); err != nil {
		t.Fatal(err)
	}
	if ps := Validate(&s); !hasProblem(ps, "gadgets/x", "", `unknown document kind "gadgets"`) {
		t.Fatalf("problems: %v", ps)
	}
	if err := json.Unmarshal([]byte(`{"objects": [], "docs": {"notes": [{"name": "x", "object": "a", "text": "t", "colour": 1}]}}`), &s); err == nil || !strings.Contains(err.Error(), `unknown key "colour"`) {
		t.Fatalf("stored document with an unknown key: %v", err)
	}
}

func TestRegisterKindRefuses(t *testing.T) {
	cases := map[string]KindSpec[note]{
		"duplicate name":   {Name: "notes", Folder: "notes2", Schema: []byte(`{}`)},
		"duplicate folder": {Name: "memos", Folder: "notes", Schema: []byte(`{}`)},
		"built-in name":    {Name: "objects", Folder: "objects2", Schema: []byte(`{}`)},
		"reserved name":    {Name: "versions", Schema: []byte(`{}`)},
		"bad name":         {Name: "Big Notes", Schema: []byte(`{}`)},
		"outside schema":   {Name: "links_x", Schema: []byte(`{"$ref": "file:///etc/passwd"}`)},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			RegisterKind(spec)
		})
	}
}

// dirWithBases reads a test template whose bases are its sibling folders.
func dirWithBases(name string) fs.FS {
	root := "testdata/templates"
	var find func(string) (fs.FS, error)
	find = func(base string) (fs.FS, error) {
		if _, err := os.Stat(path.Join(root, base, "template.yaml")); err != nil {
			return nil, err
		}
		return WithBases(os.DirFS(path.Join(root, base)), find), nil
	}
	return WithBases(os.DirFS(path.Join(root, name)), find)
}

func TestTemplateExtends(t *testing.T) {
	tpl, s, ps := LoadFS(dirWithBases("child"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if tpl.Name != "child" || tpl.Extends != "base" {
		t.Fatalf("manifest: %+v", tpl)
	}
	var names []string
	for _, o := range s.Objects {
		names = append(names, o.Name)
	}
	if strings.Join(names, ",") != "machine,site,part" {
		t.Fatalf("objects %v: the base's first, replaced in place, new ones added", names)
	}
	m, _ := s.Object("machine")
	if m.Title("en") != "Machine tool" || len(m.Fields) != 2 {
		t.Fatalf("machine was not replaced by the child's: %+v", m)
	}
	if len(s.Roles) != 1 || s.Roles[0].Name != "operator" {
		t.Fatalf("roles of the base: %v", s.Roles)
	}
	if s.Source(DocObject, "site") != "base/objects/site.yaml" || s.Source(DocObject, "machine") != "objects/machine.yaml" {
		t.Fatalf("sources: %v", s.Sources)
	}
	if _, ok := notes.Get(s, "welcome"); !ok {
		t.Fatal("the child's note is missing")
	}

	_, _, ps = LoadFS(dirWithBases("loop_a"))
	if !hasProblem(ps, "loop_b/template.yaml", "/extends", "extends itself") {
		t.Fatalf("a cycle of templates: %v", ps)
	}
	_, _, ps = LoadFS(WithBases(mapFS(map[string]string{"template.yaml": "name: x\nextends: nowhere"}), dirWithBases("child").(BaseFinder).FindBase))
	if !hasProblem(ps, "template.yaml", "/extends", "nowhere") {
		t.Fatalf("a missing base: %v", ps)
	}
}
