package metadata

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Template describes a metadata package: its name, label and version, and
// the template it extends, if any.
type Template struct {
	Name    string `json:"name"`
	Label   Label  `json:"label,omitempty"`
	Version string `json:"version,omitempty"`
	// Description says what the template is for, in English and Chinese
	// (a plain text is English).
	Description Label `json:"description,omitempty"`
	// Extends names the template this one builds on: its documents are
	// loaded first and this template's documents overlay them (one of the
	// same kind and name replaces, a new one adds).
	Extends string `json:"extends,omitempty"`
}

// manifestFile is the file that describes a template.
const manifestFile = "template.yaml"

// SampleFolder is the folder of a template that holds sample data (CSV
// files of records, loaded by crm template install --sample), not
// metadata: LoadFS leaves it alone.
const SampleFolder = "sample"

// ParseObject decodes and checks one object document (YAML or JSON). The
// problems name file and the JSON pointer of each bad value; semantic checks
// that need the other objects are left to Validate.
func ParseObject(file string, data []byte) (*Object, Problems) {
	d, ps := objectKind.Parse(file, data)
	if len(ps) > 0 {
		return nil, ps
	}
	return d.Value.(*Object), nil
}

// ParseRole decodes and checks one role document.
func ParseRole(file string, data []byte) (*Role, Problems) {
	d, ps := roleKind.Parse(file, data)
	if len(ps) > 0 {
		return nil, ps
	}
	return d.Value.(*Role), nil
}

// BaseFinder is the optional ability of a template's files to find the
// template its manifest extends, by name. The built-in templates have it
// (package defaults); WithBases gives it to any file system.
type BaseFinder interface {
	FindBase(name string) (fs.FS, error)
}

// WithBases returns fsys with the ability to find base templates through
// find (see BaseFinder).
func WithBases(fsys fs.FS, find func(name string) (fs.FS, error)) fs.FS {
	return baseFS{FS: fsys, find: find}
}

// baseFS is a file system that can find base templates.
type baseFS struct {
	fs.FS
	find func(name string) (fs.FS, error)
}

// FindBase returns the files of the template named name.
func (b baseFS) FindBase(name string) (fs.FS, error) { return b.find(name) }

// LoadFS reads a template folder: template.yaml and one folder per
// document kind (objects/, roles/ and those of registered kinds), each
// holding .yaml, .yml or .json documents. When the manifest extends
// another template, that one (found through fsys's BaseFinder) is loaded
// first and overlaid. Every document is checked against its kind's JSON
// Schema, and the merged schema against Validate; every problem found is
// returned, an unknown folder or file included. Entries whose name starts
// with a dot are ignored.
func LoadFS(fsys fs.FS) (*Template, *Schema, Problems) {
	tpl, s, ps := loadLayer(fsys, "", nil)
	// Semantic checks run on every document that parsed, so one run reports
	// every problem.
	ps = append(ps, Validate(s)...)
	return tpl, s, ps
}

// loadLayer reads one template over the template it extends. prefix goes
// before the file names of a base template in problems and sources;
// chain lists the templates that extend this one, to find cycles.
func loadLayer(fsys fs.FS, prefix string, chain []string) (*Template, *Schema, Problems) {
	var ps Problems
	tpl := &Template{}
	if data, err := fs.ReadFile(fsys, manifestFile); err == nil {
		ps = append(ps, parseManifest(prefix+manifestFile, data, tpl)...)
	} else {
		ps = append(ps, Problem{File: prefix + manifestFile, Message: fmt.Sprintf("cannot read: %v", err)})
	}
	s := &Schema{}
	if tpl.Extends != "" {
		bs, bps := loadBase(fsys, tpl, prefix, chain)
		ps = append(ps, bps...)
		if bs != nil {
			s = bs
		}
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return tpl, s, append(ps, Problem{File: prefix, Message: fmt.Sprintf("cannot read the template folder: %v", err)})
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."), name == manifestFile, name == SampleFolder && e.IsDir():
		case !e.IsDir():
			ps = append(ps, Problem{File: prefix + name, Message: "not part of a template: documents go in the folder of their kind (" + strings.Join(kindFolders(), "/, ") + "/)"})
		default:
			k, ok := kindForFolder(name)
			if !ok {
				ps = append(ps, Problem{File: prefix + name + "/", Message: "unknown folder: a template has template.yaml and the folders " + strings.Join(kindFolders(), "/, ") + "/"})
				continue
			}
			ps = append(ps, loadFolder(fsys, k, prefix, s)...)
		}
	}
	return tpl, s, ps
}

