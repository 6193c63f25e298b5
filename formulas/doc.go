// Package formulas compiles and evaluates the expressions of the metadata:
// computed fields (Field.Formula), default formulas (Field.DefaultFormula),
// roll-ups and validation rules (Object.ValidationRules), and the constant
// parts of list filters (EvalConst). It uses github.com/expr-lang/expr with
// a typed environment per object built from the field definitions, so a
// formula that names an unknown field, compares text with a number or
// returns the wrong type for its field is refused when the metadata is
// loaded, with the line and column of the mistake.
//
// Everything is compiled once per metadata version (CompileSchema) and the
// programs are shared, concurrently, by all requests. Evaluation reads
// records in their storage form (see package metadata) and writes computed
// values back in that form; related records and roll-up aggregates come
// from a Resolver the engine implements, in batches.
//
// This package must not touch the database, HTTP or the engine: it only
// compiles and evaluates. It imports only metadata (and expr).
//
// # The language
//
// A formula is an expr expression (https://expr-lang.org) over the fields
// of the record. Field values read as:
//
//	text, long_text, email, phone, url, picklist, auto_number   string
//	integer                                                     int
//	decimal, percent                                            float64
//	currency                                                    float64 in major units (1234.56)
//	boolean                                                     bool
//	date (midnight UTC), datetime                               time.Time
//	multi_picklist                                              []string
//	lookup                                                      the record it points to
//
// An empty field reads as its zero value (0, "", false, an empty date, an
// empty list), so `amount * 2` works on a record without an amount; use
// is_empty(x) for text, dates and lists. Date functions keep an empty date
// empty.
//
// The system fields id, created_at, created_by, updated_at, updated_by,
// owner_id and version are there too, and owner is the owning user: a
// record with id, name (display name), username, email and manager (a user
// again), so `owner.manager.name` works. A lookup reads as the record it
// points to: `account.industry`, `account.parent.name`; a formula may
// follow up to MaxLookupDepth lookups in a row, and `account.id` is the id.
// Related records are read through Resolver.Lookup, one call per lookup
// path for a whole batch of records.
//
// Functions are listed by FuncNames and documented in their Func.Doc; they
// include today(), now(), date(), add_days, add_months, add_years,
// days_between, start_of_week/month/quarter/year, end_of_month, year,
// month, day, weekday, next_birthday, concat, upper, lower, left, right,
// text_contains, format, round, abs, min, max, sum, avg, count, if, case
// and is_empty. A date plus or minus a whole number is that many days
// later or earlier (`today() + 30`). if(c, a, b) and case(x, v1, r1, …,
// default) evaluate only the chosen branch; expr's `c ? a : b` works too
// (expr's `if … {} else {}` statement is disabled so that if can be a
// function). today() is the calendar day of the evaluation's time in that
// time's zone (UTC for stored formulas, the user's zone for filters, see
// EvalConstAt and WithNow). Functions are added in one place, the registry
// (RegisterFunc), and Functions turns it into expr options.
//
// Picklists: option(stage) is the selected option with its free
// attributes, so `amount * option(stage).probability / 100` type-checks
// against the attributes the options define (value and label are there
// too); label(stage) is the selected option's English label and
// label(stage, "zh") its label in another language.
//
// Roll-ups aggregate child records, those of another object whose lookup
// points to this record: count(opportunity), count(opportunity, stage ==
// "won"), sum(opportunity, amount), sum(opportunity, amount, stage ==
// "won"), and avg, min and max alike; the condition may also follow the
// child after where, and the child may be named by its plural:
// sum(opportunities where stage == "won", amount). Name the child as
// object.lookup when it has several lookups to this object. The condition
// is a filter over the child's own fields. Roll-ups may be parts of larger expressions
// (`credit_limit - sum(opportunity, amount)`); the engine runs each in SQL
// through Resolver.Rollup.
//
// # Dependencies and recomputation
//
// CompileSchema builds the dependency graph of computed fields from the
// compiled syntax trees: fields of the same record, fields reached through
// lookups and the child fields of roll-ups; Compute evaluates computed
// fields in that order, and a cycle (account.total → opportunity.share →
// account.total) is refused with the cycle named. The engine learns what
// to recompute on other writes from LookupDependents (a record that
// formulas read through lookups changed), RollupsOnChild (a child was
// created, deleted, re-parented or changed) and ChangedComputed (formulas
// changed between two metadata versions).
//
// # Safety
//
// Expressions are limited to MaxNodes syntax nodes and MemoryBudget of
// allocation per evaluation; ranges need literal bounds at most MaxRange
// apart, a loop (all, map, reduce …) cannot hold another loop, and $env is
// refused, so the cost of an evaluation stays bounded. Formulas see only
// the record, what it reaches through lookups and roll-ups, and the
// function library; any run-time error or panic comes back as an
// *EvalError naming the object and the field or rule
// (errors.Is(err, ErrEval)).
package formulas
