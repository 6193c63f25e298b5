package sales

import (
	"context"

	"github.com/crmplatform/crm/engine/ui"
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

// AllowDuplicates implements ui.Sales.
func (pages) AllowDuplicates(ctx context.Context) context.Context { return WithAllowDuplicates(ctx) }

// Converted implements ui.Sales.
func (p pages) Converted(_ context.Context, object string, rec map[string]any) bool {
	conv := rules.ConversionOf(p.s.eng.Snapshot().Compiled(rules.KindConversions), object)
	return conv != nil && converted(conv, rec)
}
