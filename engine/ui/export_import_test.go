package ui_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"mime/multipart"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/metadata"
)

// TestExportImportRoundTrip: the list export of every object of every
// built-in template's sample data (the standard template on both
// databases, the industry packs on SQLite) whose records have names of
// their own, imported back with the records' names
// as the key (POST /api/import/{object}), updates each record to what it
// already is: the import reads what the export writes (numbers with
// thousands separators, options by label, several values joined by
// commas, dates and times as displayed, lookups by the name of their
// record, the apostrophe kept before text a spreadsheet would run, computed
// columns ignored), and nothing changes.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	apitest.EveryTemplate(t, func(t *testing.T, s *apitest.Server, name string, fsys fs.FS) {
		exportsImportBack(t, s, fsys, map[bool]int{true: 10, false: 2}[name == "standard"])
	})
}

// exportsImportBack loads the sample data of template fsys, installed on
// s, exports each object's list and imports it back with the records'
// names as the key: nothing changes. At least `least` objects must have
// records with names of their own to be checked so.
func exportsImportBack(t *testing.T, s *apitest.Server, fsys fs.FS, least int) {
	res := s.LoadSample(fsys)
	s.RunJobs()
	schema := s.Platform.Engine.Snapshot().Schema
	admin := signedIn(t, s, "admin")
	var checked []string
	for object := range res.Created {
		obj, _ := schema.Object(object)
		key := obj.NamingField()
		st, file := admin.get("/ui/o/" + object + "/export")
		if st != 200 || key == nil || metadata.Computed(key) {
			continue
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatalf("%s: the export is not CSV: %v", object, err)
		}
		col := slices.Index(rows[0], key.Title("en"))
		if col < 0 || len(rows) < 2 || !unique(rows[1:], col) {
			continue
		}
		before := allRecords(t, s, object)
		m := importFile(t, s, "admin", object, []byte(file), key.Name)
		if m["created"] != json.Number("0") || m["skipped"] != json.Number("0") || m["updated"] != json.Number(strconv.Itoa(len(rows)-1)) {
			t.Errorf("%s: the export imported back: %v", object, m)
			continue
		}
		for _, e := range m["errors"].([]any) {
			if e.(map[string]any)["line"] != json.Number("1") {
				t.Errorf("%s: the export imported back: %v", object, e)
			}
		}
		if after := allRecords(t, s, object); !reflect.DeepEqual(after, before) {
			for id, rec := range after {
				if !reflect.DeepEqual(rec, before[id]) {
					t.Errorf("%s %s changed by importing its export:\n%v\nwas\n%v", object, id, rec, before[id])
				}
			}
		}
		checked = append(checked, object)
	}
	if len(checked) < least {
		t.Fatalf("only %v were exported and imported back", checked)
	}
	t.Logf("exported and imported back: %v", checked)
}

// unique reports whether the cells of column col are all given and
// different.
func unique(rows [][]string, col int) bool {
	seen := map[string]bool{}
	for _, r := range rows {
		if r[col] == "" || seen[r[col]] {
			return false
		}
		seen[r[col]] = true
	}
	return true
}

// allRecords reads every record of object as the administrator, by id.
func allRecords(t *testing.T, s *apitest.Server, object string) map[string]map[string]any {
	t.Helper()
	st, list := s.Do("GET", "/api/records/"+object+"?limit=500", "admin", "")
	if st != 200 || list["next_cursor"] != nil {
		t.Fatalf("%s: %d %v", object, st, list["next_cursor"])
	}
	out := map[string]map[string]any{}
	for _, it := range list["items"].([]any) {
		rec := it.(map[string]any)
		out[rec["id"].(string)] = rec
	}
	return out
}

// importFile imports file into object through POST /api/import/{object}
// as user with key, runs the import's job and returns its final status.
func importFile(t *testing.T, s *apitest.Server, user, object string, file []byte, key string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", object+".csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.WriteField("key", key)
	mw.Close()
	st, raw := s.Raw("POST", "/api/import/"+object, user, mw.FormDataContentType(), &b, nil)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || st != 202 {
		t.Fatalf("import %s: %d %s", object, st, raw)
	}
	s.RunJobs()
	st, m = s.Do("GET", "/api/imports/"+m["id"].(string), user, "")
	if st != 200 || m["state"] != "done" {
		t.Fatalf("import %s: %d %v", object, st, m)
	}
	return m
}
