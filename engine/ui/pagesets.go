package ui

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Patterns of a template file's text: the templates it defines and those
// it calls (names are constants in Go's templates).
var (
	definesPattern = regexp.MustCompile(`{{-?\s*define\s+"([^"]+)"`)
	callsPattern   = regexp.MustCompile(`{{-?\s*(?:template|block)\s+"([^"]+)"`)
)

// sharedFile is a shared template file (_*.html): what it defines and
// what it calls.
type sharedFile struct {
	path           string
	defines, calls []string
}

// parsePages parses every page template (any file not named _*.html)
// into a set of its own with the shared files it needs: the layout, which
// every page is rendered through, and those defining a template the page
// or a needed file calls. A page's set used to be a clone of every shared
// file, and html/template's Clone copies each parse tree: with 34 pages
// that was 6.6 MB of the server's live heap, which the garbage collector
// doubles under load, whether or not anyone opens a page.
func parsePages() (map[string]*template.Template, error) {
	shared, pages, err := templateFiles()
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, page := range pages {
		text, err := fs.ReadFile(templateFS, page)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", page, err)
		}
		files := append(neededFiles(shared, append(names(callsPattern, string(text)), "layout")), page)
		t, err := template.New("").Funcs(funcs).Funcs(builderFuncs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", path.Base(page), err)
		}
		out[strings.TrimSuffix(path.Base(page), ".html")] = t
	}
	return out, nil
}

// templateFiles reads the shared files and lists the pages.
func templateFiles() ([]sharedFile, []string, error) {
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, nil, fmt.Errorf("ui: templates: %w", err)
	}
	var shared []sharedFile
	var pages []string
	for _, e := range entries {
		if !strings.HasPrefix(path.Base(e), "_") {
			pages = append(pages, e)
			continue
		}
		text, err := fs.ReadFile(templateFS, e)
		if err != nil {
			return nil, nil, fmt.Errorf("ui: template %s: %w", e, err)
		}
		shared = append(shared, sharedFile{path: e, defines: names(definesPattern, string(text)), calls: names(callsPattern, string(text))})
	}
	return shared, pages, nil
}

// neededFiles returns the shared files defining the templates called
// (and, in turn, those their templates call), in the order of shared. A
// name no shared file defines is the page's own (or an error its
// execution reports, as before).
func neededFiles(shared []sharedFile, called []string) []string {
	need := make([]bool, len(shared))
	for len(called) > 0 {
		name := called[len(called)-1]
		called = called[:len(called)-1]
		for i, f := range shared {
			if !need[i] && slices.Contains(f.defines, name) {
				need[i] = true
				called = append(called, f.calls...)
			}
		}
	}
	var files []string
	for i, f := range shared {
		if need[i] {
			files = append(files, f.path)
		}
	}
	return files
}

// names returns the first group of each match of pattern in text.
func names(pattern *regexp.Regexp, text string) []string {
	var out []string
	for _, m := range pattern.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}
