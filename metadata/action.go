package metadata

import (
	"fmt"
	"slices"
	"sync"
)

// actions is the registry of the actions roles can be granted on objects.
var actions = struct {
	sync.RWMutex
	names []string
}{names: []string{ActionCreate, ActionRead, ActionUpdate, ActionDelete,
	ActionTransfer, ActionConvert, ActionSubmit, ActionApprove, ActionImport, ActionExport}}

// RegisterAction adds an action that role metadata may grant on objects
// (`actions: [read, send_mailing]`), beside the record operations and the
// named actions the platform defines. Call it from an init function of the
// package that implements the action; it panics on a duplicate or an
// invalid name, as database/sql.Register does.
func RegisterAction(name string) {
	if err := ValidIdentifier(name); err != nil {
		panic(fmt.Sprintf("metadata: action %q: %v", name, err))
	}
	actions.Lock()
	defer actions.Unlock()
	if slices.Contains(actions.names, name) {
		panic("metadata: action registered twice: " + name)
	}
	actions.names = append(actions.names, name)
}

// IsAction reports whether name is an action roles can be granted.
func IsAction(name string) bool {
	actions.RLock()
	defer actions.RUnlock()
	return slices.Contains(actions.names, name)
}

// Actions lists the actions roles can be granted: the record operations
// first, then the named actions in the order they were registered.
func Actions() []string {
	actions.RLock()
	defer actions.RUnlock()
	return slices.Clone(actions.names)
}

// IsRecordOperation reports whether action is one of create, read, update
// and delete, the actions sharing and field rights apply to.
func IsRecordOperation(action string) bool {
	switch action {
	case ActionCreate, ActionRead, ActionUpdate, ActionDelete:
		return true
	}
	return false
}
