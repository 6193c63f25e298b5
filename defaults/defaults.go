// Package defaults ships the built-in templates (metadata packages) as an
// embedded file system: every folder of this package with a template.yaml
// (standard/ and, later, industry templates). Each is a folder
// {template.yaml, objects/, roles/, …} that metadata.LoadFS reads; a
// template may extend another built-in one (extends: standard in its
// template.yaml). It imports metadata and the packages that register the
// document kinds its templates hold (workflows/definition, sales/rules,
// reports, marketing, documents), so every program that loads a built-in template knows them.
package defaults

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/crmplatform/crm/metadata"
	// The sales rule kinds: conversions, duplicate and assignment rules,
	// web forms.
	_ "github.com/crmplatform/crm/sales/rules"
	// The workflow kinds: state_workflows, approvals, automations,
	// reminders.
	_ "github.com/crmplatform/crm/workflows/definition"
	// The kinds reports and dashboards.
	_ "github.com/crmplatform/crm/reports"
	// The kind message_templates and the send_mailing right.
	_ "github.com/crmplatform/crm/marketing"
	// The kind document_templates.
	_ "github.com/crmplatform/crm/documents"
	// The kind layouts (pages of objects).
	_ "github.com/crmplatform/crm/engine/ui/layout"
)

// files holds every folder of the package: each is a template.
//
//go:embed */*
var files embed.FS

// Names lists the built-in templates.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if _, err := fs.Stat(files, e.Name()+"/template.yaml"); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// FS returns the files of the built-in template name; they can find the
// built-in template it extends (metadata.BaseFinder).
func FS(name string) (fs.FS, error) {
	sub, err := fs.Sub(files, name)
	if err != nil {
		return nil, fmt.Errorf("defaults: template %q: %w", name, err)
	}
	if _, err := fs.Stat(sub, "template.yaml"); err != nil {
		return nil, fmt.Errorf("defaults: no built-in template %q", name)
	}
	return WithBases(sub), nil
}

// WithBases returns the files of a template (a folder on disk, say) able
// to find the built-in templates it may extend.
func WithBases(fsys fs.FS) fs.FS { return metadata.WithBases(fsys, FS) }

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
