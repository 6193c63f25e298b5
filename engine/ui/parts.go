package ui

import (
	"context"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
)

// The parts of the platform built on the engine (workflows, sales rules,
// reports) give the pages what only they know through the small
// interfaces below; internal/server wires them (Config). Each answers as
// the principal of ctx, under the engine's one permission decision: the
// UI shows what they return and decides nothing itself. A nil part leaves
// its pages and panels out.

// Workflows is what the pages show of state workflows and approvals.
type Workflows interface {
	// Transitions lists, per state workflow of the record's object whose
	// field the user may read, the current value and the changes the
	// user may make now.
	Transitions(ctx context.Context, object, id string) ([]StateField, error)
	// Approvals lists the record's approval requests, newest first.
	Approvals(ctx context.Context, object, id string) ([]Approval, error)
	// Waiting lists the approvals waiting for the user's decision.
	Waiting(ctx context.Context) ([]Task, error)
	// Processes lists the approval processes of object in the order a
	// submit tries them (name, label in lang).
	Processes(object, lang string) []Choice
}

// Notifications is what the home page shows of the user's in-app
// notifications (reminders that came due, automations' messages).
type Notifications interface {
	// Unread lists the user's unread notifications, newest first, at
	// most limit: Kind "reminder" or "notification", Title the subject,
	// Detail the message, ID to mark it read.
	Unread(ctx context.Context, limit int) ([]Task, error)
	// MarkRead marks one of the user's notifications read
	// (engine.ErrNotFound for one that is not theirs).
	MarkRead(ctx context.Context, id string) error
	// Page lists the user's own notifications, read and unread (only
	// unread ones when unread), newest first, after the one whose id is
	// after ("" for the first page), at most limit.
	Page(ctx context.Context, unread bool, after string, limit int) ([]Notice, error)
	// MarkAllRead marks every unread notification of the user read.
	MarkAllRead(ctx context.Context) error
}

// Notice is one of the user's notifications on the page listing them
// all: a Task, and whether it was read.
type Notice struct {
	Task
	Read bool
}

// StateField is a field governed by a state workflow on one record.
type StateField struct {
	Field   string
	Current string
	// Next are the values the user may change it to now.
	Next []Choice
}

// Choice is a value with its label in the user's language.
type Choice struct {
	Value, Label string
}

// Approval is an approval request of a record.
type Approval struct {
	Process string
	// State is pending, approved, rejected or recalled.
	State string
	// Step is the label of the step waiting for a decision (pending only).
	Step string
	// Approvers are the user ids and names of those yet to decide the
	// step.
	Approvers   []Choice
	SubmittedBy Choice
	SubmittedAt time.Time
	History     []ApprovalEvent
	// Locked says that, while it is pending, the record and its details
	// may not be changed; ApproversMayEdit are the fields its current
	// approvers still may.
	Locked           bool
	ApproversMayEdit []string
}

// ApprovalEvent is one event of a request's history.
type ApprovalEvent struct {
	Step, Who, Decision, Comment string
	At                           time.Time
}

// Task is something waiting for the user, listed on the home page: an
// approval to decide, a reminder that is due, a notification.
type Task struct {
	// Kind is "approval", "reminder" or "notification".
	Kind string
	// ID is a reminder's or notification's id (to mark it read).
	ID               string
	Object, RecordID string
	// Title is the record's title as the user may read it; Detail says
	// what waits (the process and step, the reminder's text).
	Title, Detail string
	Since         time.Time
	// Withheld marks a notification of a record the user may no longer
	// read: its subject and message are not shown, nor its record.
	Withheld bool
}

