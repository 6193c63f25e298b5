package formulas

import (
	"maps"
	"strings"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// schemaOf builds a validated schema from object documents.
func schemaOf(t testing.TB, docs ...string) *metadata.Schema {
	t.Helper()
	s := &metadata.Schema{}
	for i, d := range docs {
		o, ps := metadata.ParseObject("doc", []byte(d))
		if len(ps) > 0 {
			t.Fatalf("doc %d: %v", i, ps)
		}
		s.Objects = append(s.Objects, o)
		s.SetSource(metadata.DocObject, o.Name, o.Name+".yaml")
	}
	if ps := metadata.Validate(s); len(ps) > 0 {
		t.Fatalf("validate: %v", ps)
	}
	return s
}

const docAccount = `
name: account
fields:
  - {name: name, type: text}
  - {name: parent, type: lookup, target: account, on_delete: set_null}
  - {name: rate, type: decimal}
  - {name: credit_limit, type: currency}
`

// docDeal is an object whose fields the table below gives formulas to.
func docDeal(extra string) string {
	return `
name: deal
fields:
  - {name: name, type: text}
  - {name: account, type: lookup, target: account}
  - {name: amount, type: currency}
  - {name: qty, type: integer}
  - {name: close_date, type: date}
  - {name: stage, type: picklist, options: [{value: open, probability: 10, colour: red}, {value: won, probability: 100, colour: green}]}
` + extra
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, extra string
		path, want  string
	}{
		{"unknown field", `  - {name: x, type: currency, formula: "amout * 2"}`, "/fields/6/formula", "line 1, column 1: unknown name amout"},
		{"text compared to number", `  - {name: x, type: boolean, formula: "name > 5"}`, "/fields/6/formula", "line 1, column 6: invalid operation: > (mismatched types string and int)"},
		{"position on a later line", "  - {name: x, type: currency, formula: \"amount +\\n  amount * nme\"}", "/fields/6/formula", "line 2, column 12: unknown name nme"},
		{"integer gets text", `  - {name: x, type: integer, formula: "name"}`, "/fields/6/formula", "gives text but field x is an integer"},
		{"integer gets a fraction", `  - {name: x, type: integer, formula: "qty / 2"}`, "/fields/6/formula", "gives number but field x is an integer"},
		{"boolean gets a number", `  - {name: x, type: boolean, formula: "amount"}`, "/fields/6/formula", "gives number but field x is true or false"},
		{"date gets text", `  - {name: x, type: date, formula: "name"}`, "/fields/6/formula", "gives text but field x is a date"},
		{"text gets a date", `  - {name: x, type: text, formula: "close_date"}`, "/fields/6/formula", "gives date but field x is text"},
		{"default reads a roll-up", "  - {name: previous, type: lookup, target: deal, on_delete: set_null}\n  - {name: x, type: integer, default_formula: \"count(deal)\"}", "/fields/7/default_formula", "line 1, column 1: a roll-up can be used only in a computed field or a validation rule"},
		{"vlookup in a computed field", `  - {name: x, type: currency, formula: 'vlookup("account", "credit_limit", "name", name)'}`, "/fields/6/formula", "line 1, column 1: vlookup can be used only in a default formula"},
		{"vlookup of no object", `  - {name: x, type: currency, default_formula: 'vlookup("nope", "credit_limit", "name", name)'}`, "/fields/6/default_formula", "line 1, column 9: no object nope"},
		{"vlookup of no field", `  - {name: x, type: currency, default_formula: 'vlookup("account", "limit", "name", name)'}`, "/fields/6/default_formula", "account has no field limit that vlookup can give"},
		{"vlookup by a number", `  - {name: x, type: text, default_formula: 'vlookup("account", "name", "rate", qty)'}`, "/fields/6/default_formula", "account has no text, picklist or lookup field rate to match"},
		{"vlookup of another kind", `  - {name: x, type: currency, default_formula: 'vlookup("account", "credit_limit", "parent", name)'}`, "/fields/6/default_formula", "the value of account.parent is a field of deal (or of a record a lookup points to) of the same kind"},
		{"vlookup without a value", `  - {name: x, type: currency, default_formula: 'vlookup("account", "credit_limit", "name")'}`, "/fields/6/default_formula", "vlookup takes an object, one of its fields, then pairs"},
		{"vlookup gives its field's type", `  - {name: x, type: text, default_formula: 'vlookup("account", "credit_limit", "name", name)'}`, "/fields/6/default_formula", "gives number but field x is text"},
		{"default type", `  - {name: x, type: date, default_formula: "30"}`, "/fields/6/default_formula", "gives integer but field x is a date"},
		{"unknown lookup field", `  - {name: x, type: text, formula: "account.nme"}`, "/fields/6/formula", "line 1, column 9: unknown field nme"},
		{"too many lookups", `  - {name: x, type: text, formula: "account.parent.parent.parent.name"}`, "/fields/6/formula", "line 1, column 30: unknown field name"},
		{"option of a text field", `  - {name: x, type: decimal, formula: "option(name).probability"}`, "/fields/6/formula", "line 1, column 8: option takes a picklist field of deal"},
		{"unknown option attribute", `  - {name: x, type: decimal, formula: "option(stage).weight"}`, "/fields/6/formula", "line 1, column 15: unknown field weight"},
		{"option attribute type", `  - {name: x, type: decimal, formula: "option(stage).colour * 2"}`, "/fields/6/formula", "mismatched types string and int"},
		{"label language", `  - {name: x, type: text, formula: "label(stage, name)"}`, "/fields/6/formula", "quoted code"},
		{"roll-up of text", `  - {name: x, type: decimal, formula: "sum(deal, name)"}`, "/fields/6/formula", "no lookup to deal"},
		{"function misuse", `  - {name: x, type: date, formula: "add_days(close_date, name)"}`, "/fields/6/formula", "cannot use string as argument (type int) to call add_days"},
		{"rule not boolean", ``, "/validation_rules/0/condition", "a condition must be true or false, not float64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := docDeal(tt.extra)
			if tt.name == "rule not boolean" {
				doc += "validation_rules:\n  - {name: r, condition: \"amount\", message: oops}\n"
			}
			s := schemaOf(t, docAccount, doc)
			c, ps := CompileSchema(s)
			if c != nil || len(ps) == 0 {
				t.Fatalf("compiled without problems")
			}
			p := ps[0]
			if p.Path != tt.path || !strings.Contains(p.Message, tt.want) || p.File != "deal.yaml" {
				t.Fatalf("got %s, want deal.yaml: %s: …%s…", p, tt.path, tt.want)
			}
			if !strings.Contains(ps.Error(), tt.path) {
				t.Fatalf("Problems.Error() lacks the path: %v", ps)
			}
		})
	}
}

