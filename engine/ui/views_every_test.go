package ui_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestEveryViewDashboardAndDocument: on the sample data of every built-in
// template (the first records of each object given to rep1), every user,
// in English and Chinese, opens each list view the template ships, each
// dashboard offered to them, each report's page, chart and export, and
// prints each document template on a record given to rep1: every page
// opens or is refused (403, 404), never fails, and the administrator
// opens every one.
func TestEveryViewDashboardAndDocument(t *testing.T) {
	t.Parallel()
	apitest.EveryTemplate(t, func(t *testing.T, s *apitest.Server, _ string, fsys fs.FS) {
		res := s.LoadSample(fsys)
		given := map[string]string{}
		for object := range res.Created {
			if ids := s.Give(object, 2, "rep1")["rep1"]; len(ids) > 0 {
				given[object] = ids[0]
			}
		}
		var paths []string
		for _, v := range metaItems(t, s, "list_views") {
			paths = append(paths, "/ui/o/"+v["object"].(string)+"?view="+v["name"].(string))
		}
		for _, d := range metaItems(t, s, "document_templates") {
			object, name := d["object"].(string), d["name"].(string)
			if _, labels := d["labels"]; labels {
				paths = append(paths, "/ui/o/"+object+"/labels/"+name+".pdf", "/ui/o/"+object+"/labels/"+name+".html")
			} else if id := given[object]; id != "" {
				paths = append(paths, "/ui/o/"+object+"/"+id+"/print/"+name+".pdf", "/ui/o/"+object+"/"+id+"/print/"+name+".html")
			}
		}
		users := []string{"admin"}
		for _, u := range apitest.Users {
			users = append(users, u.Username)
		}
		opened := 0
		for _, user := range users {
			mine := append([]string(nil), paths...)
			_, dash := s.Do("GET", "/api/dashboards", user, "")
			for _, it := range dash["items"].([]any) {
				name := it.(map[string]any)["name"].(string)
				mine = append(mine, "/ui/?dashboard="+name)
				// Each widget shows its data, or why the user may not see it.
				_, d := s.Do("GET", "/api/dashboards/"+name, user, "")
				widgets, _ := d["widgets"].([]any)
				for _, w := range widgets {
					if e, failed := w.(map[string]any)["error"].(map[string]any); failed && (user == "admin" || e["code"] == "failed" || e["code"] == "invalid_report") {
						t.Errorf("%s, dashboard %s: %v", user, name, e)
					}
				}
				if len(widgets) == 0 {
					t.Errorf("%s, dashboard %s has no widgets: %v", user, name, d)
				}
			}
			_, reps := s.Do("GET", "/api/reports", user, "")
			for _, it := range reps["items"].([]any) {
				r := it.(map[string]any)
				base := "/ui/reports/" + r["name"].(string)
				mine = append(mine, base, base+"/export?format=csv", base+"/export?format=xlsx")
				if r["kind"] != "tabular" {
					mine = append(mine, base+"/chart.svg?width=800")
				}
			}
			for _, c := range []*client{signedIn(t, s, user), signedInZh(t, s, user)} {
				for _, path := range mine {
					st, body := c.get(path)
					switch {
					case st == 200:
						opened++
					case user == "admin" || strings.HasPrefix(path, "/ui/?dashboard=") || strings.HasPrefix(path, "/ui/reports/") && !strings.Contains(path, "/export"):
						t.Errorf("%s %s: %d %.300s", user, path, st, body)
					case st != 403 && st != 404:
						t.Errorf("%s %s: %d %.300s", user, path, st, body)
					}
				}
			}
		}
		if opened < len(paths) {
			t.Fatalf("only %d pages opened", opened)
		}
		t.Logf("%d pages opened by %d users in two languages", opened, len(users))
	})
}

// metaItems returns the documents of a kind, as the administrator reads
// them.
func metaItems(t *testing.T, s *apitest.Server, kind string) []map[string]any {
	t.Helper()
	st, m := s.Do("GET", "/api/meta/"+kind, "admin", "")
	if st != 200 {
		t.Fatalf("%s: %d %v", kind, st, m)
	}
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}