// parseManifest decodes and checks template.yaml.
func parseManifest(file string, data []byte, tpl *Template) Problems {
	doc, err := DecodeDocument(data)
	if err != nil {
		return Problems{{File: file, Message: err.Error()}}
	}
	if ps := CheckDocument(DocTemplate, doc); len(ps) > 0 {
		for i := range ps {
			ps[i].File = file
		}
		return ps
	}
	if err := decodeInto(doc, tpl); err != nil {
		return Problems{{File: file, Message: decodeMessage(err)}}
	}
	return nil
}

// loadBase loads the template tpl extends.
func loadBase(fsys fs.FS, tpl *Template, prefix string, chain []string) (*Schema, Problems) {
	file := prefix + manifestFile
	for _, c := range append(chain, tpl.Name) {
		if c == tpl.Extends {
			return nil, Problems{{File: file, Path: "/extends", Message: fmt.Sprintf("template %q extends itself through %s", tpl.Extends, strings.Join(append(chain, tpl.Name, tpl.Extends), " → "))}}
		}
	}
	finder, ok := fsys.(BaseFinder)
	if !ok {
		return nil, Problems{{File: file, Path: "/extends", Message: fmt.Sprintf("template %q cannot be found from here", tpl.Extends)}}
	}
	base, err := finder.FindBase(tpl.Extends)
	if err != nil {
		return nil, Problems{{File: file, Path: "/extends", Message: err.Error()}}
	}
	_, s, ps := loadLayer(base, prefix+tpl.Extends+"/", append(chain, tpl.Name))
	return s, ps
}

// loadFolder parses the documents of one kind's folder into s; a
// document replaces one of the same name from a base template, and two of
// the same name in one template are a problem.
func loadFolder(fsys fs.FS, k *DocKind, prefix string, s *Schema) Problems {
	var ps Problems
	seen := map[string]string{}
	for _, file := range docFiles(fsys, k.folder, prefix, &ps) {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			ps = append(ps, Problem{File: prefix + file, Message: err.Error()})
			continue
		}
		d, dps := k.Parse(prefix+file, data)
		ps = append(ps, dps...)
		if d == nil {
			continue
		}
		if first, dup := seen[d.Name]; dup {
			ps = append(ps, Problem{File: prefix + file, Path: "/name", Message: fmt.Sprintf("%s %q is already defined in %s", strings.TrimSuffix(k.name, "s"), d.Name, first)})
			continue
		}
		seen[d.Name] = prefix + file
		k.put(s, d)
		s.SetSource(k.name, d.Name, prefix+file)
	}
	return ps
}

// kindFolders lists the folders of the registered kinds.
func kindFolders() []string {
	var out []string
	for _, k := range DocKinds() {
		out = append(out, k.folder)
	}
	return out
}

// docFiles lists the YAML and JSON files of a folder, sorted; a missing
// folder is no problem, anything else in it is (named with prefix).
func docFiles(fsys fs.FS, dir, prefix string, ps *Problems) []string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			*ps = append(*ps, Problem{File: prefix + p + "/", Message: "unknown folder: documents of " + dir + " are files directly in " + dir + "/"})
		case strings.ToLower(path.Ext(e.Name())) == ".yaml", strings.ToLower(path.Ext(e.Name())) == ".yml", strings.ToLower(path.Ext(e.Name())) == ".json":
			files = append(files, p)
		default:
			*ps = append(*ps, Problem{File: prefix + p, Message: "not a .yaml, .yml or .json document"})
		}
	}
	sort.Strings(files)
	return files
}
