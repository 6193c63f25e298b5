// Package workflows runs the workflow metadata of package
// workflows/definition on the engine: state transitions of picklist
// fields, approval processes and automations. It attaches through the
// engine's extension points only (hooks on writes, named actions, domain
// events, document kinds) and mounts its routes through an api.Registrar;
// the engine never imports it. Every write it makes goes through the
// engine's unit of work, as the user or as the system on the user's
// behalf (Writer.AsSystem), never reaching records the user could not.
//
// Reminders and the channels that send notifications live in
// workflows/reminders.
package workflows
