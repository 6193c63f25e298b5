package ui_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/metadata"
)

// TestEveryFormRoundTrips: for every object of every built-in template, a
// record of its sample data opened in the edit form and saved as the
// browser submits it, unchanged, is left as it was (at its version, as
// it is when sent back whole through the API); the same values through the new form make the same record. Every
// kind of field the templates use goes through its input and back: an
// integer, decimal or percent field (an account's employees, a quote
// line's quantity) could not be saved from a form until it was (a number
// input's value reached the engine as text). Each object's record, list,
// export, boards and calendars open on the sample data first. The standard
// template runs on both databases, the industry packs on SQLite.
func TestEveryFormRoundTrips(t *testing.T) {
	t.Parallel()
	apitest.EveryTemplate(t, func(t *testing.T, s *apitest.Server, name string, fsys fs.FS) {
		roundTrips(t, s, fsys, name != "standard")
	})
}

// roundTrips loads the sample data of template fsys, installed on s, and
// saves a record of each object through its forms; inChinese, the pages
// of each object are read in Chinese too (the industry packs' sample data
// is in Chinese: no English of the UI may show).
func roundTrips(t *testing.T, s *apitest.Server, fsys fs.FS, inChinese bool) {
	res := s.LoadSample(fsys)
	admin := signedIn(t, s, "admin")
	var zh *client
	if inChinese {
		zh = signedInZh(t, s, "admin")
	}
	for object := range res.Created {
		t.Run(object, func(t *testing.T) {
			id, before := editable(t, s, admin, object)
			if id == "" {
				t.Skipf("no record of %s may be edited", object)
			}
			// What the API gives, it takes back: the whole record sent
			// back changes nothing, not even its version (computed and
			// read-only fields carry their stored values).
			whole, err := json.Marshal(before)
			if err != nil {
				t.Fatal(err)
			}
			st, back := s.Do("PATCH", "/api/records/"+object+"/"+id, "admin", string(whole))
			if st != 200 {
				t.Fatalf("the record sent back through the API: %d %v", st, back)
			}
			if !reflect.DeepEqual(back, before) {
				t.Fatalf("the record sent back through the API, as it was at its version:\n%v\nwas\n%v", back, before)
			}
			// Its pages first: the record, the list, the export.
			for _, pc := range []struct{ path, want string }{
				{"/ui/o/" + object + "/" + id, "<h1"},
				{"/ui/o/" + object, `<table class="records">`},
				{"/ui/o/" + object + "/export", "\n"},
			} {
				if st, page := admin.get(pc.path); st != 200 || !strings.Contains(page, pc.want) {
					t.Fatalf("%s: %d, without %q", pc.path, st, pc.want)
				}
			}
			// Its boards, one per picklist, and calendars, one per date,
			// by month, week and the day of the record.
			obj, _ := s.Platform.Engine.Snapshot().Schema.Object(object)
			for _, f := range obj.Fields {
				var paths []string
				switch {
				case metadata.SingleOption(f) && f.DependsOn == "":
					paths = []string{"/ui/board/" + object + "?field=" + f.Name}
				case metadata.TypeOf(f).Kind().Temporal():
					day := ""
					if v, ok := before[f.Name].(string); ok {
						day = "&date=" + v[:len("2006-01-02")]
					}
					for _, view := range []string{"month", "week", "day"} {
						paths = append(paths, "/ui/calendar/"+object+"?field="+f.Name+"&view="+view+day)
					}
				}
				for _, path := range paths {
					if st, page := admin.get(path); st != 200 || !strings.Contains(page, "<h1") {
						t.Errorf("%s: %d", path, st)
					}
				}
			}
			if zh != nil {
				for _, path := range []string{"/ui/o/" + object, "/ui/o/" + object + "/" + id, "/ui/o/" + object + "/" + id + "/edit", "/ui/o/" + object + "/new"} {
					if st, page := zh.get(path); st != 200 || englishWords.MatchString(visibleText(page)) {
						t.Errorf("%s in Chinese: %d %q", path, st, englishWords.FindAllString(visibleText(page), -1))
					}
				}
			}
			st, page := admin.get("/ui/o/" + object + "/" + id + "/edit")
			if st != 200 {
				t.Fatalf("edit form: %d", st)
			}
			action, form := submitted(t, page)
			st, body, resp := admin.post(action, form)
			if st != 303 || !strings.Contains(resp.Header.Get("Location"), "/"+id) {
				t.Fatalf("saved unchanged: %d %s\nform: %v\n%s", st, resp.Header.Get("Location"), form, formErrors(body))
			}
			_, after := s.Do("GET", "/api/records/"+object+"/"+id, "admin", "")
			for k, v := range before {
				if !reflect.DeepEqual(after[k], v) {
					t.Errorf("%s: %v, was %v", k, after[k], v)
				}
			}
			// An update sends only what changed: the same values
			// through the new form are all sent, and must make the same
			// record (a unique field told apart; where the record's
			// rules or indexes refuse a twin, in its place).
			form.Del("version")
			form.Set("allow_duplicate", "true")
			for _, f := range obj.Fields {
				if f.Unique && form.Get(f.Name) != "" {
					form.Set(f.Name, form.Get(f.Name)+"-2")
				}
			}
			st, body, resp = admin.post("/ui/o/"+object, form)
			if st == 422 {
				if st, m := s.Do("DELETE", "/api/records/"+object+"/"+id, "admin", ""); st/100 != 2 {
					t.Fatalf("a twin refused (%s), the record not deleted: %d %v", formErrors(body), st, m)
				}
				st, body, resp = admin.post("/ui/o/"+object, form)
			}
			if st != 303 {
				t.Fatalf("created from the same form: %d\nform: %v\n%s", st, form, formErrors(body))
			}
			_, copied := s.Do("GET", "/api/records/"+object+"/"+createdID(t, resp), "admin", "")
			for name := range form {
				if f, ok := obj.Field(name); ok && !f.Unique && !reflect.DeepEqual(copied[name], before[name]) {
					t.Errorf("copy's %s: %v, was %v", name, copied[name], before[name])
				}
			}
		})
	}
}

