package mailing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/marketing"
)

// UI returns what the web UI sends mailings with (ui.Mailings): the
// campaign's send action, run through the engine as the API runs it.
func (m *Mailer) UI() ui.Mailings { return uiMailings{m} }

// uiMailings sends mailings for the web UI.
type uiMailings struct{ m *Mailer }

// Action implements ui.Mailings.
func (u uiMailings) Action() string { return marketing.ActionSendMailing }

// Templates implements ui.Mailings: the message templates whose fields
// the user may read, by label.
func (u uiMailings) Templates(ctx context.Context, lang string) []ui.MailingTemplate {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil
	}
	rights, err := u.m.eng.Rights(ctx, p)
	if err != nil {
		return nil
	}
	compiled, _ := rights.Snapshot().Compiled(marketing.KindMessageTemplates).(marketing.Compiled)
	var out []ui.MailingTemplate
	for name, t := range compiled {
		if checkReadable(rights, t) != nil {
			continue
		}
		label := t.Label.Get(lang)
		if label == "" {
			label = name
		}
		out = append(out, ui.MailingTemplate{Name: name, Label: label, Channel: t.Channel, Object: t.Object})
	}
	slices.SortFunc(out, func(a, b ui.MailingTemplate) int {
		return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.Name, b.Name))
	})
	return out
}

// input is the body of the mailing actions for a request of the UI.
func input(r ui.MailingRequest) map[string]any {
	return map[string]any{"template": r.Template, "filter": r.Filter, "members": r.Members, "track": r.Track, "language": r.Language}
}

// Preview implements ui.Mailings.
func (u uiMailings) Preview(ctx context.Context, campaign string, r ui.MailingRequest) (*ui.MailingPreview, error) {
	res, err := u.m.eng.RunAction(ctx, "campaign", campaign, ActionPreview, input(r))
	if err != nil {
		return nil, err
	}
	p, ok := res.(*Preview)
	if !ok {
		return nil, fmt.Errorf("mailing: a preview is a %T", res)
	}
	out := &ui.MailingPreview{Counts: p.Counts}
	for _, it := range p.Items {
		out.Items = append(out.Items, ui.MailingMessage{To: it.To, Subject: it.Subject, HTML: it.HTML, Text: it.Text})
	}
	return out, nil
}

// Test implements ui.Mailings.
func (u uiMailings) Test(ctx context.Context, campaign string, r ui.MailingRequest) error {
	_, err := u.m.eng.RunAction(ctx, "campaign", campaign, ActionTest, input(r))
	return err
}

// Send implements ui.Mailings.
func (u uiMailings) Send(ctx context.Context, campaign string, r ui.MailingRequest) error {
	_, err := u.m.eng.RunAction(ctx, "campaign", campaign, marketing.ActionSendMailing, input(r))
	return err
}

// List implements ui.Mailings.
func (u uiMailings) List(ctx context.Context, campaign string) ([]ui.MailingSummary, error) {
	items, err := u.m.list(ctx, campaign)
	if err != nil {
		return nil, err
	}
	out := make([]ui.MailingSummary, len(items))
	for i, s := range items {
		at, _ := time.Parse(timeLayout, s.CreatedAt)
		out[i] = ui.MailingSummary{Template: s.Template, Channel: s.Channel, State: s.State, Sender: s.Sender, Error: s.Error, CreatedAt: at, Counts: s.Counts}
	}
	return out, nil
}
