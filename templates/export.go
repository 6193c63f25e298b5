package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/crmplatform/crm/metadata"
	"gopkg.in/yaml.v3"
)

// Manifest is the template.yaml of a template.
type Manifest = metadata.Template

// Export writes a schema as the files of a template folder: template.yaml
// (the manifest, without extends: the folder holds everything) and one
// YAML document per file in the folder of its kind, keys in a stable order
// (name, label first, then alphabetical). The same schema always gives
// the same bytes, and the files load back into the same schema.
func Export(m Manifest, s *metadata.Schema) (map[string][]byte, error) {
	m.Extends = ""
	files := map[string][]byte{}
	put := func(file string, v any) error {
		b, err := toYAML(v)
		if err != nil {
			return fmt.Errorf("templates: export %s: %w", file, err)
		}
		files[file] = b
		return nil
	}
	if err := put("template.yaml", m); err != nil {
		return nil, err
	}
	for _, o := range s.Objects {
		if err := put("objects/"+o.Name+".yaml", o); err != nil {
			return nil, err
		}
	}
	for _, r := range s.Roles {
		if err := put("roles/"+r.Name+".yaml", r); err != nil {
			return nil, err
		}
	}
	for kind, docs := range s.Docs {
		k, ok := metadata.LookupKind(kind)
		if !ok {
			return nil, fmt.Errorf("templates: export: unknown document kind %q", kind)
		}
		for _, d := range docs {
			if err := put(k.Folder()+"/"+d.Name+".yaml", d.Raw); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// WriteDir writes exported files under dir, which must be empty or
// missing.
func WriteDir(dir string, files map[string][]byte) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("templates: export: %s is not empty", dir)
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("templates: export: %w", err)
		}
		if err := os.WriteFile(p, files[f], 0o644); err != nil {
			return fmt.Errorf("templates: export: %w", err)
		}
	}
	return nil
}

// first are the keys written before the others, in this order.
var first = []string{"name", "value", "object", "label", "plural_label", "type"}

// toYAML writes v (anything that marshals to JSON) as YAML with stable
// key order: flow style for maps and lists of plain values, block style
// otherwise.
func toYAML(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var tree any
	if err := d.Decode(&tree); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node(tree)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// node builds the YAML node of a JSON value.
func node(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range orderedKeys(x) {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, node(x[k]))
		}
		n.Style = flow(n.Content)
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, it := range x {
			n.Content = append(n.Content, node(it))
		}
		n.Style = flow(n.Content)
		return n
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	case json.Number:
		tag := "!!int"
		if _, err := x.Int64(); err != nil {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: x.String()}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}
	default:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
}

// flow is the flow style for a collection of short plain values, block
// style otherwise.
func flow(content []*yaml.Node) yaml.Style {
	size := 0
	for _, c := range content {
		if c.Kind != yaml.ScalarNode || len(c.Value) > 60 {
			return 0
		}
		size += len(c.Value) + 4
	}
	if size > 100 {
		return 0
	}
	return yaml.FlowStyle
}

// orderedKeys lists the keys of a map: those of first in order, then the
// others sorted.
func orderedKeys(m map[string]any) []string {
	var out []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
