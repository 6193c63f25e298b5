// Package metadata describes what a business can define: objects, their
// fields and options, validation rules and roles. Definitions are data
// (YAML or JSON documents) decoded into the Go types of this package after
// they pass an embedded JSON Schema and the semantic checks of Validate.
//
// Field types are chosen by their "type" key from a registry (see
// RegisterFieldType); each type says its SQL column type per dialect and how
// it converts, validates and formats values. Diff compares two schemas and
// produces the plan of schema changes that applying the new one would make.
//
// This package must not touch a database, HTTP or the engine: it only
// describes and checks.
package metadata
