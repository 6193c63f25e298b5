package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// boardCards is how many cards a board column shows.
const boardCards = 50

// boardData is the content of a kanban board: the records of an object
// in columns by the value of a picklist (opportunities by stage).
type boardData struct {
	Object  *metadata.Object
	Label   string
	Field   string
	Fields  []fieldChoice
	Columns []boardColumn
	Error   string
	CanMove bool
}

// boardColumn is one value of the picklist with its records.
type boardColumn struct {
	Value, Label string
	Count        int64
	Capped       bool
	Cards        []boardCard
}

// boardCard is one record on the board. Movable says the user may
// change this record's field; Targets are the columns with whether the
// user may move it there now (the state workflow's transitions and their
// conditions, the user's rights), Allowed the same as JSON for the drag.
type boardCard struct {
	ID, Title, Href, Version string
	Lines                    []string
	Movable                  bool
	Targets                  []boardTarget
	Allowed                  string
	// Stuck says no move is open to the card now.
	Stuck bool
}

// boardTarget is a column a card may or may not move to.
type boardTarget struct {
	Value, Label     string
	Current, Allowed bool
}

// boardFields lists the picklists of s the principal may read: what a
// board can be grouped by.
func boardFields(s *engine.Scope, lang string) []fieldChoice {
	var out []fieldChoice
	for _, f := range s.Object().Fields {
		if metadata.SingleOption(f) && s.Readable(f.Name) && f.DependsOn == "" {
			out = append(out, fieldChoice{Name: f.Name, Label: f.Title(lang)})
		}
	}
	return out
}

// boardPage answers GET /ui/board/{object}?field=: a kanban of the
// records the user may read (engine.List per column), with a move form
// on each card (dragging a card submits it).
func (u *UI) boardPage(c *fiber.Ctx) error {
	return u.showBoard(c, "", fiber.StatusOK)
}

// showBoard renders a board, with the reason a move was refused.
func (u *UI) showBoard(c *fiber.Ctx, refused string, status int) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	d := boardData{Object: obj, Label: pluralTitle(obj, r.lang), Fields: boardFields(s, r.lang), Error: refused}
	if len(d.Fields) == 0 {
		return u.fail(c, fmt.Errorf("%w: %s has no picklist to arrange a board by", engine.ErrNotFound, obj.Name))
	}
	d.Field = d.Fields[0].Name
	for _, f := range d.Fields {
		if f.Name == c.Query("field", c.FormValue("field")) {
			d.Field = f.Name
		}
	}
	d.CanMove = s.Can(metadata.ActionUpdate) == nil && s.Editable(d.Field)
	f, _ := obj.Field(d.Field)
	lay := u.layoutFor(r, obj)
	var lines []string
	for _, name := range lay.ListColumns {
		if name != d.Field && s.Readable(name) && (obj.NamingField() == nil || name != obj.NamingField().Name) && len(lines) < 2 {
			lines = append(lines, name)
		}
	}
	moves := boardMoves{u: u, r: r, object: obj.Name, field: d.Field, governed: u.wf != nil}
	if d.CanMove {
		us, err := r.scope(obj.Name, metadata.ActionUpdate)
		if err != nil {
			return u.fail(c, err)
		}
		if moves.editable, err = us.Predicate(r.ctx, metadata.ActionUpdate); err != nil {
			return u.fail(c, err)
		}
	}
	for _, o := range f.Options {
		col := boardColumn{Value: o.Value, Label: o.Label.Get(r.lang)}
		if col.Label == "" {
			col.Label = o.Value
		}
		d.Columns = append(d.Columns, col)
	}
	for i := range d.Columns {
		col := &d.Columns[i]
		filter := d.Field + " == " + strconv.Quote(col.Value)
		res, err := u.eng.List(r.ctx, obj.Name, engine.ListOptions{Filter: filter, Sort: "-updated_at", Limit: boardCards, Total: true})
		if err != nil {
			return u.fail(c, err)
		}
		editable := map[string]bool{}
		if d.CanMove { // the cards of the column the user may change
			mine, err := u.eng.List(r.ctx, obj.Name, engine.ListOptions{Filter: filter, Sort: "-updated_at", Limit: boardCards, Where: moves.editable})
			if err != nil {
				return u.fail(c, err)
			}
			for _, rec := range mine.Items {
				id, _ := rec[idField].(string)
				editable[id] = true
			}
		}
		t, err := r.enrich(s, res.Items, lines)
		if err != nil {
			return u.fail(c, err)
		}
		for _, rec := range res.Items {
			id, _ := rec[idField].(string)
			card := boardCard{ID: id, Title: titleOf(obj, rec), Href: "/ui/o/" + obj.Name + "/" + id, Version: scalarString(rec["version"]), Movable: editable[id]}
			for _, name := range lines {
				if cl := r.display(obj, name, rec, t); cl.Text != "" {
					card.Lines = append(card.Lines, cl.Text)
				}
			}
			if card.Movable {
				if err := moves.fill(&card, d.Columns, col.Value); err != nil {
					return u.fail(c, err)
				}
			}
			col.Cards = append(col.Cards, card)
		}
		if res.Total != nil {
			col.Count, col.Capped = *res.Total, res.TotalCapped
		}
	}
	p := u.newPage(c, tr(r.lang, "board_of", d.Label))
	p.Section, p.Data = obj.Name, d
	return u.render(c, status, "board", p)
}

