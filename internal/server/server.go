// Package server assembles the whole server on a wired platform: the
// parts that plug into the engine (sales rules, workflows, reports,
// integration, the UI) attach their hooks, actions, job kinds and routes
// here. crm serve and internal/apitest build the server through it, so
// tests run what production runs. It holds no logic of its own.
package server

import (
	"context"

	"github.com/crmplatform/crm/documents/serve"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/marketing/mailing"
	reportroutes "github.com/crmplatform/crm/reports/routes"
	"github.com/crmplatform/crm/sales"
	"github.com/crmplatform/crm/templates"
	"github.com/crmplatform/crm/workflows"
	"github.com/crmplatform/crm/workflows/reminders"
)

// Parts wires every part of the server onto p and returns the routes they
// mount on the API (passed to api.Config.Registrars).
func Parts(ctx context.Context, p *platform.Platform) ([]api.Registrar, error) {
	rc, err := reminders.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	rc.Engine, rc.Access = p.Engine, p.Access
	rm, notifications, err := reminders.Wire(ctx, rc)
	if err != nil {
		return nil, err
	}
	wf, err := workflows.Wire(ctx, workflows.Config{Engine: p.Engine, Access: p.Access, Notifier: rm})
	if err != nil {
		return nil, err
	}
	routes := []api.Registrar{wf.Routes, notifications}
	sl, err := sales.Wire(ctx, sales.Config{Engine: p.Engine, Access: p.Access})
	if err != nil {
		return nil, err
	}
	routes = append(routes, sl.Routes)
	in, err := integration.Wire(ctx, integration.Config{Engine: p.Engine})
	if err != nil {
		return nil, err
	}
	routes = append(routes, in.Routes)
	reports, err := reportroutes.Wire(ctx, p)
	if err != nil {
		return nil, err
	}
	routes = append(routes, reports.Routes)
	mc, err := mailing.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	mc.Engine = p.Engine
	mailer, err := mailing.Wire(ctx, mc)
	if err != nil {
		return nil, err
	}
	docs := serve.New(p.Engine)
	routes = append(routes, mailer.Routes(), docs.Routes)
	tpl, err := templates.New(ctx, p.Engine)
	if err != nil {
		return nil, err
	}
	web, err := ui.New(ctx, ui.Config{Engine: p.Engine, Access: p.Access, Links: in.PageLinks, Workflows: wf.UI(), Notifications: rm.UI(), Sales: sl.UI(), Reports: reports.UI(), Documents: docs.UI(), Mailings: mailer.UI(), Webhooks: in.UI(), Templates: tpl.UI()})
	if err != nil {
		return nil, err
	}
	routes = append(routes, web.Register, tpl.Routes)
	return routes, nil
}
