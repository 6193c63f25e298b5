// Package definition holds the workflow document kinds as metadata: state
// workflows (state_workflows), approval processes (approvals),
// automations (automations) and reminders (reminders). For each it
// registers the Go type, the JSON Schema, the semantic checks (objects,
// fields, options, roles, and every formula compiled and type-checked with
// package formulas) and the compiled form the engine keeps with each
// metadata version (engine.Snapshot.Compiled(kind)).
//
// It imports only metadata and formulas, so that every program loading a
// template (defaults, crm validate, the engine's tests) knows these kinds
// without the runtime. The runtime lives in package workflows (approvals,
// transitions, automations) and workflows/reminders (scheduler and
// channels); this package must not touch a database or the engine.
package definition
