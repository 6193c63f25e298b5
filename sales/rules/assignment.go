package rules

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// KindAssignmentRules names the document kind of assignment rules.
const KindAssignmentRules = "assignment_rules"

// AssignmentRule is one document of assignment_rules: who gets a new
// record of an object that arrives without an owner. The first entry
// whose condition holds (and which names an active user) wins.
type AssignmentRule struct {
	Name    string            `json:"name"`
	Label   metadata.Label    `json:"label,omitempty"`
	Object  string            `json:"object"`
	Entries []AssignmentEntry `json:"entries"`
}

// AssignmentEntry is one entry of an assignment rule.
type AssignmentEntry struct {
	// When is a condition over the new record's own fields; empty for
	// every record.
	When   string `json:"when,omitempty"`
	Assign Assign `json:"assign"`
}

// Assign says who gets the record: exactly one of its fields is set.
type Assign struct {
	// User is a username.
	User string `json:"user,omitempty"`
	// RoundRobin deals records in turn to the active users holding a role
	// (a string) or to a list of usernames.
	RoundRobin *RoundRobin `json:"round_robin,omitempty"`
	// Queue deals records in turn to the active users of a department.
	Queue string `json:"queue,omitempty"`
}

// RoundRobin is a role name or a list of usernames.
type RoundRobin struct {
	Role  string
	Users []string
}

// UnmarshalJSON reads a role name or a list of usernames.
func (r *RoundRobin) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.Role); err == nil {
		return nil
	}
	return json.Unmarshal(b, &r.Users)
}

// MarshalJSON writes the role name or the list.
func (r RoundRobin) MarshalJSON() ([]byte, error) {
	if r.Role != "" {
		return json.Marshal(r.Role)
	}
	return json.Marshal(r.Users)
}

//go:embed schemas/assignment_rule.json
var assignmentSchema []byte

// AssignmentRules reads the assignment rules of a schema.
var AssignmentRules metadata.Docs[AssignmentRule]

func init() {
	AssignmentRules = metadata.RegisterKind(metadata.KindSpec[AssignmentRule]{
		Name:    KindAssignmentRules,
		Schema:  assignmentSchema,
		Check:   checkAssignmentRule,
		Compile: compileAssignmentRules,
	})
}

// checkAssignmentRule checks the object, one rule per object and every
// condition (compiled and type-checked). Users and roles are data, named
// by the entries and looked up when a record is assigned: an entry whose
// users are unknown or inactive assigns nothing.
func checkAssignmentRule(s *metadata.Schema, r *AssignmentRule) metadata.Problems {
	if _, ok := s.Object(r.Object); !ok {
		return metadata.Problems{{Path: "/object", Message: "unknown object " + r.Object}}
	}
	var ps metadata.Problems
	for _, other := range AssignmentRules.All(s) {
		if other.Object == r.Object && other.Name < r.Name {
			ps = append(ps, metadata.Problem{Path: "/object", Message: fmt.Sprintf("assignment rule %s already assigns %s records: one rule per object", other.Name, r.Object)})
		}
	}
	for i, e := range r.Entries {
		if e.When != "" {
			if _, err := formulas.CompileCondition(s, r.Object, e.When); err != nil {
				ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/entries/%d/when", i), Message: err.Error()})
			}
		}
	}
	return ps
}

// Assignments is the compiled form of a schema's assignment rules
// (Snapshot.Compiled(KindAssignmentRules)), by object.
type Assignments map[string]*CompiledAssignment

// CompiledAssignment is an assignment rule with its conditions compiled.
type CompiledAssignment struct {
	*AssignmentRule
	// When holds the compiled condition of each entry (nil: always).
	When []*formulas.Expr
}

// compileAssignmentRules compiles every condition.
func compileAssignmentRules(s *metadata.Schema) (any, metadata.Problems) {
	out := Assignments{}
	var ps metadata.Problems
	for _, r := range AssignmentRules.All(s) {
		c := &CompiledAssignment{AssignmentRule: r, When: make([]*formulas.Expr, len(r.Entries))}
		for i, e := range r.Entries {
			if e.When == "" {
				continue
			}
			x, err := formulas.CompileCondition(s, r.Object, e.When)
			if err != nil {
				ps = append(ps, metadata.Problem{File: s.Source(KindAssignmentRules, r.Name), Path: fmt.Sprintf("/entries/%d/when", i), Message: err.Error()})
				continue
			}
			c.When[i] = x
		}
		out[r.Object] = c
	}
	return out, ps
}

// Assignment returns the compiled assignment rule of object, or nil.
func Assignment(compiled any, object string) *CompiledAssignment {
	set, _ := compiled.(Assignments)
	return set[object]
}
