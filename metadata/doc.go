// Package metadata describes what a business can define: objects, their
// fields and options, validation rules and roles. Definitions are data
// (YAML or JSON documents) decoded into the Go types of this package after
// they pass an embedded JSON Schema and the semantic checks of Validate.
//
// Field types are chosen by their "type" key from a registry (see
// RegisterFieldType); each type says its SQL column type per dialect and how
// it converts, validates and formats values, and owns the rest of its
// behaviour through optional interfaces (abilities.go): references and link
// tables, assigned values, record checks and cascades, files, filter
// operators and sorting, type changes that keep values, report grouping and
// form inputs. Nothing outside this package tests a type's name. Diff compares two schemas and
// produces the plan of schema changes that applying the new one would make.
//
// This package must not touch a database, HTTP or the engine: it only
// describes and checks.
package metadata
