// Package engine is the runtime that interprets metadata: it keeps the
// current metadata snapshot (swapped atomically when metadata changes),
// applies metadata changes as versioned, transactional schema changes, and
// serves records (create, read, update, delete, list, history, files)
// through one permission decision (a Guard, implemented by engine/access)
// on every path. Workflows attach through hooks and actions; the engine
// never imports workflows, api or ui.
package engine
