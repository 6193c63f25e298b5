package metadata

import (
	"testing"
)

// FuzzLoadTemplate loads a template whose one document (an object or a
// role, by kind) is arbitrary bytes beside valid ones: loading and
// validation must never panic, and a template that loads without a
// problem must be one whose copy Diff finds equal and that Diff can
// create from nothing.
func FuzzLoadTemplate(f *testing.F) {
	for _, seed := range []string{
		"name: machine\nlabel: {en: Machine, zh: 机床}\nfields:\n  - {name: name, type: text, required: true}\n",
		`{"name": "gear", "fields": [{"name": "teeth", "type": "integer", "min": 1}, {"name": "machine", "type": "lookup", "target": "machine", "on_delete": "cascade"}]}`,
		"name: deal\nfields:\n  - {name: stage, type: picklist, options: [{value: a, label: {en: A, zh: 甲}, probability: 10}, {value: b, label: {en: B}}]}\n" +
			"  - {name: amount, type: currency, tracked: true}\n  - {name: weighted, type: currency, formula: \"amount * option(stage).probability / 100\"}\n" +
			"  - {name: tags, type: multi_picklist, options: [{value: x}]}\n  - {name: code, type: text, unique: true, max_length: 20, pattern: \"^[A-Z]+$\"}\n" +
			"indexes:\n  - {fields: [owner_id, stage, -amount]}\n" +
			"validation_rules:\n  - {name: positive, condition: \"amount > 0\", message: {en: Positive, zh: 正数}, field: amount}\n",
		"name: place\nfields:\n  - {name: country, type: picklist, options: [{value: cn}]}\n  - {name: province, type: picklist, depends_on: country, options: [{value: zj, when: [cn]}]}\n",
		"name: reader\nlabel: {en: Reader, zh: 读者}\npermissions:\n  - {object: machine, actions: [read, create], records: own, fields: {name: read}}\n",
		"name: x\nfields: [{name: a, type: lookup, target: x}, {name: b, type: many_to_many, target: machine}, {name: d, type: date, default_formula: \"today()\"}]\n",
		"{", "name: [1", "&a [*a]", "- - - -", "name: \"\\u0000\"",
	} {
		f.Add(false, []byte(seed))
		f.Add(true, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, role bool, doc []byte) {
		if len(doc) > 4<<10 {
			return
		}
		files := map[string]string{
			"template.yaml":        "name: fuzz\nversion: \"1\"\n",
			"objects/machine.yaml": "name: machine\nfields:\n  - {name: name, type: text, required: true}\n",
			"roles/operator.yaml":  "name: operator\npermissions:\n  - {object: machine, actions: [read]}\n",
		}
		if role {
			files["roles/fuzz.yaml"] = string(doc)
		} else {
			files["objects/fuzz.yaml"] = string(doc)
		}
		_, s, ps := LoadFS(mapFS(files))
		if len(ps) > 0 {
			return
		}
		if changes := Diff(s, s.Clone()); len(changes) > 0 {
			t.Fatalf("a schema and its copy differ: %v", changes)
		}
		if changes := Diff(&Schema{}, s); len(changes) == 0 {
			t.Fatal("creating the schema from nothing changes nothing")
		}
	})
}
