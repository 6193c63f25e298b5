// Package defaults ships the built-in templates (metadata packages) as an
// embedded file system: standard/ and, later, industry templates. Each is a
// folder {template.yaml, objects/, roles/, …} that metadata.LoadFS reads.
// It imports only metadata.
package defaults

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/crmplatform/crm/metadata"
)

//go:embed all:standard
var files embed.FS

// Names lists the built-in templates.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// FS returns the files of the built-in template name.
func FS(name string) (fs.FS, error) {
	sub, err := fs.Sub(files, name)
	if err != nil {
		return nil, fmt.Errorf("defaults: template %q: %w", name, err)
	}
	if _, err := fs.Stat(sub, "template.yaml"); err != nil {
		return nil, fmt.Errorf("defaults: no built-in template %q", name)
	}
	return sub, nil
}

// Load reads and checks the built-in template name.
func Load(name string) (*metadata.Template, *metadata.Schema, error) {
	fsys, err := FS(name)
	if err != nil {
		return nil, nil, err
	}
	tpl, s, ps := metadata.LoadFS(fsys)
	if len(ps) > 0 {
		return nil, nil, fmt.Errorf("defaults: template %q: %w", name, ps)
	}
	return tpl, s, nil
}
