// Package templates installs, upgrades, exports and compares templates
// (metadata packages: a folder with template.yaml and one folder per
// document kind, see docs/templates.md) on a running engine.
//
// Install applies a template to an empty database and, with sample data,
// loads the CSV files of its sample/ folder. Upgrade merges a newer
// version of the installed template into the current metadata, three ways:
// the template as it was installed (kept in crm_templates), the metadata as
// the administrators changed it, and the new template. What only the
// template changed is taken, what only the administrators changed is kept,
// and where both changed the same value the administrators' value is kept
// and the difference reported as a conflict. Export writes the current
// metadata as a template folder that installs to the same schema.
//
// It writes metadata only through engine.ApplySchema (one transaction with
// the new version, the crm_templates row written by a schema hook in that
// same transaction) and records only through the engine's unit of work.
package templates