// Sales is what the pages offer of the sales rules: lead conversion and
// CSV imports.
type Sales interface {
	// Conversion returns the targets records of object convert into, in
	// order (none when the object has no conversion).
	Conversion(ctx context.Context, object string) []ConversionTarget
	// Converted reports whether a record (as the user reads it) was
	// converted already.
	Converted(ctx context.Context, object string, rec map[string]any) bool
	// AllowDuplicates returns ctx in which a create goes through the
	// duplicate rules that only warn.
	AllowDuplicates(ctx context.Context) context.Context
	// ImportSample reads the header and the first rows of a CSV file and
	// maps its columns to fields of object as Import will.
	ImportSample(ctx context.Context, object string, file []byte, mapping map[string]string, rows int) (*ImportSample, error)
	// Import imports a CSV file into object as the user (the import
	// right, create rights, update rights with a key), at once: the page
	// runs it as a dry run on the start of a file.
	Import(ctx context.Context, object string, file []byte, opt ImportOptions) (*ImportResult, error)
	// StartImport checks a CSV file's header and rights and queues its
	// import as the user in the background (POST /api/import/{object}),
	// returning the import's id.
	StartImport(ctx context.Context, object string, file []byte, opt ImportOptions) (string, error)
	// ImportStatus returns one of the user's imports (engine.ErrNotFound
	// for another user's).
	ImportStatus(ctx context.Context, id string) (*ImportStatus, error)
	// WebFormKind names the document kind of web forms.
	WebFormKind() string
	// FormSnippet returns a web form's HTML for a web site in lang,
	// posting to its address under base (scheme and host).
	FormSnippet(name, lang, base string) (string, error)
}

// ImportStatus is an import in the background: State is pending,
// running, done or failed (Message says why); Done of Total records are
// through.
type ImportStatus struct {
	ImportResult
	Object, State, Message string
	Done, Total            int64
}

// ImportSample is the start of a file to import: its header, the field
// each column fills ("" for none) and its first rows.
type ImportSample struct {
	Header, Fields []string
	Rows           [][]string
}

// ImportOptions say how to import a file: Mapping maps column headers to
// fields ("" ignores a column), Key names a field identifying existing
// records to update, DryRun checks every row and writes nothing.
type ImportOptions struct {
	Mapping map[string]string
	Key     string
	DryRun  bool
}

// ImportResult is the summary of an import.
type ImportResult struct {
	Created, Updated, Skipped int
	Errors                    []ImportError
}

// ImportError is a problem of one line of the file.
type ImportError struct {
	Line           int
	Field, Message string
}

// ConversionTarget is a record a conversion creates or attaches.
type ConversionTarget struct {
	// Name is the target's key in the convert action's input.
	Name, Object string
	Optional     bool
}

// Reports is what the pages show of reports and dashboards.
type Reports interface {
	// List returns the reports the user may run.
	List(ctx context.Context) ([]ReportInfo, error)
	// Info describes one report the user may run (engine.ErrNotFound
	// otherwise).
	Info(ctx context.Context, name string) (*ReportInfo, error)
	// Run runs a report with parameters.
	Run(ctx context.Context, name string, params map[string]string) (*ReportTable, error)
	// Chart draws a summary or matrix report as SVG, width pixels wide.
	Chart(ctx context.Context, name string, params map[string]string, width int) ([]byte, error)
	// Export writes a report as "csv" or "xlsx" (the export right on its
	// object is needed).
	Export(ctx context.Context, name string, params map[string]string, format string) (*File, error)
	// Drill returns the object of a report and a page of the records
	// behind a group of its rows (a row's Group, a matrix cell's with its
	// column's Across); with aggregate (a column's Aggregate) only those
	// that aggregate counted (its filter).
	Drill(ctx context.Context, name string, params map[string]string, group, aggregate string, opt engine.ListOptions) (string, *engine.ListResult, error)
	// RunAdhoc runs a report defined on the page, checked as POST
	// /api/reports/run checks a body (its definition, then the user's
	// rights: a field they may not read is refused).
	RunAdhoc(ctx context.Context, def AdhocReport) (*ReportTable, error)
	// ChartAdhoc draws such a summary or matrix report as SVG, width
	// pixels wide.
	ChartAdhoc(ctx context.Context, def AdhocReport, width int) ([]byte, error)
	// DrillAdhoc returns a page of the records behind a group of such a
	// report (a row's Group; aggregate limits them to what it counted),
	// as Drill does for a saved report.
	DrillAdhoc(ctx context.Context, def AdhocReport, group, aggregate string, opt engine.ListOptions) (*engine.ListResult, error)
	// SaveAdhoc saves a report defined on the page as the user's own,
	// named name and labelled label in their language, through the checks
	// of PUT /api/reports/{name} (a report they could not run is not
	// saved; metadata.Problems with JSON pointers).
	SaveAdhoc(ctx context.Context, def AdhocReport, name, label string) error
	// OwnReport returns one of the user's own reports as the ad-hoc page
	// defines it, and its label in their language (engine.ErrNotFound for
	// any other; a RequestError naming what the page cannot show, such as
	// parameters or row formulas, for one saved through the API).
	OwnReport(ctx context.Context, name string) (AdhocReport, string, error)
	// DeleteReport deletes one of the user's own reports.
	DeleteReport(ctx context.Context, name string) error
	// Dashboards lists the dashboards offered to the user and those they
	// saved.
	Dashboards(ctx context.Context) ([]DashboardInfo, error)
	// Dashboard returns one of them with the data of its widgets (the
	// user's home when name is empty: nil when they have none).
	Dashboard(ctx context.Context, name string) (*Dashboard, error)
	// SaveDashboard saves a copy of dashboard from as the user's own,
	// named name with label in the user's language, their home if home.
	SaveDashboard(ctx context.Context, from, name, label string, home bool) error
	// DeleteDashboard deletes one of the user's own.
	DeleteDashboard(ctx context.Context, name string) error
	// OwnDashboard returns one of the user's own dashboards as saved
	// (engine.ErrNotFound for any other).
	OwnDashboard(ctx context.Context, name string) (*DashboardDef, error)
	// PutDashboard saves def as the user's own through the checks of PUT
	// /api/dashboards/{name} (metadata.Problems with JSON pointers,
	// nothing saved); renamed from old, old is deleted then.
	PutDashboard(ctx context.Context, old string, def DashboardDef) error
}

