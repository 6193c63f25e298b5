package definition

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Reminder tells people about records of Object at a time: a date or
// datetime field with an offset, each year on a date (a birthday), or
// when a formula becomes true; under a condition; through channels.
type Reminder struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	Object      string         `json:"object"`
	When        When           `json:"when"`
	// Condition must hold when the reminder is planned and when it is
	// due; otherwise it is cancelled.
	Condition string `json:"condition,omitempty"`
	// Recipients: owner, manager (the owner's manager),
	// manager_of_manager, {user}, {role}, {field}. Only those who may read
	// the record receive it.
	Recipients []Party `json:"recipients"`
	// Channels are in_app, email and sms.
	Channels []string `json:"channels"`
	// Subject and Message have {{field}} placeholders; each recipient gets
	// them in their language with only the fields they may read.
	Subject metadata.Label `json:"subject,omitempty"`
	Message metadata.Label `json:"message"`
}

// When says when a reminder is due: exactly one of Field (a date or
// datetime field, with Offset), Yearly (a date field whose month and day
// come back each year, with Offset) and Formula (due when it becomes
// true). At is the time of day of a date ("09:00" when absent), in the
// server's time zone.
type When struct {
	Field   string `json:"field,omitempty"`
	Yearly  string `json:"yearly,omitempty"`
	Formula string `json:"formula,omitempty"`
	// Offset is 0 or a signed number of minutes, hours, days or weeks:
	// -3d, +1h, 30m, -1w.
	Offset string `json:"offset,omitempty"`
	At     string `json:"at,omitempty"`
}

// Reminders reads the reminders of a schema.
var Reminders metadata.Docs[Reminder]

// reminderSchema is the JSON Schema of a reminder.
var reminderSchema = kindSchema([]string{"name", "object", "when", "recipients", "channels", "message"}, `
    "name": {"$ref": "#/$defs/identifier"},
    "label": {"$ref": "#/$defs/label"},
    "description": {"type": "string", "maxLength": 2000},
    "object": {"$ref": "#/$defs/identifier"},
    "when": {
      "type": "object",
      "additionalProperties": false,
      "minProperties": 1,
      "properties": {
        "field": {"$ref": "#/$defs/identifier"},
        "yearly": {"$ref": "#/$defs/identifier"},
        "formula": {"$ref": "#/$defs/formula"},
        "offset": {"type": "string", "pattern": "^(0|[+-]?[0-9]{1,4}[mhdw])$"},
        "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
      }
    },
    "condition": {"$ref": "#/$defs/formula"},
    "recipients": {"$ref": "#/$defs/parties"},
    "channels": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["in_app", "email", "sms"]}},
    "subject": {"$ref": "#/$defs/label"},
    "message": {"$ref": "#/$defs/label"}`, "")

func init() {
	Reminders = metadata.RegisterKind(metadata.KindSpec[Reminder]{
		Name:   "reminders",
		Schema: reminderSchema,
		Check: func(s *metadata.Schema, r *Reminder) metadata.Problems {
			_, ps := buildReminder(s, r)
			return ps
		},
		Compile: compileReminders,
	})
}

// CompiledReminder is a reminder compiled against one metadata version.
type CompiledReminder struct {
	*Reminder
	// DateField is the field of When.Field or When.Yearly.
	DateField *metadata.Field
	Yearly    bool
	// FormulaExpr is When.Formula compiled; CondExpr the condition.
	FormulaExpr *formulas.Expr
	CondExpr    *formulas.Expr
	// CondWhenDue says the condition reads what can change without a
	// write of the record itself (a record reached through a lookup, a
	// computed field a roll-up keeps, the clock): planning cannot follow
	// those changes, so the reminder is planned whatever the condition
	// gives and the condition is judged when it is due.
	CondWhenDue bool
	Subject     *Message
	Body        *Message
	offsetN     int
	offsetUnit  byte
	hour, min   int
}

// offsetPattern splits an offset.
var offsetPattern = regexp.MustCompile(`^([+-]?[0-9]+)([mhdw])$`)

