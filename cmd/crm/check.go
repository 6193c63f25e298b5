package main

import (
	"io/fs"

	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/metadata"
)

// loadChecked reads a template and runs every database-free check on it
// (check.Schema), returning every problem of every stage.
func loadChecked(fsys fs.FS) (*metadata.Template, *metadata.Schema, metadata.Problems) {
	tpl, s, ps := metadata.LoadFS(fsys)
	_, cps := check.Schema(s)
	return tpl, s, append(ps, cps...)
}
