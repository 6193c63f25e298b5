package templates

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/metadata"
)

// Limits of an archive the builder's compare reads, so an upload cannot
// exhaust memory (a zip bomb).
const (
	maxArchiveFiles = 4000
	maxArchiveBytes = 64 << 20
)

// UI gives the builder's templates page what it offers (ui.Templates):
// the functions the /api/templates routes call.
func (sv *Service) UI() ui.Templates { return pages{sv} }

// pages adapts the service to the UI's types.
type pages struct{ sv *Service }

// List implements ui.Templates.
func (p pages) List(ctx context.Context, lang string) ([]ui.TemplateInfo, *ui.TemplateInfo, error) {
	list, in, err := p.sv.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]ui.TemplateInfo, len(list))
	for i, b := range list {
		out[i] = templateInfo(b.Manifest, lang)
		out[i].Sample = b.Sample
	}
	if in == nil {
		return out, nil, nil
	}
	cur := templateInfo(in.Manifest, lang)
	cur.MetadataVersion, cur.InstalledAt = in.MetadataVersion, in.InstalledAt
	return out, &cur, nil
}

// templateInfo describes a manifest in lang.
func templateInfo(m Manifest, lang string) ui.TemplateInfo {
	return ui.TemplateInfo{Name: m.Name, Label: m.Label.Get(lang), Description: m.Description.Get(lang), Version: m.Version}
}

// Install implements ui.Templates.
func (p pages) Install(ctx context.Context, name string, plan, sample bool, base int64) (*ui.TemplatePlan, error) {
	pl, res, err := p.sv.install(ctx, name, plan, sample, base)
	if pl == nil {
		return nil, err
	}
	out := &ui.TemplatePlan{Template: pl.Template.Name + " " + pl.Template.Version, From: pl.From, Changes: pl.Changes, SQL: pl.SQL, Version: pl.Version}
	for _, c := range pl.Conflicts {
		out.Conflicts = append(out.Conflicts, c.String())
	}
	if res != nil {
		out.Sample = res.Total
	}
	return out, err
}

// Export implements ui.Templates: the files of Service.Export in a zip
// archive, template.yaml at its root, named after the template.
func (p pages) Export(ctx context.Context) (*ui.File, error) {
	files, err := p.sv.Export(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range names {
		w, err := zw.Create(f)
		if err != nil {
			return nil, fmt.Errorf("templates: export %s: %w", f, err)
		}
		if _, err := w.Write(files[f]); err != nil {
			return nil, fmt.Errorf("templates: export %s: %w", f, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("templates: export: %w", err)
	}
	name := "exported"
	if in, err := p.sv.Current(ctx); err == nil {
		name = in.Name + "-" + in.Version
	}
	return &ui.File{Name: name + ".zip", Type: "application/zip", Data: buf.Bytes()}, nil
}

// Compare implements ui.Templates: the archive's files go through the
// diff of POST /api/templates/diff.
func (p pages) Compare(_ context.Context, archive []byte) ([]metadata.Change, error) {
	files, err := unzip(archive)
	if err != nil {
		return nil, err
	}
	return p.sv.diffFiles(files)
}

// unzip reads the files of a template folder from a zip archive: at its
// root, or in the one folder holding template.yaml (an archive of the
// folder itself).
func unzip(archive []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, &engine.RequestError{Message: "the file is not a zip archive: " + err.Error()}
	}
	if len(zr.File) > maxArchiveFiles {
		return nil, &engine.RequestError{Message: fmt.Sprintf("the archive holds more than %d files", maxArchiveFiles)}
	}
	// root is the folder of the shallowest template.yaml ("" at the root).
	root, depth := "", -1
	for _, f := range zr.File {
		if d := strings.Count(f.Name, "/"); path.Base(f.Name) == "template.yaml" && (depth < 0 || d < depth) {
			root, depth = strings.TrimSuffix(f.Name, "template.yaml"), d
		}
	}
	files := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasPrefix(f.Name, root) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, &engine.RequestError{Message: fmt.Sprintf("%s in the archive: %v", f.Name, err)}
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxArchiveBytes-total+1))
		rc.Close()
		if err != nil {
			return nil, &engine.RequestError{Message: fmt.Sprintf("%s in the archive: %v", f.Name, err)}
		}
		if total += int64(len(b)); total > maxArchiveBytes {
			return nil, &engine.RequestError{Message: fmt.Sprintf("the archive's files are larger than %d MiB", maxArchiveBytes>>20)}
		}
		files[strings.TrimPrefix(f.Name, root)] = b
	}
	if len(files) == 0 {
		return nil, &engine.RequestError{Message: "the archive holds no files"}
	}
	return files, nil
}
