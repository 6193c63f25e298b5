package integration

import (
	"context"
	"strconv"
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

// Deliveries implements ui.Webhooks.
func (w uiWebhooks) Deliveries(ctx context.Context, webhook string, limit int) ([]ui.WebhookDelivery, error) {
	items, err := w.x.Deliveries(ctx, webhook, "", 0, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.WebhookDelivery, len(items))
	for i, d := range items {
		at, _ := time.Parse(time.RFC3339Nano, d.OccurredAt)
		out[i] = ui.WebhookDelivery{ID: d.ID, Event: d.Event, Object: d.Object, RecordID: d.RecordID, State: d.State, Attempts: d.Attempts, At: at}
		if n := len(d.Answers); n > 0 {
			last := d.Answers[n-1]
			out[i].Last = last.Error
			if last.Status != 0 {
				out[i].Last = strconv.Itoa(last.Status)
			}
		}
	}
	return out, nil
}

// Resend implements ui.Webhooks.
func (w uiWebhooks) Resend(ctx context.Context, webhook, id string) error {
	return w.x.Resend(ctx, webhook, id)
}