// editable returns a record of object that admin's edit form opens on,
// as the API reads it, or "" when there is none among the first few.
func editable(t *testing.T, s *apitest.Server, admin *client, object string) (string, map[string]any) {
	t.Helper()
	_, list := s.Do("GET", "/api/records/"+object+"?limit=5&sort=id", "admin", "")
	items, _ := list["items"].([]any)
	for _, it := range items {
		id := it.(map[string]any)["id"].(string)
		if st, page := admin.get("/ui/o/" + object + "/" + id + "/edit"); st == 200 && strings.Contains(page, `class="record-form"`) {
			_, rec := s.Do("GET", "/api/records/"+object+"/"+id, "admin", "")
			return id, rec
		}
	}
	return "", nil
}

// submitted parses the record form of page and returns its action and the
// values a browser submits: enabled inputs with a name (a checkbox when
// checked, no file), each select's selected options (a single select's
// first when none is), textareas.
func submitted(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	form := url.Values{}
	var walk func(n *html.Node, in bool)
	walk = func(n *html.Node, in bool) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			_, disabled := a["disabled"]
			switch {
			case n.Data == "form" && strings.Contains(a["class"], "record-form"):
				action, in = a["action"], true
			case !in || disabled || a["name"] == "":
			case n.Data == "input":
				_, checked := a["checked"]
				switch a["type"] {
				case "file":
				case "checkbox":
					if checked {
						form.Add(a["name"], a["value"])
					}
				default:
					form.Add(a["name"], a["value"])
				}
			case n.Data == "textarea":
				form.Add(a["name"], text(n))
			case n.Data == "select":
				form[a["name"]] = append(form[a["name"]], selected(n, a)...)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, false)
	if action == "" {
		t.Fatal("no record form on the page")
	}
	return action, form
}

// selected returns the values a select submits.
func selected(n *html.Node, a map[string]string) []string {
	var all, chosen []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "option" {
			oa := attrs(n)
			v, ok := oa["value"]
			if !ok {
				v = text(n)
			}
			all = append(all, v)
			if _, sel := oa["selected"]; sel {
				chosen = append(chosen, v)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	if _, multiple := a["multiple"]; !multiple && len(chosen) == 0 && len(all) > 0 {
		chosen = all[:1]
	}
	return chosen
}

// attrs returns n's attributes by name.
func attrs(n *html.Node) map[string]string {
	m := make(map[string]string, len(n.Attr))
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

// text returns the text inside n.
func text(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// formErrors returns the field errors of a form page.
func formErrors(page string) string {
	var out []string
	for _, line := range strings.Split(page, "\n") {
		if strings.Contains(line, "field-error") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return fmt.Sprint(out)
}
