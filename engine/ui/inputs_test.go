package ui_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// multipartPost submits a multipart form (a file input) as c.
func (c *client) multipartPost(path string, fields map[string][]string, fileField, fileName string, data []byte) (int, string, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", c.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	req := httptest.NewRequest("POST", "http://example.test"+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for _, ck := range c.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	resp, err := c.s.App.Test(req, -1)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Location")
}

// TestInputs: files, multi-picklists and many-to-many lookups go through
// the generated form and come back on the record page.
func TestInputs(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Run(t, []apitest.Scenario{
			{Name: "a file field", Method: "POST", Path: "/api/meta/objects/lead/fields", User: "admin", Status: 201,
				Body: `{"name": "card", "type": "file", "label": {"en": "Business card", "zh": "名片"}, "accept": ["text/plain"], "max_size": 1000}`},
			{Name: "a multi-picklist", Method: "POST", Path: "/api/meta/objects/lead/fields", User: "admin", Status: 201,
				Body: `{"name": "interests", "type": "multi_picklist", "label": "Interests", "options": [{"value": "tea", "label": "Tea"}, {"value": "silk", "label": "Silk"}, {"value": "jade", "label": "Jade"}]}`},
		})
		c1 := s.Create("admin", "competitor", `{"name": "Rival One"}`)
		c2 := s.Create("admin", "competitor", `{"name": "Rival Two"}`)
		acc := s.Create("rep1", "account", `{"name": "Inputs Co"}`)
		rep := signedIn(t, s, "rep1")
		st, body := rep.get("/ui/o/lead/new")
		if st != 200 || !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, `type="file"`) || !strings.Contains(body, `accept="text/plain"`) || !strings.Contains(body, `multiple`) {
			t.Fatalf("lead form: %d %s", st, body)
		}
		st, body, loc := rep.multipartPost("/ui/o/lead", map[string][]string{"person": {"Wu"}, "interests": {"tea", "jade"}}, "card", "wu.txt", []byte("Wu, tea trader"))
		if st != 303 {
			t.Fatalf("create with a file: %d %s", st, body)
		}
		run(t, rep, []pageCase{
			{name: "file and multi-picklist shown", path: loc[:strings.Index(loc, "?")], status: 200, contains: []string{"wu.txt", "/files/card", "Jade, Tea"}},
		})
		st, body, _ = rep.multipartPost("/ui/o/lead", map[string][]string{"person": {"Zhou"}}, "card", "big.txt", bytes.Repeat([]byte("x"), 2000))
		if st != 422 && st != 413 || !strings.Contains(body, `id="f_card_error"`) {
			t.Fatalf("a file over its limit: %d %s", st, body)
		}
		id := loc[strings.LastIndex(loc[:strings.Index(loc, "?")], "/")+1 : strings.Index(loc, "?")]
		st, raw := rep.get("/ui/o/lead/" + id + "/files/card")
		if st != 200 || raw != "Wu, tea trader" {
			t.Fatalf("download: %d %q", st, raw)
		}
		// Many-to-many: several competitors chosen in the lookup's multiple select.
		rep.get("/ui/o/opportunity/new")
		st, body, resp := rep.post("/ui/o/opportunity", url.Values{"name": {"Multi"}, "account": {acc}, "stage": {"qualify"}, "competitors": {c1, c2}})
		if st != 303 {
			t.Fatalf("create with competitors: %d %s", st, body)
		}
		opp := createdID(t, resp)
		run(t, rep, []pageCase{
			{name: "many-to-many shown by name", path: "/ui/o/opportunity/" + opp, status: 200, contains: []string{"Rival One, Rival Two"}},
			{name: "many-to-many kept in the edit form", path: "/ui/o/opportunity/" + opp + "/edit", status: 200, contains: []string{`value="` + c1 + `" selected`, `value="` + c2 + `" selected`}},
		})
	})
}
