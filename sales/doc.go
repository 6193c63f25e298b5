// Package sales runs the sales rules defined as metadata (package
// sales/rules) on the engine's extension points: duplicate rules and
// assignment rules as hooks on every create (API, imports, web forms,
// conversions), lead conversion as the convert action in one unit of
// work, web-to-lead forms and CSV imports as routes (and a job kind).
// Wire attaches everything; internal/server calls it.
//
// It never decides permissions itself: reads go through the engine's
// Scope, writes through a Writer (as the user, or as the system on the
// user's behalf only for what the platform does by itself).
package sales
