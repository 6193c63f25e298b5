package definition

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// StateWorkflow lists the allowed changes of a picklist field (a status,
// a stage): any other change of the field is refused.
type StateWorkflow struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	Object      string         `json:"object"`
	Field       string         `json:"field"`
	Transitions []Transition   `json:"transitions"`
}

// Transition allows a change of the field from one of From ("*" for any
// value) to To, for users holding one of Roles (with the roles below them
// in the hierarchy; anyone when empty) when Condition holds on the record
// as it would be after the change.
type Transition struct {
	From      Values         `json:"from"`
	To        string         `json:"to"`
	Roles     []string       `json:"roles,omitempty"`
	Condition string         `json:"condition,omitempty"`
	Label     metadata.Label `json:"label,omitempty"`
}

// AnyState in a transition's from matches every value.
const AnyState = "*"

// StateWorkflows reads the state workflows of a schema.
var StateWorkflows metadata.Docs[StateWorkflow]

// stateSchema is the JSON Schema of a state workflow.
var stateSchema = kindSchema([]string{"name", "object", "field", "transitions"}, `
    "name": {"$ref": "#/$defs/identifier"},
    "label": {"$ref": "#/$defs/label"},
    "description": {"type": "string", "maxLength": 2000},
    "object": {"$ref": "#/$defs/identifier"},
    "field": {"$ref": "#/$defs/identifier"},
    "transitions": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["from", "to"],
        "properties": {
          "from": {"$ref": "#/$defs/values"},
          "to": {"type": "string", "minLength": 1},
          "roles": {"type": "array", "items": {"$ref": "#/$defs/identifier"}},
          "condition": {"$ref": "#/$defs/formula"},
          "label": {"$ref": "#/$defs/label"}
        }
      }
    }`, "")

func init() {
	StateWorkflows = metadata.RegisterKind(metadata.KindSpec[StateWorkflow]{
		Name:    "state_workflows",
		Schema:  stateSchema,
		Public:  true,
		Check:   checkState,
		Compile: compileStates,
	})
}

// checkState checks one state workflow against the schema.
func checkState(s *metadata.Schema, sw *StateWorkflow) metadata.Problems {
	var ps metadata.Problems
	obj, ok := s.Object(sw.Object)
	if !ok {
		return metadata.Problems{metadata.Problemf("/object", "no object %q", sw.Object)}
	}
	f, ok := obj.Field(sw.Field)
	if !ok {
		return metadata.Problems{metadata.Problemf("/field", "%s has no field %q", sw.Object, sw.Field)}
	}
	if _, known := metadata.LookupFieldType(f.Type); !known || !metadata.SingleOption(f) {
		return metadata.Problems{metadata.Problemf("/field", "%s.%s is not a picklist: transitions are between the options of one picklist", sw.Object, sw.Field)}
	}
	for _, other := range StateWorkflows.All(s) {
		if other.Name < sw.Name && other.Object == sw.Object && other.Field == sw.Field {
			ps = append(ps, metadata.Problemf("/field", "state workflow %q already governs %s.%s", other.Name, sw.Object, sw.Field))
		}
	}
	for i, t := range sw.Transitions {
		at := fmt.Sprintf("/transitions/%d", i)
		ps = append(ps, optionsOf(f, t.From, AnyState, at+"/from")...)
		ps = append(ps, optionsOf(f, []string{t.To}, "", at+"/to")...)
		if slices.Contains(t.From, t.To) {
			ps = append(ps, metadata.Problemf(at+"/to", "a transition from %q to itself changes nothing", t.To))
		}
		for j, r := range t.Roles {
			if !hasRole(s, r) {
				ps = append(ps, metadata.Problemf(fmt.Sprintf("%s/roles/%d", at, j), "no role %q", r))
			}
		}
		_, cps := condition(s, sw.Object, t.Condition, at+"/condition")
		ps = append(ps, cps...)
	}
	return ps
}

// States is the compiled form of the state workflows of a metadata
// version.
type States struct {
	byObject map[string][]*StateFlow
}

// StateFlow is one compiled state workflow.
type StateFlow struct {
	*StateWorkflow
	// FieldDef is the picklist.
	FieldDef    *metadata.Field
	Transitions []*CompiledTransition
}

// CompiledTransition is a transition with its condition compiled.
type CompiledTransition struct {
	*Transition
	// Cond is the compiled condition, nil when there is none.
	Cond *formulas.Expr
}

// Matches reports whether the transition leads from from to to.
func (t *CompiledTransition) Matches(from, to string) bool {
	return t.To == to && (slices.Contains(t.From, from) || slices.Contains(t.From, AnyState))
}

// Of returns the state workflows of object.
func (s *States) Of(object string) []*StateFlow {
	if s == nil {
		return nil
	}
	return s.byObject[object]
}

// compileStates compiles every state workflow of s.
func compileStates(s *metadata.Schema) (any, metadata.Problems) {
	out := &States{byObject: map[string][]*StateFlow{}}
	ps := StateWorkflows.Each(s, func(sw *StateWorkflow) metadata.Problems {
		obj, _ := s.Object(sw.Object)
		f, _ := obj.Field(sw.Field)
		flow := &StateFlow{StateWorkflow: sw, FieldDef: f}
		var ps metadata.Problems
		for i := range sw.Transitions {
			t := &sw.Transitions[i]
			x, cps := condition(s, sw.Object, t.Condition, fmt.Sprintf("/transitions/%d/condition", i))
			ps = append(ps, cps...)
			flow.Transitions = append(flow.Transitions, &CompiledTransition{Transition: t, Cond: x})
		}
		out.byObject[sw.Object] = append(out.byObject[sw.Object], flow)
		return ps
	})
	return out, ps
}

// CompiledStates returns the compiled state workflows of a metadata
// snapshot (engine.Snapshot), nil when it has none.
func CompiledStates(snap interface{ Compiled(string) any }) *States {
	s, _ := snap.Compiled(StateWorkflows.Kind().Name()).(*States)
	return s
}
