// Package formulas compiles and evaluates the expressions of the metadata:
// computed fields, roll-ups, default formulas and validation rules, and the
// constant parts of list filters. It uses github.com/expr-lang/expr with a
// typed environment per object, built from the field definitions, so a
// formula that names an unknown field, compares text with a number or
// returns the wrong type for its field is refused when the metadata is
// loaded, with the line and column of the mistake.
//
// Everything is compiled once per metadata version (CompileSchema) and the
// programs are shared by all requests. Evaluation reads records in their
// storage form (see package metadata) and writes computed values back in
// that form; related records and roll-up aggregates come from a Resolver
// the engine implements, in batches.
//
// Functions are added in one place, the registry (RegisterFunc); Functions
// turns it into expr options.
//
// This package must not touch the database, HTTP or the clock of the
// engine: it only compiles and evaluates. It imports only metadata.
package formulas
