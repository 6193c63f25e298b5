// Package ui is the web interface of the CRM: pages generated from the
// metadata for end users (lists, records, forms) and the low-code builder
// for administrators, served by crm serve from the one binary.
//
// Pages are rendered on the server with html/template (every value
// escaped) from templates and assets embedded in the binary; a small
// vendored script library (htmx) and one script of our own add live
// behaviour (cascading picklists, lookup search, filter rows) to pages
// that work without them. See docs/ui.md.
//
// The UI is built on the engine, never beside it: every page reads and
// writes through the same engine calls the API handlers make (Rights and
// Scope, Describe, List, Get, Create, Update, History, RunAction, Change),
// so rights, validation and versioning are the API's. It must not decide
// a permission of its own, open its own transaction for records, or read
// record tables directly; its only table is crm_ui_views (saved views).
package ui
