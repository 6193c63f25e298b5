package metadata

// RecordScope is the set of records a role's rights on an object reach.
type RecordScope string

// Record-level access scopes of a role on an object.
const (
	ScopeOwn          RecordScope = "own"
	ScopeSubordinates RecordScope = "subordinates"
	ScopeTeam         RecordScope = "team"
	ScopeAll          RecordScope = "all"
)

// FieldLevel is what a role may do with a field: nothing, read it, or
// read and write it.
type FieldLevel string

// Field access levels of a role on a field.
const (
	FieldHidden   FieldLevel = "hidden"
	FieldReadOnly FieldLevel = "read_only"
	FieldEditable FieldLevel = "editable"
)

// Object actions a role may be granted: the four record operations and
// the named actions the platform defines. Extensions register more with
// RegisterAction.
const (
	ActionCreate = "create"
	ActionRead   = "read"
	ActionUpdate = "update"
	ActionDelete = "delete"
	// ActionTransfer changes a record's owner and manages its shares.
	ActionTransfer = "transfer"
	// ActionConvert converts a record into others (a lead into an
	// account, a contact and an opportunity).
	ActionConvert = "convert"
	// ActionSubmit submits a record for approval.
	ActionSubmit = "submit"
	// ActionApprove approves or rejects a record submitted for approval.
	ActionApprove = "approve"
	// ActionImport imports records from a file.
	ActionImport = "import"
	// ActionExport exports records to a file.
	ActionExport = "export"
)

// Role is a named set of rights. Parent is the role above it in the role
// hierarchy.
type Role struct {
	Name         string             `json:"name"`
	Label        Label              `json:"label,omitempty"`
	Parent       string             `json:"parent,omitempty"`
	Description  string             `json:"description,omitempty"`
	Permissions  []ObjectPermission `json:"permissions,omitempty"`
	SharingRules []SharingRule      `json:"sharing_rules,omitempty"`
}

// ObjectPermission grants a role actions on an object ("*" for every
// object), the record scope those actions reach, and per-field access
// (fields not named are editable).
type ObjectPermission struct {
	Object  string                `json:"object"`
	Actions []string              `json:"actions"`
	Records RecordScope           `json:"records,omitempty"`
	Fields  map[string]FieldLevel `json:"fields,omitempty"`
}

// SharingRule grants a role read or edit access to the records of an
// object that match a condition (a filter expression).
type SharingRule struct {
	Name      string `json:"name"`
	Object    string `json:"object"`
	Condition string `json:"condition"`
	Access    string `json:"access"`
}
