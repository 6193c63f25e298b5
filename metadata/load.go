package metadata

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Template describes a metadata package: its name, label and version.
type Template struct {
	Name        string `json:"name"`
	Label       Label  `json:"label,omitempty"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
}

// ParseObject decodes and checks one object document (YAML or JSON). The
// problems name file and the JSON pointer of each bad value; semantic checks
// that need the other objects are left to Validate.
func ParseObject(file string, data []byte) (*Object, Problems) {
	var o Object
	if ps := parseDoc(file, DocObject, data, &o); len(ps) > 0 {
		return nil, ps
	}
	return &o, nil
}

// ParseRole decodes and checks one role document.
func ParseRole(file string, data []byte) (*Role, Problems) {
	var r Role
	if ps := parseDoc(file, DocRole, data, &r); len(ps) > 0 {
		return nil, ps
	}
	return &r, nil
}

// parseDoc decodes data, validates it against the schema of kind and
// decodes it into out.
func parseDoc(file, kind string, data []byte, out any) Problems {
	doc, err := DecodeDocument(data)
	if err != nil {
		return Problems{{File: file, Message: err.Error()}}
	}
	if ps := CheckDocument(kind, doc); len(ps) > 0 {
		for i := range ps {
			ps[i].File = file
		}
		return ps
	}
	if err := decodeInto(doc, out); err != nil {
		return Problems{{File: file, Message: err.Error()}}
	}
	return nil
}

// LoadFS reads a template folder: template.yaml, objects/*.yaml and
// roles/*.yaml (or .yml, .json), checks every document against the schema
// and those that pass against Validate, and returns every problem found.
func LoadFS(fsys fs.FS) (*Template, *Schema, Problems) {
	var ps Problems
	tpl := &Template{}
	if data, err := fs.ReadFile(fsys, "template.yaml"); err == nil {
		ps = append(ps, parseDoc("template.yaml", DocTemplate, data, tpl)...)
	} else {
		ps = append(ps, Problem{File: "template.yaml", Message: fmt.Sprintf("cannot read: %v", err)})
	}
	s := &Schema{}
	for _, file := range docFiles(fsys, "objects", &ps) {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			ps = append(ps, Problem{File: file, Message: err.Error()})
			continue
		}
		o, ops := ParseObject(file, data)
		ps = append(ps, ops...)
		if o != nil {
			s.Objects = append(s.Objects, o)
			s.SetSource(DocObject, o.Name, file)
		}
	}
	for _, file := range docFiles(fsys, "roles", &ps) {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			ps = append(ps, Problem{File: file, Message: err.Error()})
			continue
		}
		r, rps := ParseRole(file, data)
		ps = append(ps, rps...)
		if r != nil {
			s.Roles = append(s.Roles, r)
			s.SetSource(DocRole, r.Name, file)
		}
	}
	// Semantic checks run on every document that parsed, so one run reports
	// every problem.
	ps = append(ps, Validate(s)...)
	return tpl, s, ps
}

// docFiles lists the YAML and JSON files of a folder, sorted; a missing
// folder is no problem.
func docFiles(fsys fs.FS, dir string, ps *Problems) []string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch strings.ToLower(path.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			files = append(files, path.Join(dir, e.Name()))
		default:
			*ps = append(*ps, Problem{File: path.Join(dir, e.Name()), Message: "not a .yaml, .yml or .json document"})
		}
	}
	sort.Strings(files)
	return files
}