// DashboardDef is a dashboard of the user's own as they edit it: Label
// and the widgets' titles in their language, the widgets in order.
type DashboardDef struct {
	Name, Label string
	Home        bool
	Widgets     []WidgetDef
}

// WidgetDef is a widget as edited: Type chart, table or counter of a
// Report (with Params, a counter's Value), or list of an Object's records
// (Filter, Sort, Limit); Width in twelfths of the page.
type WidgetDef struct {
	// From is the widget's place in the dashboard as saved (-1 for one
	// added on the page), so that a save keeps what the page does not
	// edit: its title in other languages and its height.
	From                       int
	Type, Title, Report, Value string
	Params                     map[string]string
	Object, Filter, Sort       string
	Limit, Width               int
}

// AdhocReport is a report a user defines on the ad-hoc report page and
// runs without saving it: a tabular report of Columns, or a summary
// (GroupBy) or matrix (GroupBy, Across) of Aggregates, on Object's
// records matching Filter (the filter language of lists), rows in Sort
// order, drawn as a Chart of that type ("" for none).
type AdhocReport struct {
	Object, Kind    string
	Columns         []string
	GroupBy, Across []AdhocGroup
	Aggregates      []AdhocAggregate
	Filter          string
	Sort            []string
	Chart           string
}

// AdhocGroup is a dimension of an ad-hoc report: a field, a date's
// Bucket (day, week, month, quarter, year).
type AdhocGroup struct {
	Field, Bucket string
}

// AdhocAggregate is an aggregate of an ad-hoc report: Func (count, sum,
// avg, min, max) of Field (none for a count of records), named Name,
// its column labelled Label in the user's language.
type AdhocAggregate struct {
	Name, Func, Field, Label string
}

// DashboardInfo names a dashboard of the user: Own when they saved it,
// Home when it is their home.
type DashboardInfo struct {
	Name, Label string
	Own, Home   bool
}

// ReportInfo describes a report.
type ReportInfo struct {
	Name, Label, Description, Object, Kind string
	Params                                 []ReportParam
	// Aggregates are the report's aggregates (a counter shows one).
	Aggregates []Choice
	// Chart reports whether the report draws a chart; Export whether
	// the user may export it; Own whether the user saved it for
	// themselves.
	Chart, Export, Own bool
	// Problem says why a report the user saved can no longer run (its
	// object's fields changed since), empty when it can.
	Problem string
}

// ReportParam is a parameter of a report: Options lists the values of a
// choice (empty for free text or Number).
type ReportParam struct {
	Name, Label, Default string
	Options              []Choice
	Number               bool
}

