// Package rules defines the sales rules as metadata document kinds:
// duplicate_rules (which fields identify a duplicate record and how each
// is normalised), assignment_rules (who gets a new record), conversions
// (how a lead becomes an account, a contact and an opportunity) and
// web_forms (public forms that create leads). Each kind has a JSON Schema,
// semantic checks run at definition time (crm validate, /api/meta/{kind},
// the engine) and a compiler whose result the engine keeps per metadata
// version.
//
// The package only defines and compiles: it imports metadata and
// formulas, never the engine, the database or HTTP, so templates
// (package defaults) and the database-free check can load its kinds.
// Package sales runs the rules.
package rules