// boardMoves works out where the cards of a board may move: the user's
// update rights on each record (editable, the update predicate), then,
// when a state workflow governs the board's field, the transitions the
// user may make now from the card's value (Workflows.Transitions: the
// workflow's transitions, their conditions and roles).
type boardMoves struct {
	u             *UI
	r             *rq
	object, field string
	editable      query.Predicate
	// governed is false once a card showed that no state workflow
	// governs the field (every value is open then).
	governed bool
}

// fill sets the targets of a card the user may change, in column from.
func (m *boardMoves) fill(card *boardCard, cols []boardColumn, from string) error {
	var next map[string]bool
	if m.governed {
		states, err := m.u.wf.Transitions(m.r.ctx, m.object, card.ID)
		if err != nil {
			return err
		}
		m.governed = false
		for _, st := range states {
			if st.Field == m.field {
				m.governed, next = true, map[string]bool{}
				for _, ch := range st.Next {
					next[ch.Value] = true
				}
			}
		}
	}
	allowed := []string{}
	for _, c := range cols {
		t := boardTarget{Value: c.Value, Label: c.Label, Current: c.Value == from}
		t.Allowed = !t.Current && (next == nil || next[c.Value])
		if t.Allowed {
			allowed = append(allowed, c.Value)
		}
		card.Targets = append(card.Targets, t)
	}
	raw, err := json.Marshal(allowed)
	if err != nil {
		return err
	}
	card.Allowed, card.Stuck = string(raw), len(allowed) == 0
	return nil
}

// moveCard answers POST /ui/board/{object}/{id}: engine.Update of the
// board's field with the version the card was shown at. A refused move
// (a transition the state workflow or the user's rights do not allow, a
// validation rule, a record changed meanwhile) shows the board again with
// the reason.
func (u *UI) moveCard(c *fiber.Ctx) error {
	object, id, field := c.Params("object"), c.Params("id"), c.FormValue("field")
	v, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil || v < 1 {
		return u.fail(c, &engine.RequestError{Message: tr(lang(c), "no_version_card")})
	}
	_, err = u.eng.Update(c.UserContext(), object, id, map[string]any{field: c.FormValue("to"), "version": v})
	if err == nil {
		return c.Redirect("/ui/board/"+object+"?field="+url.QueryEscape(field)+"&flash=moved", fiber.StatusSeeOther)
	}
	status, _, details := api.Classify(err)
	if status >= 500 || status == fiber.StatusNotFound {
		return u.fail(c, err)
	}
	l := lang(c)
	msg := tr(l, "move_refused")
	switch {
	case errors.Is(err, engine.ErrConflict):
		msg += " " + tr(l, "move_conflict")
	case errors.Is(err, engine.ErrForbidden):
		msg += " " + tr(l, "move_forbidden")
	}
	for _, d := range details {
		msg += " " + d.Message
	}
	if len(details) == 0 && !errors.Is(err, engine.ErrConflict) {
		msg += " " + cleanMessage(err.Error())
	}
	return u.showBoard(c, msg, status)
}

// calendarData is the content of a calendar: the records of an object
// placed by a date or date-time field, by month, week or day.
type calendarData struct {
	Object            *metadata.Object
	Label             string
	Field             string
	Fields            []fieldChoice
	View              string
	Title             string
	Prev, Next, Today string
	Weeks             [][]calendarDay
	Days              []calendarDay
	WeekdayNames      []string
	More              bool
}

// calendarDay is one day with its records.
type calendarDay struct {
	Date    string
	Day     int
	Other   bool
	IsToday bool
	Items   []calendarItem
}

// calendarItem is one record on a day.
type calendarItem struct {
	Time, Title, Href string
}

// calendarLimit bounds the records one calendar page reads.
const calendarLimit = 500

