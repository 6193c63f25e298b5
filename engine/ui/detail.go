package ui

import (
	"errors"
	"slices"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// relatedRows is how many records a related list shows.
const relatedRows = 10

// detailData is the content of a record's page.
type detailData struct {
	Object   *metadata.Object
	Label    string
	ID       string
	Title    string
	Sections []detailSection
	Related  []relatedData
	History  []historyRow
	Actions  []actionView
	Links    []Link
	// Documents are the document templates that print the record, and
	// AttachTo the record's file fields the user may set, where a
	// printed PDF can be kept.
	Documents []DocumentInfo
	AttachTo  []optionView
	States    []stateView
	Approval  []approvalView
	Version   any
	CanEdit   bool
	CanDel    bool
	// Locked says why the record may not be changed now (a pending
	// approval), "" when it may.
	Locked string
	// CanShare offers the record's sharing page to those holding the
	// transfer right, as the transfer action is (the page checks the
	// record itself).
	CanShare bool
	Users    []optionView
	// Replaced are the approvers of the pending request's step, one of
	// whom a reassignment replaces (chosen when there are several).
	Replaced []Choice
	// Processes are the approval processes a submit may choose among
	// (when the object has several).
	Processes []Choice
}

// detailSection is a titled group of values.
type detailSection struct {
	Label  string
	Fields []detailField
}

// detailField is a label and its value.
type detailField struct {
	Name, Label string
	Value       cell
}

// relatedData is a related list: records of another object pointing at
// this one.
type relatedData struct {
	Label   string
	Object  string
	Columns []string
	Rows    []listRow
	More    string
	New     string
	// Detail says its records are details of the page's record
	// (metadata.MasterOf): locked with it while its approval waits.
	Detail bool
}

// historyRow is one change in a record's history.
type historyRow struct {
	When, Field, Old, New, By string
	BySystem                  bool
}

// actionView is a named action the user may run on the record.
type actionView struct {
	Name, Label string
	// Input names the input the action needs ("owner" for transfer,
	// "comment" for the approval actions, "submit" for a submit that
	// chooses among several processes, "reassign" for a pending
	// decision given to another approver, "page" for an action with a
	// page of its own), "" for none.
	Input string
}

// stateView is a field a state workflow governs, with the buttons of the
// changes the user may make now.
type stateView struct {
	Field, Label, Current string
	Next                  []Choice
}

// approvalView is an approval request of the record.
type approvalView struct {
	Approval
	// State is the state's label; Pending reports a request waiting.
	State     string
	Pending   bool
	Approvers string
	Submitted string
}

// detailPage answers GET /ui/o/{object}/{id}: the record as the user may
// see it, in the layout's sections, with its links, related lists, its
// history and the actions the user may take.
func (u *UI) detailPage(c *fiber.Ctx) error {
	object, id := c.Params("object"), c.Params("id")
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	rec, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	lay := u.layoutFor(r, obj)
	shown := append(fieldNames(s.Describe()), metadata.OwnerField)
	t, err := r.enrich(s, []engine.Record{rec}, shown)
	if err != nil {
		return u.fail(c, err)
	}
	d := detailData{Object: obj, Label: obj.Title(r.lang), ID: id, Title: titleOf(obj, rec),
		CanEdit: s.Can(metadata.ActionUpdate) == nil, CanDel: s.Can(metadata.ActionDelete) == nil, CanShare: s.Can(metadata.ActionTransfer) == nil}
	for _, sec := range lay.Sections {
		ds := detailSection{Label: sec.Label.Get(r.lang)}
		for _, name := range sec.Fields {
			if !s.Readable(name) {
				continue // hidden: absent
			}
			f, _ := fieldDef(obj, name)
			ds.Fields = append(ds.Fields, detailField{Name: name, Label: f.Title(r.lang), Value: r.display(obj, name, rec, t)})
		}
		if len(ds.Fields) > 0 {
			d.Sections = append(d.Sections, ds)
		}
	}
	sys := detailSection{Label: tr(r.lang, "record_info")}
	for _, name := range []string{metadata.OwnerField, "created_at", "created_by", "updated_at", "updated_by"} {
		if f, ok := metadata.SystemField(name); ok && s.Readable(name) {
			sys.Fields = append(sys.Fields, detailField{Name: name, Label: f.Title(r.lang), Value: r.display(obj, name, rec, t)})
		}
	}
	d.Sections = append(d.Sections, sys)
	for _, rl := range lay.Related {
		rd, ok, err := u.related(r, rl, id)
		if err != nil {
			return u.fail(c, err)
		}
		if ok {
			d.Related = append(d.Related, rd)
		}
	}
	if u.links != nil {
		if d.Links, err = u.links(r.ctx, object, id); err != nil {
			return u.fail(c, err)
		}
	}
	if u.docs != nil {
		for _, doc := range u.docs.For(object, r.lang) {
			if !doc.List {
				d.Documents = append(d.Documents, doc)
			}
		}
		for _, f := range obj.Fields {
			if len(d.Documents) > 0 && d.CanEdit && metadata.FormInput(f).Kind == metadata.InputFile && s.Editable(f.Name) {
				d.AttachTo = append(d.AttachTo, optionView{Value: f.Name, Label: f.Title(r.lang)})
			}
		}
	}
	hist, err := u.eng.History(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		f, ok := fieldDef(obj, h.Field)
		if !ok {
			continue
		}
		row := historyRow{When: h.ChangedAt.In(r.loc).Format("2006-01-02 15:04"), Field: f.Title(r.lang), By: r.userName(h.ChangedBy), BySystem: h.BySystem}
		if h.Field == metadata.OwnerField {
			row.Old, row.New = r.userName(scalarString(h.OldValue)), r.userName(scalarString(h.NewValue))
		} else {
			row.Old, row.New = historyValue(r, obj, f, h.OldValue), historyValue(r, obj, f, h.NewValue)
		}
		d.History = append(d.History, row)
	}
	d.Version = rec["version"]
	var pending *Approval
	if u.wf != nil {
		if pending, err = u.workflowPanels(r, &d); err != nil {
			return u.fail(c, err)
		}
		lockDetail(r, &d, pending)
		if err := u.lockByMaster(r, &d, rec); err != nil {
			return u.fail(c, err)
		}
	}
	for _, a := range u.eng.ActionsOf(object) {
		if s.Can(a.RightOf()) != nil || u.wf != nil && !approvalActionFits(a.Name, pending, r.p.UserID) {
			continue
		}
		av := actionView{Name: a.Name, Label: actionLabel(r.lang, a.Name)}
		if commentActions[a.Name] {
			av.Input = "comment"
		}
		if a.Name == actionSubmit && u.wf != nil {
			if procs := u.wf.Processes(object, r.lang); len(procs) > 1 {
				av.Input, d.Processes = "submit", procs
			}
		}
		if u.mail != nil && a.RightOf() == u.mail.Action() {
			if a.Name != u.mail.Action() {
				continue // previews and tests are run from the mailing page
			}
			av.Input = "page"
		}
		if _, ok := u.convertChoices(r, object, func(string) string { return "" }); ok && a.Name == metadata.ActionConvert {
			if u.sales.Converted(r.ctx, object, rec) {
				continue
			}
			av.Input = "page"
		}
		if a.Name == actionReassign && pending != nil {
			av.Input = "reassign"
			d.Replaced = pending.Approvers
		}
		if a.Name == metadata.ActionTransfer || av.Input == "reassign" {
			if av.Input == "" {
				av.Input = "owner"
			}
			if d.Users == nil {
				if d.Users, err = u.userChoices(r); err != nil {
					return u.fail(c, err)
				}
			}
		}
		d.Actions = append(d.Actions, av)
	}
	p := u.newPage(c, d.Title)
	p.Section, p.Data = object, d
	return u.render(c, fiber.StatusOK, "detail", p)
}

// workflowPanels fills the record's state buttons and approval requests
// (package workflows, as the user) and returns the pending request.
func (u *UI) workflowPanels(r *rq, d *detailData) (*Approval, error) {
	states, err := u.wf.Transitions(r.ctx, d.Object.Name, d.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range states {
		f, ok := d.Object.Field(st.Field)
		if !ok {
			continue
		}
		sv := stateView{Field: st.Field, Label: f.Title(r.lang), Current: st.Current, Next: st.Next}
		if o, ok := f.Option(st.Current); ok {
			sv.Current = o.Label.Get(r.lang)
		}
		d.States = append(d.States, sv)
	}
	reqs, err := u.wf.Approvals(r.ctx, d.Object.Name, d.ID)
	if err != nil {
		return nil, err
	}
	var pending *Approval
	for i, a := range reqs {
		v := approvalView{Approval: a, State: tr(r.lang, "approval_"+a.State), Pending: a.State == "pending",
			Submitted: a.SubmittedBy.Label + ", " + a.SubmittedAt.In(r.loc).Format("2006-01-02 15:04")}
		var names []string
		for _, ap := range a.Approvers {
			names = append(names, ap.Label)
		}
		v.Approvers = joinComma(names)
		if v.Pending && pending == nil {
			pending = &reqs[i]
		}
		d.Approval = append(d.Approval, v)
	}
	return pending, nil
}

// lockDetail takes from the page what a pending approval's lock refuses
// (the engine's checks refuse it anyway): Edit and Delete, unless the user
// is a current approver who may still change some fields (Edit then), a
// file to keep a printed document in, and New on the lists of the
// record's details; it says why.
func lockDetail(r *rq, d *detailData, pending *Approval) {
	if pending == nil || !pending.Locked {
		return
	}
	approver := slices.ContainsFunc(pending.Approvers, func(c Choice) bool { return c.Value == r.p.UserID })
	d.CanDel = false
	d.Locked = tr(r.lang, "record_locked", pending.Process)
	if approver && len(pending.ApproversMayEdit) > 0 {
		var names []string
		for _, name := range pending.ApproversMayEdit {
			f, _ := fieldDef(d.Object, name)
			names = append(names, f.Title(r.lang))
		}
		d.Locked = tr(r.lang, "record_locked_approver", pending.Process, joinComma(names))
	} else {
		d.CanEdit, d.AttachTo = false, nil
	}
	for i := range d.Related {
		if d.Related[i].Detail {
			d.Related[i].New = ""
		}
	}
}

// lockByMaster takes Edit and Delete from the page of a detail record
// (metadata.MasterOf: a quote's line) whose master waits for a decision
// under a locking approval, which refuses every change of its details,
// and says why.
func (u *UI) lockByMaster(r *rq, d *detailData, rec engine.Record) error {
	for _, f := range d.Object.Fields {
		master, ok := metadata.MasterOf(f)
		id, _ := rec[f.Name].(string)
		if !ok || id == "" || len(u.wf.Processes(master, r.lang)) == 0 {
			continue
		}
		reqs, err := u.wf.Approvals(r.ctx, master, id)
		if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrForbidden) {
			continue // a master the user may not read: the engine still refuses
		}
		if err != nil {
			return err
		}
		for _, a := range reqs {
			if a.State == "pending" && a.Locked {
				d.CanEdit, d.CanDel, d.AttachTo = false, false, nil
				d.Locked = tr(r.lang, "detail_locked", f.Title(r.lang), a.Process)
				return nil
			}
		}
	}
	return nil
}

// The approval actions with inputs of their own: submit into a process
// ({"process", "comment"}), reassign a pending decision to another
// approver ({"to", "from", "comment"}).
const (
	actionSubmit   = "submit"
	actionReassign = "reassign"
)

// approvalActionFits reports whether the approval action name (others
// always fit) makes sense for user now: submit with no request pending,
// approve and reject for its approvers, recall for its submitter,
// reassign while a request is pending.
func approvalActionFits(name string, pending *Approval, user string) bool {
	switch name {
	case actionSubmit:
		return pending == nil
	case "approve", "reject":
		if pending == nil {
			return false
		}
		for _, a := range pending.Approvers {
			if a.Value == user {
				return true
			}
		}
		return false
	case "recall":
		return pending != nil && pending.SubmittedBy.Value == user
	case actionReassign:
		return pending != nil
	}
	return true
}

// changeState answers POST /ui/o/{object}/{id}/state: the record's field
// set to the value of a state button, with the version the page read
// (the engine checks the transition, the rights and the version).
func (u *UI) changeState(c *fiber.Ctx) error {
	object, id := c.Params("object"), c.Params("id")
	v, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil || v < 1 {
		return u.fail(c, &engine.RequestError{Message: tr(lang(c), "no_version_page")})
	}
	field := c.FormValue("field")
	if _, err := u.eng.Update(c.UserContext(), object, id, map[string]any{field: c.FormValue("to"), "version": v}); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/o/"+object+"/"+id+"?flash=action_done", fiber.StatusSeeOther)
}

// historyValue formats a value of a history entry.
func historyValue(r *rq, obj *metadata.Object, f *metadata.Field, v any) string {
	if v == nil {
		return ""
	}
	if in := metadata.FormInput(f); in.Kind == metadata.InputLookup && !in.Multiple {
		names, err := r.recordTitles(in.Target, []string{scalarString(v)})
		if err == nil {
			if n, ok := names[scalarString(v)]; ok {
				return n
			}
		}
	}
	return metadata.Display(f, v, r.lang, r.loc)
}

// related reads one related list through engine.List as the user; a list
// of an object or field the user may not read is left out (ok false).
func (u *UI) related(r *rq, rl RelatedList, id string) (relatedData, bool, error) {
	s, err := r.scope(rl.Object, metadata.ActionRead)
	if errors.Is(err, engine.ErrForbidden) || err == nil && !s.Readable(rl.Field) {
		return relatedData{}, false, nil
	}
	if err != nil {
		return relatedData{}, false, err
	}
	obj := s.Object()
	f, _ := obj.Field(rl.Field)
	label := rl.Label.Get(r.lang)
	if label == "" {
		label = pluralTitle(obj, r.lang) + " (" + f.Title(r.lang) + ")"
	}
	filter := rl.Field + " == " + strconv.Quote(id)
	_, detail := metadata.MasterOf(f)
	d := relatedData{Label: label, Object: rl.Object, More: "/ui/o/" + rl.Object + "?filter=" + urlQuery(filter), Detail: detail}
	if s.Can(metadata.ActionCreate) == nil && s.Editable(rl.Field) {
		d.New = "/ui/o/" + rl.Object + "/new?" + rl.Field + "=" + urlQuery(id)
	}
	cols := visibleColumns(s, rl.Columns, nil)
	for _, name := range cols {
		cf, _ := fieldDef(obj, name)
		d.Columns = append(d.Columns, cf.Title(r.lang))
	}
	res, err := u.eng.List(r.ctx, rl.Object, engine.ListOptions{Filter: filter, Limit: relatedRows, Sort: "-updated_at"})
	if err != nil {
		return relatedData{}, false, err
	}
	if d.Rows, err = r.rows(s, cols, res.Items); err != nil {
		return relatedData{}, false, err
	}
	return d, true, nil
}

// userChoices lists the active users a record can be given to.
func (u *UI) userChoices(r *rq) ([]optionView, error) {
	users, err := u.acc.ListUsers(r.ctx)
	if err != nil {
		return nil, err
	}
	var out []optionView
	for _, usr := range users {
		if !usr.Active {
			continue
		}
		out = append(out, optionView{Value: usr.ID, Label: userLabel(usr)})
	}
	return out, nil
}

// userLabel names a user in a choice: "display name (username)", or the
// username alone.
func userLabel(usr *access.User) string {
	if usr.DisplayName != "" {
		return usr.DisplayName + " (" + usr.Username + ")"
	}
	return usr.Username
}

// runAction answers POST /ui/o/{object}/{id}/actions/{action}: the
// engine's RunAction (read, right and record scope checked there) with
// the form's input.
func (u *UI) runAction(c *fiber.Ctx) error {
	object, id, name := c.Params("object"), c.Params("id"), c.Params("action")
	input := map[string]any{}
	if v := c.FormValue("owner_id"); v != "" {
		input[metadata.OwnerField] = v
	}
	for _, k := range []string{"comment", "to", "from", "process", "version"} {
		if v := c.FormValue(k); v != "" {
			input[k] = v
		}
	}
	if _, err := u.eng.RunAction(c.UserContext(), object, id, name, input); err != nil {
		return u.fail(c, err)
	}
	if _, err := u.eng.Get(c.UserContext(), object, id); err != nil {
		return c.Redirect("/ui/o/"+object+"?flash=action_done", fiber.StatusSeeOther)
	}
	return c.Redirect("/ui/o/"+object+"/"+id+"?flash=action_done", fiber.StatusSeeOther)
}

// commentActions are the actions that take a comment (the approval
// actions of workflows: {"comment": "…"}; reassign takes one too, beside
// its approvers).
var commentActions = map[string]bool{"submit": true, "approve": true, "reject": true, "recall": true}

// actionLabel names an action in lang.
func actionLabel(lang, name string) string {
	if hasMessage("action_" + name) {
		return tr(lang, "action_"+name)
	}
	return name
}