// buildReminder checks a reminder against s and compiles it.
func buildReminder(s *metadata.Schema, r *Reminder) (*CompiledReminder, metadata.Problems) {
	obj, ok := s.Object(r.Object)
	if !ok {
		return nil, metadata.Problems{metadata.Problemf("/object", "no object %q", r.Object)}
	}
	var ps metadata.Problems
	c := &CompiledReminder{Reminder: r, hour: 9}
	w := r.When
	set := 0
	for _, v := range []string{w.Field, w.Yearly, w.Formula} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		ps = append(ps, metadata.Problemf("/when", "give exactly one of field, yearly and formula"))
	}
	if name := w.Field + w.Yearly; set == 1 && name != "" {
		at := "/when/field"
		if w.Yearly != "" {
			at, c.Yearly = "/when/yearly", true
		}
		f, ok := obj.FieldOrSystem(name)
		kind := metadata.Kind(-1)
		if ok {
			if _, known := metadata.LookupFieldType(f.Type); known {
				kind = metadata.TypeOf(f).Kind()
			}
		}
		switch {
		case !ok:
			ps = append(ps, metadata.Problemf(at, "%s has no field %q", r.Object, name))
		case kind != metadata.KindDate && kind != metadata.KindDateTime:
			ps = append(ps, metadata.Problemf(at, "%s.%s is not a date or a datetime", r.Object, name))
		default:
			c.DateField = f
		}
	}
	if w.Formula != "" && (w.Offset != "" || w.At != "") {
		ps = append(ps, metadata.Problemf("/when/offset", "a reminder due when a formula becomes true has no offset or time of day"))
	}
	if m := offsetPattern.FindStringSubmatch(w.Offset); m != nil {
		c.offsetN, _ = strconv.Atoi(m[1])
		c.offsetUnit = m[2][0]
	}
	if w.At != "" {
		fmt.Sscanf(w.At, "%d:%d", &c.hour, &c.min)
	}
	var cps []metadata.Problem
	c.FormulaExpr, cps = condition(s, r.Object, w.Formula, "/when/formula")
	ps = append(ps, cps...)
	c.CondExpr, cps = condition(s, r.Object, r.Condition, "/condition")
	ps = append(ps, cps...)
	c.CondWhenDue = c.CondExpr != nil && !followsWrites(obj, c.CondExpr)
	ps = append(ps, checkParties(s, r.Object, r.Recipients, false, "/recipients")...)
	c.Subject, cps = parseMessage(obj, r.Subject, "/subject")
	ps = append(ps, cps...)
	c.Body, cps = parseMessage(obj, r.Message, "/message")
	ps = append(ps, cps...)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// Due returns when the reminder is next due for rec (storage form) at now,
// in the calendar of loc: due is the time the reminder is about (the date
// field's time with the offset, a date at At; yearly, the next
// anniversary on or after now), fire when to send it: due, or now when
// due has passed while the date itself is still ahead (a deal closing in
// two days gets its three-day reminder at once). It is false when the
// field is empty, the time has passed, or the reminder is due on a
// formula.
func (c *CompiledReminder) Due(rec map[string]any, now time.Time, loc *time.Location) (due, fire time.Time, ok bool) {
	if c.DateField == nil {
		return time.Time{}, time.Time{}, false
	}
	anchor, ok := c.anchor(rec[c.DateField.Name], loc)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	if c.Yearly {
		for year := now.In(loc).Year() - 1; year <= now.In(loc).Year()+1; year++ {
			if due := c.shift(anniversary(anchor, year, loc)); !due.Before(now) {
				return due.UTC(), due.UTC(), true
			}
		}
		return time.Time{}, time.Time{}, false
	}
	due = c.shift(anchor).UTC()
	switch {
	case !due.Before(now):
		return due, due, true
	case !anchor.Before(now):
		return due, now.UTC(), true
	}
	return time.Time{}, time.Time{}, false
}

// anchor reads the date or datetime a reminder is about.
func (c *CompiledReminder) anchor(v any, loc *time.Location) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return time.Time{}, false
		}
		if metadata.TypeOf(c.DateField).Kind() == metadata.KindDate {
			return time.Date(x.Year(), x.Month(), x.Day(), c.hour, c.min, 0, 0, loc), true
		}
		return x, true
	case string:
		d, err := time.Parse(metadata.DateLayout, x)
		if err != nil {
			t, err := time.Parse(metadata.DateTimeLayout, x)
			return t, err == nil
		}
		return time.Date(d.Year(), d.Month(), d.Day(), c.hour, c.min, 0, 0, loc), true
	}
	return time.Time{}, false
}

// anniversary is the day of t's month and day in year, at t's time of day
// (February 29 is February 28 in other years).
func anniversary(t time.Time, year int, loc *time.Location) time.Time {
	t = t.In(loc)
	d := time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc)
	if d.Month() != t.Month() {
		d = time.Date(year, t.Month()+1, 0, t.Hour(), t.Minute(), 0, 0, loc)
	}
	return d
}

// shift applies the offset: minutes and hours as durations, days and
// weeks on the calendar.
func (c *CompiledReminder) shift(t time.Time) time.Time {
	switch c.offsetUnit {
	case 'm':
		return t.Add(time.Duration(c.offsetN) * time.Minute)
	case 'h':
		return t.Add(time.Duration(c.offsetN) * time.Hour)
	case 'd':
		return t.AddDate(0, 0, c.offsetN)
	case 'w':
		return t.AddDate(0, 0, 7*c.offsetN)
	}
	return t
}

// ReminderSet is the compiled form of the reminders of a metadata
// version.
type ReminderSet = Set[*CompiledReminder]

// compileReminders compiles every reminder of s.
func compileReminders(s *metadata.Schema) (any, metadata.Problems) {
	return compileSet(s, Reminders, func(r *Reminder) (string, string) { return r.Name, r.Object }, buildReminder, nil)
}

// CompiledReminders returns the compiled reminders of a metadata snapshot
// (engine.Snapshot), nil when it has none.
func CompiledReminders(snap interface{ Compiled(string) any }) *ReminderSet {
	r, _ := snap.Compiled(Reminders.Kind().Name()).(*ReminderSet)
	return r
}

// followsWrites reports whether what x gives for a record of obj changes
// only with a write of the record: it reads no lookup path, roll-up,
// computed field (propagation recomputes those without the record's
// write) or clock.
func followsWrites(obj *metadata.Object, x *formulas.Expr) bool {
	if !x.Local() || x.ReadsClock() {
		return false
	}
	for _, name := range x.Reads() {
		if f, ok := obj.Field(name); ok && metadata.Computed(f) {
			return false
		}
	}
	return true
}
