package reports

import (
	_ "embed"

	"github.com/crmplatform/crm/metadata"
)

// Report kinds.
const (
	// Tabular lists records, one row per record, with columns.
	Tabular = "tabular"
	// Summary groups records by one or more dimensions and aggregates
	// each group, with optional subtotals.
	Summary = "summary"
	// Matrix groups records by row dimensions and by column dimensions
	// (a pivot table).
	Matrix = "matrix"
)

// Report is one report definition: a document of the kind "reports".
type Report struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	// Description says what it shows, per language like a label (a plain
	// text is English).
	Description metadata.Label `json:"description,omitempty"`
	// Object is the base object: each row of a tabular report is one of
	// its records, and every count and sum is over its records.
	Object string `json:"object"`
	// Kind is tabular (the default), summary or matrix.
	Kind string `json:"kind,omitempty"`
	// Filter is a condition of the list filter language on Object.
	Filter string `json:"filter,omitempty"`
	// Roles offers the report to the users holding one of these roles
	// (every user who may read Object when empty).
	Roles      []string    `json:"roles,omitempty"`
	Parameters []Parameter `json:"parameters,omitempty"`
	Formulas   []Formula   `json:"formulas,omitempty"`
	// Columns are the columns of a tabular report.
	Columns []Column `json:"columns,omitempty"`
	// GroupBy are the row dimensions of a summary or matrix report.
	GroupBy []Group `json:"group_by,omitempty"`
	// Across are the column dimensions of a matrix report.
	Across       []Group       `json:"across,omitempty"`
	Aggregates   []Aggregate   `json:"aggregates,omitempty"`
	Calculations []Calculation `json:"calculations,omitempty"`
	// Subtotals adds a row per group of every outer dimension of a summary.
	Subtotals bool `json:"subtotals,omitempty"`
	// Sort orders the rows by columns, aggregates or calculations ("-" for
	// descending).
	Sort []string `json:"sort,omitempty"`
	// Limit keeps the first rows only (top N).
	Limit int    `json:"limit,omitempty"`
	Chart *Chart `json:"chart,omitempty"`
}

// KindOrDefault returns the report's kind, tabular when unset.
func (r *Report) KindOrDefault() string {
	if r.Kind == "" {
		return Tabular
	}
	return r.Kind
}

// Parameter types.
const (
	// ParamPeriod takes a date range: a relative one (this_month,
	// last_quarter …) or "YYYY-MM-DD..YYYY-MM-DD".
	ParamPeriod = "period"
	// ParamUser takes a user id, or "me".
	ParamUser = "user"
	// ParamValue takes one value of the field.
	ParamValue = "value"
	// ParamIdleDays takes a number of days N: the records whose date or
	// datetime field is empty or not within the last N days.
	ParamIdleDays = "idle_days"
	// ParamBucket takes a date bucket (day, week, month, quarter, year)
	// for the dimension on the field: the same forecast by week, month or
	// quarter. It adds no condition.
	ParamBucket = "bucket"
)

// Parameter is a condition on a field whose value is given when the report
// runs (?period=this_quarter&owner=me); without a value (and no default)
// it adds nothing.
type Parameter struct {
	Name    string         `json:"name"`
	Label   metadata.Label `json:"label,omitempty"`
	Type    string         `json:"type"`
	Field   string         `json:"field"`
	Default string         `json:"default,omitempty"`
}

// Formula is a row formula: a value computed for each record of the base
// object (in SQL), usable as a column, a dimension or an aggregated value.
type Formula struct {
	Name    string         `json:"name"`
	Label   metadata.Label `json:"label,omitempty"`
	Type    string         `json:"type,omitempty"`
	Scale   *int           `json:"scale,omitempty"`
	Formula string         `json:"formula"`
}

// Column is a column of a tabular report: a field of the base object, a
// path through lookups (account.owner_id) or a row formula's name.
type Column struct {
	Field string         `json:"field"`
	Label metadata.Label `json:"label,omitempty"`
}

// Group is a dimension: a field or path, dates bucketed.
type Group struct {
	Field  string          `json:"field"`
	Bucket metadata.Bucket `json:"bucket,omitempty"`
	Label  metadata.Label  `json:"label,omitempty"`
}

// Aggregate functions.
const (
	Count         = "count"
	Sum           = "sum"
	Avg           = "avg"
	Min           = "min"
	Max           = "max"
	CountDistinct = "count_distinct"
)

// TotalsSum is the value of Aggregate.Totals that makes subtotal and
// total rows add the values of the rows.
const TotalsSum = "sum"

// Aggregate is a value computed per group: count (of records, or of
// records with a value of Field), sum, avg, min, max or count_distinct of
// a field, path or row formula.
type Aggregate struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	Func  string         `json:"func"`
	Field string         `json:"field,omitempty"`
	// Filter, a condition of the list filter language on the base object,
	// limits the records the aggregate counts or sums within each group
	// (the won deals of a stage's row, the overdue requests of a status).
	Filter string `json:"filter,omitempty"`
	// Totals says how subtotal and total rows combine the aggregate:
	// empty aggregates their records again; "sum" adds the values of the
	// rows (a value of the grouped record, such as the cost of a campaign
	// read as max per campaign, counted once per row). For min, max and
	// count_distinct.
	Totals string `json:"totals,omitempty"`
}

// Column calculations.
const (
	PercentOfTotal = "percent_of_total"
	Difference     = "difference"
	PercentChange  = "percent_change"
	RunningTotal   = "running_total"
	RemainingTotal = "remaining_total"
	Rank           = "rank"
	Conversion     = "conversion"
	// Ratio is Of ÷ By in each row (two decimals): the average won deal,
	// won revenue ÷ won deals.
	Ratio = "ratio"
	// Rate is Of ÷ By × 100 in each row (a percentage): converted leads
	// of all leads.
	Rate = "rate"
	// Return is (Of − By) ÷ By × 100 in each row (a percentage): the
	// return on By, as a campaign's ROI is won revenue against its cost.
	Return = "return"
)

// divides reports whether calculation func f divides Of by a second value
// (By).
func divides(f string) bool { return f == Ratio || f == Rate || f == Return }

// Calculation is a column computed across the rows of a summary from an
// aggregate or an earlier calculation (Of), and for ratio and rate a
// second one (By).
type Calculation struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	Func  string         `json:"func"`
	Of    string         `json:"of"`
	By    string         `json:"by,omitempty"`
}

// Chart types.
const (
	ChartBar        = "bar"
	ChartStackedBar = "stacked_bar"
	ChartLine       = "line"
	ChartPie        = "pie"
	ChartFunnel     = "funnel"
)

// Chart says how a report is drawn: its type and the aggregates or
// calculations plotted (the first aggregate when none).
type Chart struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

//go:embed schema/report.schema.json
var reportSchema []byte

//go:embed schema/dashboard.schema.json
var dashboardSchema []byte

// Reports reads the report definitions of a schema.
var Reports metadata.Docs[Report]

// Dashboards reads the dashboard definitions of a schema.
var Dashboards metadata.Docs[Dashboard]

func init() {
	Reports = metadata.RegisterKind(metadata.KindSpec[Report]{
		Name: "reports", Schema: reportSchema, Public: true,
		Check: func(s *metadata.Schema, r *Report) metadata.Problems {
			_, ps := Compile(s, r)
			return ps
		},
		Compile: compileAll,
	})
	Dashboards = metadata.RegisterKind(metadata.KindSpec[Dashboard]{
		Name: "dashboards", Schema: dashboardSchema, Public: true,
		Check: CheckDashboard,
	})
}
