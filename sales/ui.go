package sales

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/sales/imports"
	"github.com/crmplatform/crm/sales/rules"
)

// UI gives the web pages what they offer of the sales rules (ui.Sales).
func (s *Sales) UI() ui.Sales { return pages{s} }

// pages adapts the sales rules to the UI's types.
type pages struct{ s *Sales }

// Conversion implements ui.Sales.
func (p pages) Conversion(_ context.Context, object string) []ui.ConversionTarget {
	conv := rules.ConversionOf(p.s.eng.Snapshot().Compiled(rules.KindConversions), object)
	if conv == nil {
		return nil
	}
	out := make([]ui.ConversionTarget, len(conv.Targets))
	for i, t := range conv.Targets {
		out[i] = ui.ConversionTarget{Name: t.Name, Object: t.Object, Optional: t.Optional}
	}
	return out
}

// WebFormKind implements ui.Sales.
func (pages) WebFormKind() string { return rules.WebForms.Kind().Name() }

// FormSnippet implements ui.Sales.
func (p pages) FormSnippet(name, lang, base string) (string, error) {
	return p.s.FormSnippet(name, lang, base)
}

// AllowDuplicates implements ui.Sales.
func (pages) AllowDuplicates(ctx context.Context) context.Context { return WithAllowDuplicates(ctx) }

// Converted implements ui.Sales.
func (p pages) Converted(_ context.Context, object string, rec map[string]any) bool {
	conv := rules.ConversionOf(p.s.eng.Snapshot().Compiled(rules.KindConversions), object)
	return conv != nil && converted(conv, rec)
}

// ImportSample implements ui.Sales.
func (p pages) ImportSample(_ context.Context, object string, file []byte, mapping map[string]string, rows int) (*ui.ImportSample, error) {
	obj, ok := p.s.eng.Snapshot().Schema.Object(object)
	if !ok {
		return nil, fmt.Errorf("%w: no object %s", engine.ErrNotFound, object)
	}
	s, err := imports.Preview(obj, bytes.NewReader(file), mapping, rows)
	if err != nil {
		return nil, badFile(err)
	}
	return &ui.ImportSample{Header: s.Header, Fields: s.Fields, Rows: s.Rows}, nil
}

// Import implements ui.Sales.
func (p pages) Import(ctx context.Context, object string, file []byte, opt ui.ImportOptions) (*ui.ImportResult, error) {
	pr, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	res, err := imports.Run(ctx, p.s.eng, pr, bytes.NewReader(file), imports.Options{Object: object, Mapping: opt.Mapping, Key: opt.Key, DryRun: opt.DryRun})
	if err != nil {
		return nil, badFile(err)
	}
	out := &ui.ImportResult{Created: res.Created, Updated: res.Updated, Skipped: res.Skipped}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, ui.ImportError{Line: e.Line, Field: e.Field, Message: e.Message})
	}
	return out, nil
}

// StartImport implements ui.Sales: the import job of POST
// /api/import/{object} (the file stored, checked and imported in the
// background as the user).
func (p pages) StartImport(ctx context.Context, object string, file []byte, opt ui.ImportOptions) (string, error) {
	pr, ok := access.FromContext(ctx)
	if !ok {
		return "", engine.ErrUnauthenticated
	}
	st, err := p.s.imports.Start(ctx, pr, bytes.NewReader(file), imports.Options{Object: object, Mapping: opt.Mapping, Key: opt.Key, DryRun: opt.DryRun})
	if err != nil {
		return "", badFile(err)
	}
	return st.ID, nil
}

// ImportStatus implements ui.Sales: GET /api/imports/{id}'s answer (the
// user's own imports only).
func (p pages) ImportStatus(ctx context.Context, id string) (*ui.ImportStatus, error) {
	pr, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	st, err := p.s.imports.Status(ctx, pr, id)
	if err != nil {
		return nil, err
	}
	out := &ui.ImportStatus{Object: st.Object, State: st.State, Message: st.Message, Done: st.Done, Total: st.Total,
		ImportResult: ui.ImportResult{Created: st.Created, Updated: st.Updated, Skipped: st.Skipped}}
	for _, e := range st.Errors {
		out.Errors = append(out.Errors, ui.ImportError{Line: e.Line, Field: e.Field, Message: e.Message})
	}
	return out, nil
}

// badFile makes a file that is not CSV a 400 naming the file.
func badFile(err error) error {
	if errors.Is(err, imports.ErrBadFile) {
		return badField("file", err.Error())
	}
	return err
}
