// Package documents defines the document kind document_templates:
// printable documents of one object's records (a quote with its lines, a
// contract with its payment plan, a dunning letter, address labels for a
// list of records), with a header, a title, fields, a table of related
// records, totals, text and a footer with page numbers, in English or
// Chinese. Texts hold the placeholders of message templates ({{field}},
// {{lookup.field}}, {{owner.name}}), checked when the template is
// defined. Fill turns a compiled template and the values a caller read
// into a Doc that documents/render prints as PDF or HTML; the routes that
// read records under the user's rights are in documents/serve.
//
// It imports only metadata and marketing, so defaults and every program
// loading a template know the kind.
package documents
