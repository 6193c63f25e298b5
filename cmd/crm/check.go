package main

import "github.com/crmplatform/crm/metadata"

// checkSchema runs the semantic checks a schema must pass beyond its
// documents' JSON Schema.
func checkSchema(s *metadata.Schema) metadata.Problems {
	return metadata.Validate(s)
}
