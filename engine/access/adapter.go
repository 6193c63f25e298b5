package access

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/uptrace/bun"
)

//go:embed model.conf
var modelText string

// ModelText returns the Casbin model the package enforces.
func ModelText() string { return modelText }

// newModel parses the embedded Casbin model.
func newModel() (model.Model, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("access: casbin model: %w", err)
	}
	return m, nil
}

// Adapter is a Casbin persist.Adapter over the crm_casbin_rule table
// through bun. It works on the database or inside a transaction (conn: a
// *sql.Tx or a bun.Tx), so policy changes commit with the metadata change
// that caused them.
type Adapter struct {
	db   *bun.DB
	conn bun.IConn
	ctx  context.Context
}

var (
	_ persist.Adapter      = (*Adapter)(nil)
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter building its queries with db and running
// them on conn (a *sql.Tx or a bun.Tx value), or on db when conn is nil,
// with ctx.
func NewAdapter(ctx context.Context, db *bun.DB, conn bun.IConn) *Adapter {
	return &Adapter{db: db, conn: conn, ctx: ctx}
}

// LoadPolicy loads every rule of the table into m.
func (a *Adapter) LoadPolicy(m model.Model) error {
	var rows []ruleRow
	if err := a.db.NewSelect().Conn(a.conn).Model(&rows).Order("id").Scan(a.ctx); err != nil {
		return fmt.Errorf("access: load policy: %w", err)
	}
	for _, r := range rows {
		if r.Ptype == "" {
			continue
		}
		ast, err := m.GetAssertion(r.Ptype[:1], r.Ptype)
		if err != nil {
			return fmt.Errorf("access: load policy: rule %d: %w", r.ID, err)
		}
		vals := r.values()
		n := len(ast.Tokens)
		if n > len(vals) {
			return fmt.Errorf("access: load policy: rule %d of type %s has too few values", r.ID, r.Ptype)
		}
		line := append([]string{r.Ptype}, vals[:n]...)
		if err := persist.LoadPolicyArray(line, m); err != nil {
			return fmt.Errorf("access: load policy: rule %d: %w", r.ID, err)
		}
	}
	return nil
}

// SavePolicy replaces every rule of the table with the rules of m.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rows []ruleRow
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				r, err := newRuleRow(ptype, rule)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
		}
	}
	if _, err := a.db.NewDelete().Conn(a.conn).Model((*ruleRow)(nil)).Where("1 = 1").Exec(a.ctx); err != nil {
		return fmt.Errorf("access: save policy: %w", err)
	}
	return a.insert(rows)
}

// insert writes rows in batches.
func (a *Adapter) insert(rows []ruleRow) error {
	const batch = 200
	for i := 0; i < len(rows); i += batch {
		end := min(i+batch, len(rows))
		chunk := rows[i:end]
		if _, err := a.db.NewInsert().Conn(a.conn).Model(&chunk).Exec(a.ctx); err != nil {
			return fmt.Errorf("access: save policy: %w", err)
		}
	}
	return nil
}

// AddPolicy adds one rule.
func (a *Adapter) AddPolicy(sec, ptype string, rule []string) error {
	return a.AddPolicies(sec, ptype, [][]string{rule})
}

// AddPolicies adds several rules.
func (a *Adapter) AddPolicies(sec, ptype string, rules [][]string) error {
	rows := make([]ruleRow, 0, len(rules))
	for _, rule := range rules {
		r, err := newRuleRow(ptype, rule)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return a.insert(rows)
}

// RemovePolicy removes the rules equal to rule.
func (a *Adapter) RemovePolicy(sec, ptype string, rule []string) error {
	r, err := newRuleRow(ptype, rule)
	if err != nil {
		return err
	}
	q := a.db.NewDelete().Conn(a.conn).Model((*ruleRow)(nil)).Where("ptype = ?", ptype)
	for i, v := range r.values() {
		q = q.Where("? = ?", bun.Ident(fmt.Sprintf("v%d", i)), v)
	}
	if _, err := q.Exec(a.ctx); err != nil {
		return fmt.Errorf("access: remove policy: %w", err)
	}
	return nil
}

// RemovePolicies removes several rules.
func (a *Adapter) RemovePolicies(sec, ptype string, rules [][]string) error {
	for _, rule := range rules {
		if err := a.RemovePolicy(sec, ptype, rule); err != nil {
			return err
		}
	}
	return nil
}

// RemoveFilteredPolicy removes the rules whose values from fieldIndex on
// equal fieldValues; an empty value matches anything.
func (a *Adapter) RemoveFilteredPolicy(sec, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return fmt.Errorf("access: remove filtered policy: field index %d out of range", fieldIndex)
	}
	q := a.db.NewDelete().Conn(a.conn).Model((*ruleRow)(nil)).Where("ptype = ?", ptype)
	for i, v := range fieldValues {
		if v == "" {
			continue
		}
		q = q.Where("? = ?", bun.Ident(fmt.Sprintf("v%d", fieldIndex+i)), v)
	}
	if _, err := q.Exec(a.ctx); err != nil {
		return fmt.Errorf("access: remove filtered policy: %w", err)
	}
	return nil
}

// newRuleRow builds a row from a rule of at most six values.
func newRuleRow(ptype string, rule []string) (ruleRow, error) {
	if len(rule) > 6 {
		return ruleRow{}, fmt.Errorf("access: policy rule %v has more than 6 values", rule)
	}
	var v [6]string
	copy(v[:], rule)
	return ruleRow{Ptype: ptype, V0: v[0], V1: v[1], V2: v[2], V3: v[3], V4: v[4], V5: v[5]}, nil
}

// values returns the six values of the row.
func (r *ruleRow) values() []string {
	return []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
}