func TestRollupErrors(t *testing.T) {
	tests := []struct {
		name, formula, want string
	}{
		{"sum of text", `sum(deal, name)`, "line 1, column 11: sum needs a number field; deal.name is text"},
		{"min of picklist", `min(deal, stage)`, "min needs a number or date field"},
		{"not a lookup", `count(deal.name)`, "deal.name is not a lookup to account"},
		{"condition on a lookup", `count(deal, account.name == "x")`, "can read only fields of deal itself"},
		{"condition not boolean", `count(deal, amount)`, "must be true or false"},
		{"condition unknown field", `count(deal, stag == "won")`, "line 1, column 13: unknown name stag"},
		{"too many arguments", `count(deal, stage == "won", 1)`, "count takes the child and optionally a condition"},
		{"no value field", `sum(deal)`, "sum takes the child, a field of it"},
		{"where outside a roll-up", `credit_limit where 1`, "line 1, column 14: where belongs after the child of a roll-up"},
		{"where with a bad condition", `sum(deals where stag == 1, amount)`, "line 1, column 17: unknown name stag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := docAccount + "  - {name: x, type: decimal, formula: '" + tt.formula + "'}\n"
			s := schemaOf(t, acc, docDeal(""))
			_, ps := CompileSchema(s)
			if len(ps) == 0 || !strings.Contains(ps[0].Message, tt.want) || ps[0].Path != "/fields/4/formula" {
				t.Fatalf("got %v, want …%s…", ps, tt.want)
			}
		})
	}
}

