// Package render prints a filled document (documents.Doc) as PDF, with
// github.com/signintech/gopdf and an embedded font covering Latin and
// Chinese (fonts/README.md), and as printable HTML. It reads nothing:
// what it prints was read under the user's rights before.
package render