// calendarPage answers GET /ui/calendar/{object}?view=month|week|day&date=
// &field=: the records the user may read whose date field falls in the
// period (engine.List with a range filter), in the user's time zone.
func (u *UI) calendarPage(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	d := calendarData{Object: obj, Label: pluralTitle(obj, r.lang), View: c.Query("view", "month")}
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Kind().Temporal() && s.Readable(f.Name) {
			d.Fields = append(d.Fields, fieldChoice{Name: f.Name, Label: f.Title(r.lang)})
		}
	}
	if len(d.Fields) == 0 {
		return u.fail(c, fmt.Errorf("%w: %s has no date to arrange a calendar by", engine.ErrNotFound, obj.Name))
	}
	d.Field = d.Fields[0].Name
	for _, f := range d.Fields {
		if f.Name == c.Query("field") {
			d.Field = f.Name
		}
	}
	f, _ := obj.Field(d.Field)
	datetime := metadata.TypeOf(f).Kind() == metadata.KindDateTime
	now := u.eng.Now().In(r.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, r.loc)
	day := today
	if q := c.Query("date"); q != "" {
		t, err := time.ParseInLocation(metadata.DateLayout, q, r.loc)
		if err != nil {
			return u.fail(c, &engine.RequestError{Message: "date must be YYYY-MM-DD", Details: []engine.FieldError{{Field: "date", Code: "invalid", Message: q}}})
		}
		day = t
	}
	var start, end, prev, next time.Time
	switch d.View {
	case "day":
		start, end, prev, next = day, day.AddDate(0, 0, 1), day.AddDate(0, 0, -1), day.AddDate(0, 0, 1)
		d.Title = day.Format("2006-01-02")
	case "week":
		start = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
		end, prev, next = start.AddDate(0, 0, 7), start.AddDate(0, 0, -7), start.AddDate(0, 0, 7)
		d.Title = start.Format("2006-01-02") + " – " + end.AddDate(0, 0, -1).Format("2006-01-02")
	default:
		d.View = "month"
		first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, r.loc)
		start = first.AddDate(0, 0, -((int(first.Weekday()) + 6) % 7))
		last := first.AddDate(0, 1, 0)
		end = last.AddDate(0, 0, (7-(int(last.Weekday())+6)%7)%7)
		prev, next = first.AddDate(0, -1, 0), first.AddDate(0, 1, 0)
		d.Title = first.Format("2006-01")
	}
	link := func(t time.Time) string {
		return "/ui/calendar/" + obj.Name + "?" + url.Values{"view": {d.View}, "field": {d.Field}, "date": {t.Format(metadata.DateLayout)}}.Encode()
	}
	d.Prev, d.Next, d.Today = link(prev), link(next), link(today)
	lo, hi := strconv.Quote(start.Format(metadata.DateLayout)), strconv.Quote(end.Format(metadata.DateLayout))
	if datetime {
		lo, hi = strconv.Quote(start.UTC().Format(time.RFC3339)), strconv.Quote(end.UTC().Format(time.RFC3339))
	}
	res, err := u.eng.List(r.ctx, obj.Name, engine.ListOptions{Filter: d.Field + " >= " + lo + " && " + d.Field + " < " + hi, Sort: d.Field, Limit: calendarLimit})
	if err != nil {
		return u.fail(c, err)
	}
	d.More = res.NextCursor != ""
	items := map[string][]calendarItem{}
	for _, rec := range res.Items {
		id, _ := rec[idField].(string)
		it := calendarItem{Title: titleOf(obj, rec), Href: "/ui/o/" + obj.Name + "/" + id}
		key := scalarString(rec[d.Field])
		if datetime {
			if t, err := time.Parse(time.RFC3339Nano, key); err == nil {
				key, it.Time = t.In(r.loc).Format(metadata.DateLayout), t.In(r.loc).Format("15:04")
			}
		}
		items[key] = append(items[key], it)
	}
	for t := start; t.Before(end); t = t.AddDate(0, 0, 1) {
		key := t.Format(metadata.DateLayout)
		cd := calendarDay{Date: key, Day: t.Day(), IsToday: t.Equal(today), Items: items[key], Other: d.View == "month" && t.Month() != day.Month()}
		d.Days = append(d.Days, cd)
	}
	if d.View == "month" {
		for i := 0; i < len(d.Days); i += 7 {
			d.Weeks = append(d.Weeks, d.Days[i:min(i+7, len(d.Days))])
		}
	}
	for i := range 7 {
		d.WeekdayNames = append(d.WeekdayNames, tr(r.lang, "weekday_"+strconv.Itoa(i)))
	}
	p := u.newPage(c, tr(r.lang, "calendar_of", d.Label))
	p.Section, p.Data = obj.Name, d
	return u.render(c, fiber.StatusOK, "calendar", p)
}
