// Package query turns the filter, sort and cursor parameters of a list
// request into parameterised SQL for one object's table.
//
// # Filters
//
// A filter is the boolean subset of the formula language in expr syntax,
// type-checked against the object's fields (and system columns id,
// created_at …) and compiled, node by node, into a SQL predicate with "?"
// placeholders. Fields become quoted column names taken from metadata;
// literals and sub-expressions that name no field (start_of_month(today()),
// add_days(now(), -7), today() - 7) are evaluated once at compile time with
// formulas.EvalConstAt and bound as arguments in the compared field's
// storage form (a currency literal 100 at scale 2 is bound as 10000). No
// value is ever written into the SQL text and nothing is evaluated per row
// in Go.
//
//	kind == "lathe" && price > 100        ==, !=, <, <=, >, >=, &&, ||, !, and, or, not
//	stage in ["won", "lost"]              in, not in (nil in the list matches empty)
//	name startsWith "Ac"                  startsWith, endsWith, contains: text, case-insensitive
//	tags contains "vip"                   a value of a multi-picklist ("vip" in tags too)
//	competitors contains "<id>"           a linked record of a many-to-many field
//	amount == nil, is_empty(name)         empty: NULL, and for text also "" (is_not_empty too)
//	account.industry == "bank"            through lookups, up to MaxPathDepth
//	price > cost                          two fields of the same record and kind
//	this_week(close_date)                 date ranges, below
//
// Date ranges take a date or datetime field and become x >= from AND
// x < to, with the bounds computed from Options.Now in its location (weeks
// start on Monday): today, yesterday, tomorrow, this_week, last_week,
// next_week, this_month, last_month, next_month, this_quarter,
// last_quarter, next_quarter, this_year, last_year, next_year, and
// last_n_days(x, n) (the n days ending today) and next_n_days(x, n) (the n
// days starting today).
//
// Comparisons follow the formula language, not SQL's three-valued logic: a
// field that is empty is != every value and in no list, so
// `stage != "won"` and `!(amount > 100)` include records without a stage
// or an amount. Negations are pushed down to the conditions, which are
// made exact complements of each other.
//
// # Sorts and cursors
//
// ParseSort reads "-amount,name"; OrderBy writes the ORDER BY with NULLs
// last in both dialects and the id as the final tie-breaker. EncodeCursor
// packs the sort values of the last row of a page into an opaque cursor,
// and After turns it back into a null-aware keyset predicate, so pages are
// exact (no row twice, none skipped) with duplicate and empty sort values.
//
// # What this package must not do
//
// It does not run queries, decide permissions or know about HTTP: the
// caller passes CheckField, which refuses fields the user may not see, and
// RecordRule, which limits the records a lookup path may look into, and
// maps *Error to a 400 response.
package query
