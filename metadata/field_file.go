package metadata

import (
	"encoding/json"
	"fmt"
	"strings"
)

// fileType implements file and image attachments. The file's bytes live in
// the engine's file store; the column holds a JSON reference
// {"id","name","size","content_type"}.
type fileType struct {
	name   string
	accept []string
}

// FileRef is the JSON form of an attachment.
type FileRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// DefaultMaxFileSize is the upload limit of a file field without max_size.
const DefaultMaxFileSize = 10 << 20

// MaxFileSize is the largest max_size a file field may have: the server's
// upload limit (32 MiB).
const MaxFileSize = 32 << 20

func init() {
	RegisterFieldType(fileType{name: "file"})
	RegisterFieldType(fileType{name: "image", accept: []string{"image/png", "image/jpeg", "image/gif", "image/webp"}})
}

// Name implements FieldType.
func (t fileType) Name() string { return t.name }

// Kind implements FieldType.
func (fileType) Kind() Kind { return KindFile }

// Column implements FieldType.
func (fileType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (t fileType) Check(f *Field) []Problem {
	var ps []Problem
	if f.MaxSize < 0 {
		ps = append(ps, Problemf("/max_size", "must not be negative"))
	}
	if f.MaxSize > MaxFileSize {
		ps = append(ps, Problemf("/max_size", "is above the server's upload limit of %d bytes (32 MiB)", MaxFileSize))
	}
	for i, a := range f.Accept {
		if !strings.Contains(a, "/") {
			ps = append(ps, Problemf(pointer("accept", i), "%q is not a content type", a))
		}
	}
	if f.Unique {
		ps = append(ps, Problemf("/unique", "a %s cannot be unique", t.name))
	}
	return ps
}

// accepted lists the content types f accepts: its own, or the type's.
func (t fileType) accepted(f *Field) []string {
	if len(f.Accept) > 0 {
		return f.Accept
	}
	return t.accept
}

// Accepts implements Filer.
func (t fileType) Accepts(f *Field, contentType string) bool {
	accept := t.accepted(f)
	if len(accept) == 0 {
		return true
	}
	for _, a := range accept {
		if a == contentType || strings.HasSuffix(a, "/*") && strings.HasPrefix(contentType, strings.TrimSuffix(a, "*")) {
			return true
		}
	}
	return false
}

// MaxSize implements Filer.
func (fileType) MaxSize(f *Field) int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return DefaultMaxFileSize
}

// FileRef implements Filer.
func (t fileType) FileRef(f *Field, v any) (FileRef, error) {
	out, err := t.Output(f, v)
	if err != nil {
		return FileRef{}, err
	}
	ref, _ := out.(FileRef)
	return ref, nil
}

// Input implements Inputter.
func (t fileType) Input(f *Field) Input { return Input{Kind: InputFile, Accept: t.accepted(f)} }

// Normalize accepts a FileRef as a JSON object or its encoded string.
func (fileType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var ref FileRef
	switch x := v.(type) {
	case FileRef:
		ref = x
	case map[string]any:
		b, _ := json.Marshal(x)
		if err := json.Unmarshal(b, &ref); err != nil {
			return nil, fmt.Errorf("expected a file reference: %w", err)
		}
	case string:
		if err := json.Unmarshal([]byte(x), &ref); err != nil {
			return nil, fmt.Errorf("expected a file reference, got %q", x)
		}
	default:
		return nil, fmt.Errorf("expected a file reference, got %s", describe(v))
	}
	if !ValidID(ref.ID) {
		return nil, fmt.Errorf("file reference has no valid id; upload the file first")
	}
	b, _ := json.Marshal(ref)
	return string(b), nil
}

// Output implements FieldType.
func (fileType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	var ref FileRef
	if err := json.Unmarshal([]byte(s), &ref); err != nil {
		return nil, fmt.Errorf("stored file reference is broken: %w", err)
	}
	return ref, nil
}

// Compile-time checks that the type implements FieldType and its optional
// abilities.
var (
	_ FieldType = fileType{}
	_ Filer     = fileType{}
	_ Inputter  = fileType{}
)