// TestRollupWhole checks which roll-ups are the whole formula of their
// field (RollupSpec.Whole): only those may be kept up by each child's
// share, since only their field stores the aggregate itself.
func TestRollupWhole(t *testing.T) {
	acc := docAccount + `  - {name: deals, type: integer, formula: 'count(deal)'}
  - {name: won, type: currency, formula: 'sum(deal where stage == "won", amount)'}
  - {name: deals_plus_one, type: integer, formula: 'count(deal) + 1'}
  - {name: share, type: decimal, formula: 'sum(deal, amount) / max(credit_limit, 1)'}
validation_rules:
  - {name: few_deals, condition: 'count(deal) > 100', message: {en: too many deals}}
`
	c, ps := CompileSchema(schemaOf(t, acc, docDeal("")))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	got := map[string]bool{}
	for _, s := range c.Rollups() {
		name := s.Field
		if s.Rule != "" {
			name = "rule " + s.Rule
		}
		got[name] = s.Whole
	}
	want := map[string]bool{"deals": true, "won": true, "deals_plus_one": false, "share": false, "rule few_deals": false}
	if !maps.Equal(got, want) {
		t.Fatalf("whole roll-ups %v, want %v", got, want)
	}
}

func TestAmbiguousRollup(t *testing.T) {
	acc := docAccount + "  - {name: x, type: integer, formula: 'count(deal)'}\n  - {name: y, type: integer, formula: 'count(deal.second, qty > 1)'}\n"
	deal := docDeal("  - {name: second, type: lookup, target: account}\n")
	_, ps := CompileSchema(schemaOf(t, acc, deal))
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "several lookups to account (account, second): write deal.account") {
		t.Fatalf("got %v", ps)
	}
}

func TestCycles(t *testing.T) {
	tests := []struct {
		name, account, deal, want string
	}{
		{"self", "", `  - {name: a, type: decimal, formula: "a + 1"}`, "deal.a → deal.a"},
		{"two fields", "", "  - {name: a, type: decimal, formula: \"b + 1\"}\n  - {name: b, type: decimal, formula: \"a * 2\"}", "deal.a → deal.b → deal.a"},
		{"three fields", "", "  - {name: a, type: decimal, formula: \"b + 1\"}\n  - {name: b, type: decimal, formula: \"c\"}\n  - {name: c, type: decimal, formula: \"a\"}", "deal.a → deal.b → deal.c → deal.a"},
		{"through a roll-up and a lookup",
			"  - {name: total, type: decimal, formula: 'sum(deal, share)'}",
			`  - {name: share, type: decimal, formula: "amount * account.total"}`,
			"account.total → deal.share → account.total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := schemaOf(t, docAccount+tt.account+"\n", docDeal(tt.deal+"\n"))
			_, ps := CompileSchema(s)
			if len(ps) != 1 || !strings.Contains(ps[0].Message, "cycle: "+tt.want) {
				t.Fatalf("got %v, want the cycle %s", ps, tt.want)
			}
			if !strings.HasSuffix(ps[0].Path, "/formula") {
				t.Fatalf("path %s", ps[0].Path)
			}
		})
	}
}

func TestMaxNodes(t *testing.T) {
	s := schemaOf(t, docAccount, docDeal(""))
	deal, _ := s.Object("deal")
	deal.Fields = append(deal.Fields, &metadata.Field{Name: "x", Type: "decimal", Formula: strings.Repeat("amount + ", 600) + "1"})
	_, ps := CompileSchema(s)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "exceeds maximum allowed nodes") {
		t.Fatalf("got %v", ps)
	}
}

func TestAllProblemsReported(t *testing.T) {
	deal := docDeal("  - {name: x, type: decimal, formula: \"nope\"}\n  - {name: y, type: text, formula: \"1\"}\nvalidation_rules:\n  - {name: r, condition: \"qty > name\", message: bad}\n")
	_, ps := CompileSchema(schemaOf(t, docAccount, deal))
	if len(ps) != 3 {
		t.Fatalf("want 3 problems, got %v", ps)
	}
}

func TestStandardTemplateCompiles(t *testing.T) {
	c := mustCompile(t, loadSchema(t))
	if got := strings.Join(c.Object("opportunity").ComputedFields(), ","); !strings.HasPrefix(got, "weighted,net,") {
		t.Fatalf("computed fields are not in dependency order: %s", got)
	}
	if got := strings.Join(c.Object("account").ComputedFields(), ","); !strings.HasSuffix(got, "headroom") {
		t.Fatalf("account order: %s", got)
	}
}

func TestWhereInsideTextStaysText(t *testing.T) {
	acc := docAccount + "  - {name: x, type: integer, formula: 'count(deals where name == \" where \")'}\n"
	c := mustCompile(t, schemaOf(t, acc, docDeal("")))
	specs := c.RollupsOnChild("deal")
	if len(specs) != 1 || specs[0].Condition != `name == " where "` {
		t.Fatalf("got %+v", specs)
	}
}
