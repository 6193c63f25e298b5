package marketing

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// ownerPath is the first segment of a placeholder naming the record's
// owner: {{owner.name}}.
const ownerPath = "owner"

// UserFields are the fields of the owner a placeholder may name:
// {{owner.name}} (the display name), {{owner.username}}, {{owner.email}}.
var UserFields = []string{"name", "username", "email"}

// Path is the value a placeholder names: a field of the recipient record,
// or a field of the record one of its lookups points to, or a field of
// its owner.
type Path struct {
	// Path is the placeholder as written, without braces and spaces:
	// "name", "account.name", "owner.name".
	Path string
	// Field is the field of the recipient object read: "name",
	// "account", "owner_id".
	Field string
	// Target is the field read of the record Field points to ("" for a
	// field of the recipient itself); a user field when Owner.
	Target string
	// TargetObject is the object Field points to ("" without Target).
	TargetObject string
	// Owner marks a field of the record's owner (a user).
	Owner bool
}

// placeholder matches {{path}}, spaces allowed inside the braces.
var placeholder = regexp.MustCompile(`\{\{\s*([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?)\s*\}\}`)

// ResolvePath checks a placeholder's path against the object whose
// records fill it.
func ResolvePath(s *metadata.Schema, obj *metadata.Object, path string) (*Path, error) {
	first, second, two := strings.Cut(path, ".")
	if !two {
		f, ok := obj.FieldOrSystem(first)
		if !ok {
			return nil, fmt.Errorf("{{%s}}: %s has no field %q", path, obj.Name, first)
		}
		if err := printable(f); err != nil {
			return nil, fmt.Errorf("{{%s}}: %v", path, err)
		}
		if _, ok := metadata.LookupTarget(f); ok && f.Name != metadata.OwnerField {
			return nil, fmt.Errorf("{{%s}}: %s is a lookup; name a field of the record it points to ({{%s.name}})", path, first, first)
		}
		return &Path{Path: path, Field: first}, nil
	}
	if _, own := obj.Field(first); first == ownerPath && !own {
		if !slices.Contains(UserFields, second) {
			return nil, fmt.Errorf("{{%s}}: an owner has the fields %s", path, strings.Join(UserFields, ", "))
		}
		return &Path{Path: path, Field: metadata.OwnerField, Target: second, Owner: true}, nil
	}
	f, ok := obj.Field(first)
	if !ok {
		return nil, fmt.Errorf("{{%s}}: %s has no field %q", path, obj.Name, first)
	}
	target, ok := metadata.LookupTarget(f)
	if !ok {
		return nil, fmt.Errorf("{{%s}}: %s is not a lookup", path, first)
	}
	tobj, ok := s.Object(target)
	if !ok {
		return nil, fmt.Errorf("{{%s}}: no object %q", path, target)
	}
	tf, ok := tobj.FieldOrSystem(second)
	if !ok {
		return nil, fmt.Errorf("{{%s}}: %s has no field %q", path, target, second)
	}
	if err := printable(tf); err != nil {
		return nil, fmt.Errorf("{{%s}}: %v", path, err)
	}
	return &Path{Path: path, Field: first, Target: second, TargetObject: target}, nil
}

// printable refuses fields whose value is no text: files and lists of
// linked records.
func printable(f *metadata.Field) error {
	if _, ok := metadata.TypeOf(f).(metadata.Filer); ok {
		return fmt.Errorf("%s holds a file, which cannot be written into a message", f.Name)
	}
	if metadata.Linked(f) {
		return fmt.Errorf("%s links several records, which cannot be written into a message", f.Name)
	}
	return nil
}

// segment is literal text or a placeholder.
type segment struct {
	text string
	path *Path
}

// Text is a parsed plain text with placeholders (a subject, a text body,
// an SMS, a line of a document).
type Text struct {
	segs []segment
}

// ParseText parses a plain text's placeholders against the object whose
// records fill it.
func ParseText(s *metadata.Schema, obj *metadata.Object, src string) (*Text, error) {
	t := &Text{}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(src, -1) {
		if m[0] > last {
			t.segs = append(t.segs, segment{text: src[last:m[0]]})
		}
		p, err := ResolvePath(s, obj, src[m[2]:m[3]])
		if err != nil {
			return nil, err
		}
		t.segs = append(t.segs, segment{path: p})
		last = m[1]
	}
	if last < len(src) {
		t.segs = append(t.segs, segment{text: src[last:]})
	}
	if err := strayBraces(src); err != nil {
		return nil, err
	}
	return t, nil
}

// strayBraces refuses double braces that are not a placeholder.
func strayBraces(src string) error {
	rest := placeholder.ReplaceAllString(src, "")
	if i := strings.Index(rest, "{{"); i >= 0 {
		end := min(len(rest), i+30)
		return fmt.Errorf("%q is not a placeholder: write {{field}}, {{lookup.field}} or {{owner.name}}", rest[i:end])
	}
	return nil
}

// Paths returns the text's placeholders in order (a path may repeat).
func (t *Text) Paths() []*Path {
	var out []*Path
	for _, s := range t.segs {
		if s.path != nil {
			out = append(out, s.path)
		}
	}
	return out
}

// Render fills the text with values by placeholder path (a missing one
// is empty); line breaks in values become spaces when flat (a subject).
func (t *Text) Render(values map[string]string, flat bool) string {
	var b strings.Builder
	for _, s := range t.segs {
		if s.path == nil {
			b.WriteString(s.text)
			continue
		}
		v := values[s.path.Path]
		if flat {
			v = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(v)
	}
	return b.String()
}
