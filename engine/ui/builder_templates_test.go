package ui_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// zipOf writes files into a zip archive.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unzipped reads the files of a zip archive.
func unzipped(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip archive: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// basePattern finds the reviewed metadata version of a template's plan.
var basePattern = regexp.MustCompile(`name="base" value="(\d+)"`)

// TestTemplatesPage: an administrator lists the built-in templates and
// the installed one, exports the metadata as a zip of a template folder,
// compares archives with the current metadata (the export itself: no
// change; one folder deeper with a new object: its addition; not a zip:
// the problem next to the input), reviews the upgrade to another
// template (its plan with the SQL and the sample box), is sent back to
// the new plan when metadata changed meanwhile (409), and applies it with
// its sample records; a sales rep gets 403 on every templates page.
func TestTemplatesPage(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep := signedIn(t, s, "rep1")
		run(t, rep, []pageCase{
			{name: "a sales rep may not list templates", path: "/ui/admin/templates", status: 403, notContain: []string{"Review install"}},
			{name: "nor export", path: "/ui/admin/templates/export", status: 403},
			{name: "nor review", method: "POST", path: "/ui/admin/templates/membership/review", status: 403},
			{name: "nor apply", method: "POST", path: "/ui/admin/templates/membership/apply", form: url.Values{"base": {"1"}}, status: 403},
			{name: "nor compare", method: "POST", path: "/ui/admin/templates/compare", status: 403},
		})
		admin := signedIn(t, s, "admin")
		run(t, admin, []pageCase{
			{name: "the builder links the templates", path: "/ui/admin/", status: 200, contains: []string{`href="/ui/admin/templates"`}},
			{name: "the templates page", path: "/ui/admin/templates", status: 200, contains: []string{
				`data-installed="standard"`, "Standard CRM", "Membership CRM", "<td>1.0.0</td>", "metadata version 1",
				`action="/ui/admin/templates/membership/review"`, ">Review install</button>", ">Review upgrade</button>", `href="/ui/admin/templates/export"`}},
			{name: "an unknown template", method: "POST", path: "/ui/admin/templates/nosuch/review", status: 404},
		})
		zh := signedIn(t, s, "admin")
		zh.Header["Accept-Language"] = "zh-CN"
		run(t, zh, []pageCase{
			{name: "in Chinese", path: "/ui/admin/templates", status: 200, contains: []string{"解决方案模板", "会员管理 CRM", "预览安装", "预览升级"}},
		})
		st, body, resp := admin.do("GET", "/ui/admin/templates/export", nil)
		if st != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "standard-1.0.0.zip") {
			t.Fatalf("export: %d %v", st, resp.Header)
		}
		files := unzipped(t, []byte(body))
		if !strings.Contains(files["template.yaml"], "name: standard") || !strings.Contains(files["objects/lead.yaml"], "name: lead") {
			t.Fatalf("the export lacks the template's files: %v", files["template.yaml"])
		}
		admin.get("/ui/admin/templates")
		st, body, _ = admin.multipartPost("/ui/admin/templates/compare", nil, "archive", "standard.zip", zipOf(t, files))
		if st != 200 || !strings.Contains(body, "Nothing: it holds the current metadata.") {
			t.Fatalf("compare the export: %d %s", st, body)
		}
		deeper := map[string]string{"mine/objects/machine.yaml": "name: machine\nlabel: {en: Machine}\nfields:\n  - {name: name, type: text, label: {en: Name}}\n"}
		for f, content := range files {
			deeper["mine/"+f] = content
		}
		st, body, _ = admin.multipartPost("/ui/admin/templates/compare", nil, "archive", "mine.zip", zipOf(t, deeper))
		if st != 200 || !strings.Contains(body, "Installing it would change") || !strings.Contains(body, "<code>add_object machine</code>") || strings.Contains(body, "remove_object") {
			t.Fatalf("compare a changed template: %d %s", st, body)
		}
		st, body, _ = admin.multipartPost("/ui/admin/templates/compare", nil, "archive", "notes.txt", []byte("not a zip"))
		if st != 400 && st != 422 || !strings.Contains(body, `id="archive_error"`) || !strings.Contains(body, "not a zip archive") {
			t.Fatalf("compare a file that is not a zip: %d %s", st, body)
		}
		admin.get("/ui/admin/templates")
		st, body, _ = admin.post("/ui/admin/templates/membership/review", nil)
		for _, want := range []string{"upgrade template standard 1.0.0 → membership 1.0.0", "<code>add_object member_card</code>", "CREATE TABLE", `action="/ui/admin/templates/membership/apply"`, `id="sample" name="sample" value="true"`} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("the plan lacks %q: %d %s", want, st, body)
			}
		}
		m := basePattern.FindStringSubmatch(body)
		if m == nil || m[1] != "1" {
			t.Fatalf("the plan's base: %v", m)
		}
		run(t, admin, []pageCase{
			{name: "metadata changed since the review", method: "POST", path: "/ui/admin/templates/membership/apply", form: url.Values{"base": {"0"}}, status: 409,
				contains: []string{"Someone changed the metadata", "add_object member_card", `name="base" value="1"`}},
		})
		st, body, resp = admin.post("/ui/admin/templates/membership/apply", url.Values{"base": {m[1]}, "sample": {"true"}})
		loc := resp.Header.Get("Location")
		created := regexp.MustCompile(`^/ui/admin/templates\?flash=template_applied&created=([1-9]\d*)$`).FindStringSubmatch(loc)
		if st != 303 || created == nil {
			t.Fatalf("apply the upgrade with its sample records: %d %q %s", st, loc, body)
		}
		run(t, admin, []pageCase{
			{name: "the new template is installed", path: loc, status: 200, contains: []string{`data-installed="membership"`, "The template is applied.", created[1] + " sample records were created.", "metadata version 2"}},
			{name: "its objects are in the builder", path: "/ui/admin/objects/member_card", status: 200},
		})
		if st, out := s.Do("GET", "/api/records/member_card?limit=1", "admin", ""); st != 200 || len(out["items"].([]any)) == 0 {
			t.Fatalf("no sample member card: %d %v", st, out)
		}
	})
}
