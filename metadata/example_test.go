package metadata_test

import (
	"fmt"

	"github.com/crmplatform/crm/metadata"
)

// ExampleParseObject parses an object document, checks it and shows what
// adding a field would change.
func ExampleParseObject() {
	doc := `
name: machine
label: {en: Machine, zh: 机床}
fields:
  - {name: name, type: text, required: true, max_length: 80}
  - name: kind
    type: picklist
    options:
      - {value: lathe, label: {en: Lathe, zh: 车床}}
      - {value: mill, label: {en: Mill, zh: 铣床}}
  - {name: price, type: currency}
`
	o, ps := metadata.ParseObject("objects/machine.yaml", []byte(doc))
	if len(ps) > 0 {
		fmt.Println(ps)
		return
	}
	s := &metadata.Schema{Objects: []*metadata.Object{o}}
	fmt.Println("problems:", len(metadata.Validate(s)))

	price, _ := o.Field("price")
	units, _ := metadata.TypeOf(price).Normalize(price, "1234.565")
	fmt.Println("stored price:", units)

	next := s.Clone()
	m, _ := next.Object("machine")
	m.Fields = append(m.Fields, &metadata.Field{Name: "weight", Type: "decimal"})
	for _, c := range metadata.Diff(s, next) {
		fmt.Println(c)
	}
	// Output:
	// problems: 0
	// stored price: 123457
	// add_field machine.weight
}

// ExampleValidate shows a problem report with the file and JSON pointer.
func ExampleValidate() {
	o, _ := metadata.ParseObject("objects/deal.yaml", []byte(`{"name": "deal", "fields": [{"name": "account", "type": "lookup", "target": "acount"}]}`))
	s := &metadata.Schema{Objects: []*metadata.Object{o}}
	s.SetSource(metadata.DocObject, "deal", "objects/deal.yaml")
	for _, p := range metadata.Validate(s) {
		fmt.Println(p)
	}
	// Output:
	// objects/deal.yaml: /fields/0/target: unknown target object "acount"
}
