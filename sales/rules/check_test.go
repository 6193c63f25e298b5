package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/check"
	"github.com/crmplatform/crm/metadata"
)

// TestDefinitionChecks loads the standard template with sales rules that
// are wrong in every way a check catches, as crm validate does, and
// expects each problem at its file and JSON pointer: references to
// fields and objects, type compatibility of conversion mappings,
// formulas, fixed values, fields a form cannot show, rules on fields that
// are not text.
func TestDefinitionChecks(t *testing.T) {
	files := fstest.MapFS{
		"template.yaml": {Data: []byte("name: test\nextends: standard\n")},
		"conversions/lead.yaml": {Data: []byte(`name: lead
source: lead
set: {status: nope}
targets:
  - name: account
    object: account
    fields: {company: employees, source: industry, nope: name, phone: phone, email: phone}
    formulas: {description: 'person +'}
    write_back: converted_contact
  - name: contact
    object: contact
    links: {account: opportunity}
    match: [colour]
  - name: deal
    object: nothing
`)},
		"assignment_rules/lead.yaml": {Data: []byte(`name: lead
object: lead
entries:
  - {when: 'colour == "red"', assign: {user: rep1}}
  - {when: 'person', assign: {queue: south}}
  - {assign: {round_robin: [rep1, rep2]}}
`)},
		"assignment_rules/second.yaml":  {Data: []byte("name: second\nobject: lead\nentries: [{assign: {user: rep1}}]\n")},
		"duplicate_rules/by_size.yaml":  {Data: []byte("name: by_size\nobject: account\nfields: [{field: employees}, {field: name, normalize: company}, {field: name}]\n")},
		"duplicate_rules/by_sound.yaml": {Data: []byte("name: by_sound\nobject: contact\nfields: [{field: name, normalize: soundex}]\n")},
		"web_forms/bad.yaml":            {Data: []byte("name: bad\nfields: [person, converted_account, number, source, nope]\nvalues: {source: web, status: maybe}\n")},
	}
	_, s, ps := metadata.LoadFS(defaults.WithBases(files))
	if s != nil {
		_, cps := check.Schema(s)
		ps = append(ps, cps...)
	}
	for _, w := range []struct{ file, path, msg string }{
		{"conversions/lead.yaml", "/set/status", "nope"},
		{"conversions/lead.yaml", "/targets/0/fields/company", "company is text, employees is"},
		{"conversions/lead.yaml", "/targets/0/fields/source", "industry has no option"},
		{"conversions/lead.yaml", "/targets/0/fields/nope", `lead has no field "nope"`},
		{"conversions/lead.yaml", "/targets/0/fields/phone", "already set"},
		{"conversions/lead.yaml", "/targets/0/formulas/description", ""},
		{"conversions/lead.yaml", "/targets/0/write_back", "lookup field \"converted_contact\" to account"},
		{"conversions/lead.yaml", "/targets/1/links/account", "not an earlier target"},
		{"conversions/lead.yaml", "/targets/1/match/0", "colour"},
		{"conversions/lead.yaml", "/targets/2/object", "nothing"},
		{"assignment_rules/lead.yaml", "/entries/0/when", "colour"},
		{"assignment_rules/lead.yaml", "/entries/1/when", ""},
		{"assignment_rules/second.yaml", "/object", "one rule per object"},
		{"duplicate_rules/by_size.yaml", "/fields/0/field", "compares text fields"},
		{"duplicate_rules/by_size.yaml", "/fields/2/field", "named twice"},
		{"duplicate_rules/by_sound.yaml", "/fields/0/normalize", ""},
		{"web_forms/bad.yaml", "/fields/1", "a web form shows"},
		{"web_forms/bad.yaml", "/fields/2", "computed"},
		{"web_forms/bad.yaml", "/fields/3", "fixed value"},
		{"web_forms/bad.yaml", "/fields/4", `no field "nope"`},
		{"web_forms/bad.yaml", "/values/status", ""},
	} {
		found := false
		for _, p := range ps {
			found = found || (p.File == w.file && p.Path == w.path && strings.Contains(p.Message, w.msg))
		}
		if !found {
			t.Errorf("no problem at %s %s mentioning %q", w.file, w.path, w.msg)
		}
	}
	if t.Failed() {
		t.Logf("problems:\n%v", ps)
	}
}
