// Package query turns the filter, sort and cursor parameters of a list
// request into parameterised SQL for one object's table.
//
// A filter is the boolean subset of the formula language in expr syntax
// (`stage in ["won", "lost"] && amount > 100`). It is parsed into an
// expr AST and compiled, node by node, into a SQL predicate with "?"
// placeholders: fields become quoted column names taken from metadata,
// literals and constant sub-expressions (start_of_month(today())) are
// evaluated once at compile time and bound as arguments in the field's
// storage form. Nothing is evaluated per row in Go and no value is ever
// written into the SQL text.
//
// Sorts ("-amount,name") become an ORDER BY with NULLs last in both
// dialects and the id as the final tie-breaker; cursors are opaque
// encodings of the sort values of the last row of a page, turned back into
// a null-aware keyset predicate by After.
//
// The package must not run queries, decide permissions or know about HTTP:
// the caller passes a CheckField function that refuses fields the user may
// not see, and maps *Error to a 400 response.
package query
