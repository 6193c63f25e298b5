package routes

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
	"github.com/gofiber/fiber/v2"
)

// tableSavedReports is the table of the reports users saved for
// themselves.
const tableSavedReports = "crm_user_reports"

// Report sources: saved by the user who runs it, or metadata.
const (
	sourceUser     = "user"
	sourceMetadata = "metadata"
)

// reportOffer is a report as offered to one user: a plan, or the
// definition alone of a saved report that no longer compiles (its fields
// changed since; its owner can still read and delete it), with why (err).
type reportOffer struct {
	def    *reports.Report
	plan   *reports.Plan
	err    error
	source string
}

// reportOffers lists the reports the principal of rights may run: their
// saved ones whose base object they may read, then the metadata ones
// offered to them, a saved one hiding a metadata one of the same name.
func (h *handlers) reportOffers(ctx context.Context, rights *engine.Rights) ([]reportOffer, error) {
	mine, err := h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	var out []reportOffer
	for _, r := range mine {
		if !readable(rights, r.Object) {
			continue
		}
		o := reportOffer{def: r, source: sourceUser}
		o.plan, o.err = h.run.Compile(rights, r)
		out = append(out, o)
	}
	for _, p := range h.run.List(ctx, rights) {
		if !slices.ContainsFunc(mine, func(m *reports.Report) bool { return m.Name == p.Report.Name }) {
			out = append(out, reportOffer{def: p.Report, plan: p, source: sourceMetadata})
		}
	}
	return out, nil
}

// readable reports whether the principal of rights may read records of
// object.
func readable(rights *engine.Rights, object string) bool {
	s, err := rights.Scope(object)
	return err == nil && s.Can(metadata.ActionRead) == nil
}

// plan returns the plan of the report name as the principal of rights
// runs it: their saved report of that name, compiled against the
// metadata of rights, else the metadata report, if offered to them
// (engine.ErrNotFound otherwise, as for a report that does not exist).
func (h *handlers) plan(ctx context.Context, rights *engine.Rights, name string) (*reports.Plan, error) {
	own, err := h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	p, _, err := h.resolve(ctx, rights, own, name)
	return p, err
}

// resolve returns the plan of the report name as the principal of rights
// runs it, among own (their saved reports, read once per request) and the
// metadata reports offered to them, and whether it is one of their own.
func (h *handlers) resolve(ctx context.Context, rights *engine.Rights, own []*reports.Report, name string) (*reports.Plan, bool, error) {
	if r := findOwn(rights, own, name); r != nil {
		p, err := h.run.Compile(rights, r)
		return p, true, err
	}
	p, err := h.run.Plan(ctx, rights, name)
	return p, false, err
}

// findOwn returns the report name among own, if the principal of rights
// may read its base object (nil otherwise).
func findOwn(rights *engine.Rights, own []*reports.Report, name string) *reports.Report {
	i := slices.IndexFunc(own, func(r *reports.Report) bool { return r.Name == name })
	if i < 0 || !readable(rights, own[i].Object) {
		return nil
	}
	return own[i]
}

// ownReport returns the principal's saved report name, if they may read
// its base object (engine.ErrNotFound otherwise).
func (h *handlers) ownReport(ctx context.Context, rights *engine.Rights, name string) (*reports.Report, error) {
	own, err := h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	if r := findOwn(rights, own, name); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%w: you have no saved report %s", engine.ErrNotFound, name)
}

// saveReport saves a report (parsed through its kind) as the principal's
// own, after the checks of a metadata report and of a run by them (the
// right to read its base object and every field it reads): a report they
// could not run is not saved. Roles are not theirs to give.
func (h *handlers) saveReport(ctx context.Context, rights *engine.Rights, r *reports.Report) error {
	if len(r.Roles) > 0 {
		return metadata.Problems{{Path: "/roles", Message: "a report you save is yours: the roles it is offered to are set by an administrator in metadata"}}
	}
	p, err := h.run.Compile(rights, r)
	if err != nil {
		return err
	}
	if err := h.run.Check(ctx, rights, p); err != nil {
		return err
	}
	return h.ownReports.put(ctx, rights.Principal().UserID, r.Name, r, nil)
}

// callerReports returns the reports offered to the caller (reportOffers).
func (h *handlers) callerReports(ctx context.Context) ([]reportOffer, error) {
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return nil, err
	}
	return h.reportOffers(ctx, rights)
}

// definition answers GET /api/reports/{name}: the definition of a report
// the caller may run, and where it comes from.
func (h *handlers) definition(c *fiber.Ctx) error {
	offers, err := h.callerReports(c.UserContext())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(offers, func(o reportOffer) bool { return o.def.Name == c.Params("name") })
	if i < 0 {
		return fmt.Errorf("%w: no report %s", engine.ErrNotFound, c.Params("name"))
	}
	return c.JSON(fiber.Map{"source": offers[i].source, "report": offers[i].def})
}

// putReport answers PUT /api/reports/{name}: the caller saves a report
// for themselves.
func (h *handlers) putReport(c *fiber.Ctx) error {
	return putOwn(h, c, reports.Reports.Kind(), func(r *reports.Report) string { return r.Name }, h.saveReport)
}

// deleteReport answers DELETE /api/reports/{name}: one of the caller's
// own.
func (h *handlers) deleteReport(c *fiber.Ctx) error { return deleteOwn(h, c, h.ownReports) }