// ReportTable is a report's result as text, in the user's language.
type ReportTable struct {
	ReportInfo
	Columns   []ReportColumn
	Rows      []ReportRow
	Totals    []string
	Truncated bool
}

// ReportColumn is a column of a report's result.
type ReportColumn struct {
	Label   string
	Numeric bool
	// Aggregate names the aggregate of an aggregate column (its cells
	// drill to the records it counted); Across is what a matrix cell
	// column appends to a row's Group to drill into the cell ("/" and its
	// column keys; empty for other columns).
	Aggregate, Across string
}

// ReportRow is a row of a report's result: its cells, the drill-down
// path of a group row (Group, Level dimensions set) or the record of a
// tabular row (ID).
type ReportRow struct {
	Cells []string
	Group string
	Level int
	ID    string
}

// Documents prints records with document templates (quotes, contracts,
// dunning letters) as the user of ctx may read them.
type Documents interface {
	// For returns the document templates of object, labelled in lang.
	For(object, lang string) []DocumentInfo
	// Print prints record id of object with template name in lang, as
	// "pdf" or "html" (the printable page): engine.ErrNotFound when the
	// record is out of the user's reach or the template is not one of
	// the object's.
	Print(ctx context.Context, object, id, name, lang, format string) (*File, error)
	// PrintList prints the label sheet name of object for the records
	// matching filter (the filter language of lists) in sort order that
	// the user may read.
	PrintList(ctx context.Context, object, name, filter, sort, lang, format string) (*File, error)
	// Attach prints record id of object with template name in lang as a
	// PDF and sets it on the record's file field, as the user (who must
	// read the record and may edit the field).
	Attach(ctx context.Context, object, id, name, field, lang string) error
}

// DocumentInfo names a document template.
type DocumentInfo struct {
	Name, Label string
	// List marks a label sheet, which prints a list of records (the
	// others print one record).
	List bool
}

// Mailings sends a campaign's mailings as the user of ctx (package
// marketing/mailing): the page of its send action.
type Mailings interface {
	// Action is the action whose page the mailing page is; the other
	// actions needing its right (preview, test) are run from that page.
	Action() string
	// Templates returns the message templates the user may send,
	// labelled in lang.
	Templates(ctx context.Context, lang string) []MailingTemplate
	// Preview counts the recipients of a mailing of campaign and renders
	// its first messages.
	Preview(ctx context.Context, campaign string, m MailingRequest) (*MailingPreview, error)
	// Test sends the mailing's first message to the user.
	Test(ctx context.Context, campaign string, m MailingRequest) error
	// Send queues the mailing; the job runner sends it.
	Send(ctx context.Context, campaign string, m MailingRequest) error
	// List returns the campaign's mailings, newest first.
	List(ctx context.Context, campaign string) ([]MailingSummary, error)
}

// MailingRequest is what the user asks of a mailing.
type MailingRequest struct {
	Template string
	// Filter selects the recipients (the filter language of lists) among
	// the template's object's records the user may read.
	Filter string
	// Members keeps only the campaign's members; Track adds tracked
	// links and the open pixel to e-mail.
	Members, Track bool
	// Language is the language of the messages (en or zh; the sender's
	// by default).
	Language string
}

// MailingTemplate is a message template a user may send.
type MailingTemplate struct {
	Name, Label, Channel, Object string
}

// MailingPreview is the recipients' counts (recipients, skipped_…) and
// the first messages of a mailing.
type MailingPreview struct {
	Counts map[string]int
	Items  []MailingMessage
}

// MailingMessage is one message as it would be sent.
type MailingMessage struct {
	To, Subject, HTML, Text string
}

// MailingSummary is a mailing sent and its counts (recipients, sent,
// opened, clicked, unsubscribed, failed …).
type MailingSummary struct {
	Template, Channel, State, Sender, Error string
	CreatedAt                               time.Time
	Counts                                  map[string]int
}

