// Package imports reads CSV files into records of any object: columns
// map to fields by name or label (English or Chinese) unless mapped,
// UTF-8 and GB18030/GBK files are both read, picklist values match by
// value or label, and every row is created (or, with a key field,
// updated) through the engine's unit of work with every check of an API
// call, in batched transactions. Rows are streamed: memory stays bounded
// whatever the file's size. The CLI (crm import) and the API (POST
// /api/import/{object}) both run it.
package imports
