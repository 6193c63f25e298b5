package sales_test

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/apitest"
)

// overlay returns the standard template with some of its files edited
// (edit gets each file's text and returns the new one) and others added.
func overlay(t *testing.T, edits map[string]func(string) string, add map[string]string) fs.FS {
	t.Helper()
	std, err := defaults.FS("standard")
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{"template.yaml": {Data: []byte("name: test\nextends: standard\n")}}
	for name, edit := range edits {
		b, err := fs.ReadFile(std, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: []byte(edit(string(b)))}
	}
	for name, text := range add {
		files[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return defaults.WithBases(files)
}

// appendText returns an edit that appends text.
func appendText(text string) func(string) string {
	return func(s string) string { return strings.TrimRight(s, "\n") + "\n" + text }
}

// replaceText returns an edit that replaces old by new, which must be
// there.
func replaceText(t *testing.T, old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("the template lacks %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// get reads a record as user and fails unless it is there.
func get(t *testing.T, s *apitest.Server, user, object, id string) map[string]any {
	t.Helper()
	status, m := s.Do("GET", "/api/records/"+object+"/"+id, user, "")
	if status != 200 {
		t.Fatalf("get %s %s as %s: %d %v", object, id, user, status, m)
	}
	return m
}

// count returns how many records of object the admin sees.
func count(t *testing.T, s *apitest.Server, object string) int {
	t.Helper()
	status, m := s.Do("GET", "/api/records/"+object+"?total=true&limit=1", "admin", "")
	if status != 200 {
		t.Fatalf("count %s: %d %v", object, status, m)
	}
	n, _ := m["total"].(json.Number).Int64()
	return int(n)
}
