package engine

import (
	"github.com/crmplatform/crm/metadata"
)

// ObjectView is an object as one principal may see it: only the fields it
// may read, each with its access ("read" or "edit"), validation rules
// without their conditions (which may name hidden fields), and the
// actions it may take on the object. Generated forms are built from it.
type ObjectView struct {
	metadata.Object
	Fields          []FieldView `json:"fields"`
	ValidationRules []RuleView  `json:"validation_rules,omitempty"`
	// Actions lists the record operations and named actions the principal
	// may take on the object, in metadata.Actions order.
	Actions []string `json:"actions"`
}

// FieldView is a field with the principal's access to it.
type FieldView struct {
	*metadata.Field
	// Access is "read" or "edit".
	Access string `json:"access"`
}

// RuleView is a validation rule as users see it: its message and field.
type RuleView struct {
	Name    string         `json:"name"`
	Message metadata.Label `json:"message"`
	Field   string         `json:"field,omitempty"`
}

// Field access of a FieldView.
const (
	AccessRead = "read"
	AccessEdit = "edit"
)

// Describe returns the object as the principal of the scope may see it.
func (s *Scope) Describe() *ObjectView {
	v := &ObjectView{Object: *s.obj, Fields: []FieldView{}, Actions: []string{}}
	v.Object.Fields, v.Object.ValidationRules = nil, nil
	for _, f := range s.obj.Fields {
		switch s.Level(f.Name) {
		case metadata.FieldEditable:
			v.Fields = append(v.Fields, FieldView{Field: f, Access: AccessEdit})
		case metadata.FieldReadOnly:
			v.Fields = append(v.Fields, FieldView{Field: f, Access: AccessRead})
		}
	}
	for _, r := range s.obj.ValidationRules {
		if r.Field == "" || s.Readable(r.Field) {
			v.ValidationRules = append(v.ValidationRules, RuleView{Name: r.Name, Message: r.Message, Field: r.Field})
		}
	}
	for _, a := range metadata.Actions() {
		if s.Can(a) == nil {
			v.Actions = append(v.Actions, a)
		}
	}
	return v
}
