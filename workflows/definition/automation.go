package definition

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Automation does something when records of Object are written: it sets
// fields of the record, creates a related record, or sends a
// notification, inside the unit of work of the write.
type Automation struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	Object      string         `json:"object"`
	// Order ranks the automations of one object: they run by order, then
	// name.
	Order int `json:"order,omitempty"`
	// On lists the writes that trigger it: create, update (both when
	// absent).
	On []string `json:"on,omitempty"`
	// Changed restricts it to writes that change one of these fields (on
	// create: that give one a value).
	Changed []string `json:"changed,omitempty"`
	// BecomesTrue restricts it to writes after which the formula is true
	// while it was not before (on create: true after).
	BecomesTrue string `json:"becomes_true,omitempty"`
	// Condition must hold on the record as written.
	Condition string             `json:"condition,omitempty"`
	Actions   []AutomationAction `json:"actions"`
}

// AutomationAction is one thing an automation does: exactly one of Set,
// Create and Notify.
type AutomationAction struct {
	// Set updates fields of the record that triggered the automation.
	Set []FieldUpdate `json:"set,omitempty"`
	// Create creates a record (a follow-up activity …).
	Create *CreateRecord `json:"create,omitempty"`
	// Notify sends a notification.
	Notify *Notification `json:"notify,omitempty"`
}

// CreateRecord creates a record of Object whose values are written as
// field updates; their formulas read the record that triggered the
// automation.
type CreateRecord struct {
	Object string        `json:"object"`
	Values []FieldUpdate `json:"values"`
}

// Notification is a message to people about a record, through channels.
type Notification struct {
	// Channels are in_app, email, sms (the recipients') and webhook (a
	// JSON POST to URL).
	Channels []string `json:"channels"`
	// To names the recipients (in_app, email, sms); only those who may
	// read the record receive it.
	To  []Party `json:"to,omitempty"`
	URL string  `json:"url,omitempty"`
	// Subject and Message are texts per language with {{field}}
	// placeholders; a recipient gets them in their language, with only
	// the fields they may read.
	Subject metadata.Label `json:"subject,omitempty"`
	Message metadata.Label `json:"message"`
}

// Triggers of an automation.
const (
	OnCreate = "create"
	OnUpdate = "update"
)

// Channels of notifications.
const (
	ChannelInApp   = "in_app"
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
	ChannelWebhook = "webhook"
)

// Automations reads the automations of a schema.
var Automations metadata.Docs[Automation]

// automationSchema is the JSON Schema of an automation.
var automationSchema = kindSchema([]string{"name", "object", "actions"}, `
    "name": {"$ref": "#/$defs/identifier"},
    "label": {"$ref": "#/$defs/label"},
    "description": {"type": "string", "maxLength": 2000},
    "object": {"$ref": "#/$defs/identifier"},
    "order": {"type": "integer", "minimum": 0, "maximum": 1000000},
    "on": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["create", "update"]}},
    "changed": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/identifier"}},
    "becomes_true": {"$ref": "#/$defs/formula"},
    "condition": {"$ref": "#/$defs/formula"},
    "actions": {
      "type": "array",
      "minItems": 1,
      "maxItems": 20,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
          "set": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/update"}},
          "create": {
            "type": "object",
            "additionalProperties": false,
            "required": ["object", "values"],
            "properties": {
              "object": {"$ref": "#/$defs/identifier"},
              "values": {"$ref": "#/$defs/updates"}
            }
          },
          "notify": {"$ref": "#/$defs/notification"}
        }
      }
    }`, `
    "notification": {
      "type": "object",
      "additionalProperties": false,
      "required": ["channels", "message"],
      "properties": {
        "channels": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["in_app", "email", "sms", "webhook"]}},
        "to": {"$ref": "#/$defs/parties"},
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "subject": {"$ref": "#/$defs/label"},
        "message": {"$ref": "#/$defs/label"}
      }
    }`)

func init() {
	Automations = metadata.RegisterKind(metadata.KindSpec[Automation]{
		Name:   "automations",
		Schema: automationSchema,
		Check: func(s *metadata.Schema, a *Automation) metadata.Problems {
			_, ps := buildAutomation(s, a)
			return ps
		},
		Compile: compileAutomations,
	})
}

// CompiledAutomation is an automation compiled against one metadata
// version.
type CompiledAutomation struct {
	*Automation
	BecomesTrueExpr *formulas.Expr
	ConditionExpr   *formulas.Expr
	Steps           []*CompiledAction
}

// CompiledAction is one compiled action: Set, or Create with its values,
// or Notify.
type CompiledAction struct {
	Set          []Assignment
	CreateObject string
	Values       []Assignment
	Notify       *CompiledNotification
}

// Runs reports whether the automation reacts to op (create or update).
func (a *CompiledAutomation) Runs(op string) bool { return len(a.On) == 0 || slices.Contains(a.On, op) }

// buildAutomation checks an automation against s and compiles it.
func buildAutomation(s *metadata.Schema, a *Automation) (*CompiledAutomation, metadata.Problems) {
	obj, ok := s.Object(a.Object)
	if !ok {
		return nil, metadata.Problems{metadata.Problemf("/object", "no object %q", a.Object)}
	}
	var ps metadata.Problems
	c := &CompiledAutomation{Automation: a}
	for i, f := range a.Changed {
		if _, ok := obj.FieldOrSystem(f); !ok {
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/changed/%d", i), "%s has no field %q", a.Object, f))
		}
	}
	var cps []metadata.Problem
	c.BecomesTrueExpr, cps = condition(s, a.Object, a.BecomesTrue, "/becomes_true")
	ps = append(ps, cps...)
	c.ConditionExpr, cps = condition(s, a.Object, a.Condition, "/condition")
	ps = append(ps, cps...)
	for i, act := range a.Actions {
		at := fmt.Sprintf("/actions/%d", i)
		ca := &CompiledAction{}
		switch {
		case act.Set != nil:
			ca.Set, cps = assignments(s, a.Object, a.Object, act.Set, at+"/set")
			ps = append(ps, cps...)
		case act.Create != nil:
			if _, ok := s.Object(act.Create.Object); !ok {
				ps = append(ps, metadata.Problemf(at+"/create/object", "no object %q", act.Create.Object))
				continue
			}
			ca.CreateObject = act.Create.Object
			ca.Values, cps = assignments(s, a.Object, act.Create.Object, act.Create.Values, at+"/create/values")
			ps = append(ps, cps...)
		case act.Notify != nil:
			ca.Notify, cps = buildNotification(s, a.Object, act.Notify, at+"/notify")
			ps = append(ps, cps...)
		}
		c.Steps = append(c.Steps, ca)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// AutomationSet is the compiled form of the automations of a metadata
// version: by object, in the order they run (order, then name).
type AutomationSet = Set[*CompiledAutomation]

// compileAutomations compiles every automation of s.
func compileAutomations(s *metadata.Schema) (any, metadata.Problems) {
	return compileSet(s, Automations, func(a *Automation) (string, string) { return a.Name, a.Object }, buildAutomation,
		func(a *CompiledAutomation) int { return a.Order })
}

// CompiledAutomations returns the compiled automations of a metadata
// snapshot (engine.Snapshot), nil when it has none.
func CompiledAutomations(snap interface{ Compiled(string) any }) *AutomationSet {
	a, _ := snap.Compiled(Automations.Kind().Name()).(*AutomationSet)
	return a
}