// Webhooks shows administrators what a webhook delivered and resends a
// delivery (package integration).
type Webhooks interface {
	// Kind is the metadata kind of webhooks: its editor shows the
	// webhook's deliveries.
	Kind() string
	// Deliveries returns a page of a webhook's deliveries, newest first,
	// and the cursor of the next page ("" for the last one), as
	// GET /api/meta/webhooks/{name}/deliveries lists them: an unknown
	// webhook is engine.ErrNotFound, a bad state or cursor an
	// engine.RequestError.
	Deliveries(ctx context.Context, webhook string, q DeliveryQuery) ([]WebhookDelivery, string, error)
	// Resend queues a delivery of the webhook again.
	Resend(ctx context.Context, webhook, id string) error
}

// DeliveryQuery selects a page of a webhook's deliveries: those in State
// (pending, delivered or failed; "" for all), after Cursor (the next
// cursor of the previous page; "" for the newest), at most Limit.
type DeliveryQuery struct {
	State, Cursor string
	Limit         int
}

// WebhookDelivery is one delivery of a webhook.
type WebhookDelivery struct {
	ID, Event, Object, RecordID string
	// State is pending, delivered or failed.
	State    string
	Attempts int
	// Status is the HTTP status the last attempt got (0 for none), Error
	// why no answer came or why it failed.
	Status int
	Error  string
	// At is when the change it delivers happened; Next when a pending
	// delivery is tried next (zero otherwise).
	At, Next time.Time
}

// File is a file to download.
type File struct {
	Name, Type string
	Data       []byte
}

// Dashboard is a dashboard with the data of its widgets.
type Dashboard struct {
	Name, Label string
	Own, Home   bool
	Widgets     []Widget
}

// Widget is one widget of a dashboard: a report's chart or table, a
// counter, or a list of records; Error says why the user sees no data.
type Widget struct {
	// Type is chart, table, counter or list.
	Type, Title string
	// Report and Params name the report of a chart, table or counter;
	// Table is its result.
	Report string
	Params map[string]string
	Table  *ReportTable
	// Value is a counter's total.
	Value string
	// Object, Filter, Sort and Records are a list's.
	Object, Filter, Sort string
	Records              []engine.Record
	// Width is the widget's width in twelfths of the page.
	Width int
	// Error says why the widget shows nothing (the engine's message), and
	// ErrorCode what kind of problem it is (not_found, forbidden,
	// invalid_report or failed), for the page to say it in the user's
	// language.
	Error, ErrorCode string
}

// Templates installs, upgrades, exports and compares solution templates
// (metadata packages, package templates) for the builder's templates
// page, with the checks of /api/templates: the UI lets only
// administrators in, as the API's routes do.
type Templates interface {
	// List returns the built-in templates, labelled in lang, and the
	// installed one (nil when none is known).
	List(ctx context.Context, lang string) ([]TemplateInfo, *TemplateInfo, error)
	// Install installs the built-in template name as the user, or
	// upgrades to it (merged three ways into the current metadata,
	// keeping the administrators' changes): with plan it changes nothing
	// and says what it would do; otherwise sample also loads its sample
	// records. With base ≥ 0 (the metadata version a plan was reviewed
	// on; -1 for none) it refuses with engine.ErrStale, changing nothing,
	// once metadata is no longer at that version. engine.ErrNotFound for
	// an unknown template.
	Install(ctx context.Context, name string, plan, sample bool, base int64) (*TemplatePlan, error)
	// Export returns the current metadata as a template folder in a zip
	// archive (the folder crm template export writes).
	Export(ctx context.Context) (*File, error)
	// Compare lists the changes installing the template folder of a zip
	// archive would make to the current metadata.
	Compare(ctx context.Context, archive []byte) ([]metadata.Change, error)
}

// TemplateInfo describes a template: a built-in one, or the installed one
// (with the metadata version it made and when).
type TemplateInfo struct {
	Name, Label, Description, Version string
	// Sample reports whether a built-in template ships sample records.
	Sample          bool
	MetadataVersion int64
	InstalledAt     time.Time
}

// TemplatePlan is what an install or upgrade does (or did).
type TemplatePlan struct {
	// Template is "NAME VERSION"; From the template installed before, if
	// any.
	Template, From string
	Changes        []metadata.Change
	// Conflicts are the values the administrators changed that the
	// template changes too: the current value is kept.
	Conflicts []string
	SQL       string
	// Version is the metadata version made (the one it would make for a
	// plan).
	Version int64
	// Sample counts the sample records created.
	Sample int
}
