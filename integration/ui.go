package integration

import (
	"context"
	"time"

	"github.com/crmplatform/crm/engine/ui"
)

// UI returns what the builder shows administrators of a webhook
// (ui.Webhooks): its deliveries, and resending one.
func (x *Integration) UI() ui.Webhooks { return uiWebhooks{x} }

// uiWebhooks gives the web UI the deliveries of webhooks.
type uiWebhooks struct{ x *Integration }

// Kind implements ui.Webhooks.
func (w uiWebhooks) Kind() string { return KindWebhooks }

// Deliveries implements ui.Webhooks: a page of DeliveryPage.
func (w uiWebhooks) Deliveries(ctx context.Context, webhook string, q ui.DeliveryQuery) ([]ui.WebhookDelivery, string, error) {
	cursor, state, err := cursorState(q.Cursor, q.State)
	if err != nil {
		return nil, "", err
	}
	items, next, err := w.x.DeliveryPage(ctx, webhook, state, cursor, min(max(q.Limit, 1), maxDeliveries))
	if err != nil {
		return nil, "", err
	}
	out := make([]ui.WebhookDelivery, len(items))
	for i, d := range items {
		at, _ := time.Parse(time.RFC3339Nano, d.OccurredAt)
		out[i] = ui.WebhookDelivery{ID: d.ID, Event: d.Event, Object: d.Object, RecordID: d.RecordID, State: d.State, Attempts: d.Attempts, At: at}
		if d.NextAt != "" {
			out[i].Next, _ = time.Parse(timeLayout, d.NextAt)
		}
		if n := len(d.Answers); n > 0 {
			out[i].Status, out[i].Error = d.Answers[n-1].Status, d.Answers[n-1].Error
		}
	}
	return out, next, nil
}

// Resend implements ui.Webhooks.
func (w uiWebhooks) Resend(ctx context.Context, webhook, id string) error {
	return w.x.Resend(ctx, webhook, id)
}
