package render

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/crmplatform/crm/documents"
)

// page is the printable HTML of a document: the same parts as the PDF,
// sized for the paper with CSS (@page), every value escaped.
var page = template.Must(template.New("doc").Funcs(template.FuncMap{
	"mm":    func(f float64) string { return fmt.Sprintf("%.2fmm", f) },
	"pct":   func(w, total float64) string { return fmt.Sprintf("%.2f%%", 100*w/total) },
	"total": sum,
	"pages": func(d *documents.Doc) [][][]string {
		per := d.Columns * d.Rows
		var out [][][]string
		for i := 0; i < len(d.Labels); i += per {
			out = append(out, d.Labels[i:min(i+per, len(d.Labels))])
		}
		return out
	},
}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
@page { size: {{mm .Page.Width}} {{mm .Page.Height}}; margin: {{mm .Page.Margin}}; }
body { font-family: "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 10pt; margin: 0; }
.header { color: #5a5a5a; font-size: 8pt; white-space: pre-line; }
h1 { text-align: center; font-size: 16pt; font-weight: normal; margin: 4mm 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 1mm 4mm; }
table { width: 100%; border-collapse: collapse; margin-top: 4mm; }
th { background: #e8e8e8; text-align: left; font-weight: normal; }
th.num { text-align: right; }
th, td { padding: 1mm 1.5mm; border-bottom: 0.2mm solid #a0a0a0; vertical-align: top; }
td.num { text-align: right; }
.totals { text-align: right; margin-top: 2mm; }
.text p { margin: 1mm 0; }
footer { color: #6e6e6e; font-size: 8pt; margin-top: 6mm; }
.sheet { display: grid; grid-template-columns: repeat({{.Columns}}, 1fr); grid-auto-rows: calc(({{mm .Page.Height}} - 2 * {{mm .Page.Margin}}) / {{if .Rows}}{{.Rows}}{{else}}1{{end}}); page-break-after: always; }
.label { padding: 4mm; overflow: hidden; }
</style></head><body>
{{- if .Labels}}
{{- range pages .}}<div class="sheet">{{range .}}<div class="label">{{range .}}<div>{{.}}</div>{{end}}</div>{{end}}</div>{{end}}
{{- else}}
{{- if .Header}}<div class="header">{{range .Header}}{{.}}
{{end}}</div>{{end}}
{{- if .Title}}<h1>{{.Title}}</h1>{{end}}
{{- if .Fields}}<div class="fields">{{range .Fields}}<div>{{.Label}}: {{.Value}}</div>{{end}}</div>{{end}}
{{- with .Table}}{{if .Label}}<p>{{.Label}}</p>{{end}}<table><thead><tr>{{$t := .}}{{range $i, $c := .Columns}}<th{{if index $t.Right $i}} class="num"{{end}} style="width: {{pct (index $t.Widths $i) (total $t.Widths)}}">{{$c}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $i, $v := .}}<td{{if index $t.Right $i}} class="num"{{end}}>{{$v}}</td>{{end}}</tr>
{{end}}</tbody></table>{{end}}
{{- if .Totals}}<div class="totals">{{range .Totals}}<div>{{.Label}}: {{.Value}}</div>{{end}}</div>{{end}}
{{- if .Text}}<div class="text">{{range .Text}}<p>{{.}}</p>{{end}}</div>{{end}}
{{- if .Footer}}<footer>{{.Footer}}</footer>{{end}}
{{- end}}
</body></html>
`))

// sum adds widths.
func sum(ws []float64) float64 {
	t := 0.0
	for _, w := range ws {
		t += w
	}
	return t
}

// HTML prints a document as a printable HTML page.
func HTML(d *documents.Doc) ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render: html: %w", err)
	}
	return b.Bytes(), nil
}
