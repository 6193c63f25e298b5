package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// TestVendoredChecksums: the vendored htmx is the file of the npm package
// named in static/VENDORED.md, byte for byte.
func TestVendoredChecksums(t *testing.T) {
	t.Parallel()
	want := map[string]string{"htmx-2.0.11.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"}
	doc, err := staticFS.ReadFile("static/VENDORED.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, sum := range want {
		b, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, want %s", name, got, sum)
		}
		if !strings.Contains(string(doc), sum) {
			t.Errorf("VENDORED.md does not record %s", sum)
		}
	}
}

// TestMessages: every message has English and Chinese, and every message
// the templates and handlers name exists.
func TestMessages(t *testing.T) {
	t.Parallel()
	for k, m := range messages {
		if strings.TrimSpace(m[0]) == "" || strings.TrimSpace(m[1]) == "" {
			t.Errorf("message %q lacks a language: %q", k, m)
		}
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %q: the languages take different arguments: %q", k, m)
		}
	}
	used := regexp.MustCompile(`\.T "([a-z_]+)"|tr\([a-z.()]+, "([a-z_]+)"[,)]`)
	check := func(name, src string) {
		for _, m := range used.FindAllStringSubmatch(src, -1) {
			key := m[1] + m[2]
			if !hasMessage(key) {
				t.Errorf("%s names the unknown message %q", name, key)
			}
		}
	}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		check(p, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := readSource(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, b)
	}
}

// readSource reads a Go file of the package.
func readSource(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

// TestNeededFiles: a page's set holds the layout and the shared files its
// templates call, transitively, and no other.
func TestNeededFiles(t *testing.T) {
	shared, _, err := templateFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		page      string
		want, not []string
	}{
		{"account", []string{"_layout.html", "_access.html", "_builder.html"}, []string{"_report.html", "_deliveries.html", "_import.html"}},
		{"report", []string{"_layout.html", "_report.html"}, []string{"_access.html", "_deliveries.html"}},
		{"admin_deliveries", []string{"_layout.html", "_deliveries.html"}, []string{"_report.html", "_access.html"}},
		{"login", []string{"_layout.html"}, []string{"_report.html", "_access.html", "_deliveries.html", "_import.html"}},
	} {
		t.Run(c.page, func(t *testing.T) {
			text, err := templateFS.ReadFile("templates/" + c.page + ".html")
			if err != nil {
				t.Fatal(err)
			}
			got := neededFiles(shared, append(names(callsPattern, string(text)), "layout"))
			for _, f := range c.want {
				if !slices.Contains(got, "templates/"+f) {
					t.Errorf("%s lacks %s: %v", c.page, f, got)
				}
			}
			for _, f := range c.not {
				if slices.Contains(got, "templates/"+f) {
					t.Errorf("%s has %s: %v", c.page, f, got)
				}
			}
		})
	}
}

// TestFromFormNumbers: a number input's value goes to the engine as the
// API's JSON gives a number (an integer, decimal or percent field refuses
// text: quote line quantities could not be saved from the form); what is
// not a JSON number stays text, for the engine to refuse with its reason.
func TestFromFormNumbers(t *testing.T) {
	decimal := &metadata.Field{Name: "quantity", Type: "decimal"}
	currency := &metadata.Field{Name: "price", Type: "currency"}
	for _, c := range []struct {
		f    *metadata.Field
		in   string
		want any
	}{
		{decimal, "1.5", json.Number("1.5")},
		{decimal, " -2 ", json.Number("-2")},
		{decimal, "1e3", json.Number("1e3")},
		{decimal, "NaN", "NaN"},
		{decimal, "0x10", "0x10"},
		{decimal, "1.", "1."},
		{decimal, "", nil},
		{&metadata.Field{Name: "position", Type: "integer"}, "3", json.Number("3")},
		{&metadata.Field{Name: "discount", Type: "percent"}, "12.5", json.Number("12.5")},
		{currency, "0.35", "0.35"},
	} {
		got, err := fromForm(c.f, []string{c.in}, time.UTC)
		if err != nil || got != c.want {
			t.Errorf("%s %q: %#v (%v), want %#v", c.f.Type, c.in, got, err, c.want)
		}
	}
}
