package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Predicates RecordFilter returns besides real conditions.
const (
	// MatchAll is the predicate of a principal who may reach every record.
	MatchAll = "1=1"
	// MatchNone is the predicate returned with an error: it matches no
	// record, so a caller that ignores the error still leaks nothing.
	MatchNone = "1=0"
)

// part is one reason a record may be reached, as SQL over the object's
// table, with what granted it.
type part struct {
	source string // "scope", "sharing_rule", "share"
	reason string
	sql    string
	args   []any
}

// subordinatesSQL selects the ids of a user and everyone below them in the
// manager hierarchy. UNION (not UNION ALL) ends the recursion even if the
// hierarchy had a cycle.
const subordinatesSQL = `WITH RECURSIVE crm_sub(id) AS (SELECT u.id FROM crm_users u WHERE u.id = ? UNION SELECT u.id FROM crm_users u JOIN crm_sub ON u.manager_id = crm_sub.id) SELECT crm_sub.id FROM crm_sub`

// RecordFilter returns the SQL predicate (with "?" placeholders) that
// selects the records p may act on with action. Its columns (id, owner_id
// and the fields a sharing rule names) are qualified with the object's
// table name, as engine/query qualifies filters, so the query must have
// the table under its own name (no alias) in its FROM clause.
// It is the one record-level decision: lists, counts, reports, exports,
// lookup searches and single-record reads (with "AND id = ?") add it to
// their WHERE clause.
//
// The predicate is the OR of the record scopes of p's roles and the roles
// they inherit for action (own: owner_id = the user; subordinates: owner in
// the user's manager subtree; team: owner in the user's department; all:
// MatchAll), and, for read and update only, of the sharing rules of those
// roles (read rules for read, edit rules for read and update) and of the
// records shared with the user (read shares for read, edit shares for read
// and update). Sharing never grants delete or a named action: transfer
// (changing the owner, managing shares) reaches the records the user may
// update through a record scope, plus those of a transfer right; other
// named actions reach the records of their right's scope (every record
// for an administrator). When CanObject denies, it returns MatchNone and an
// error wrapping ErrDenied. For create it returns MatchAll: there is no
// record yet. The system principal reaches every record.
func (d *Decider) RecordFilter(ctx context.Context, p *Principal, object, action string) (string, []any, error) {
	if err := d.CanObject(p, object, action); err != nil {
		return MatchNone, nil, err
	}
	if action == metadata.ActionCreate || p.System {
		return MatchAll, nil, nil
	}
	parts := d.recordParts(p, object, action)
	if len(parts) == 0 {
		return MatchNone, nil, fmt.Errorf("%w: %s may not %s any %s record", ErrDenied, p.Username, action, object)
	}
	var b strings.Builder
	var args []any
	for i, pt := range parts {
		if pt.sql == MatchAll {
			return MatchAll, nil, nil
		}
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(" + pt.sql + ")")
		args = append(args, pt.args...)
	}
	if len(parts) == 1 {
		return parts[0].sql, parts[0].args, nil
	}
	return "(" + b.String() + ")", args, nil
}

// scopeActions lists the actions whose record scopes reach the records of
// action: transfer reaches what update reaches through a scope, too.
func scopeActions(action string) []string {
	if action == metadata.ActionTransfer {
		return []string{metadata.ActionTransfer, metadata.ActionUpdate}
	}
	return []string{action}
}

// recordParts lists every grant of record access of p on object for
// action (not create), the scope grants first.
func (d *Decider) recordParts(p *Principal, object, action string) []part {
	scopes := map[string]string{} // scope → reason
	for _, r := range p.Roles {
		if !metadata.IsRecordOperation(action) && d.isAdminRole(r) {
			scopes[metadata.ScopeAll] = fmt.Sprintf("role %s administers: every named action on every record", r)
			break
		}
		g := d.grantsOf(r)
		for _, act := range scopeActions(action) {
			for _, obj := range []string{object, "*"} {
				for _, sg := range g.scopes[obj][act] {
					if _, ok := scopes[sg.scope]; !ok {
						scopes[sg.scope] = fmt.Sprintf("record scope %s of role %s (policy %s)", sg.scope, sg.policy[1], joinRule(sg.policy))
					}
				}
			}
		}
	}
	if why, ok := scopes[metadata.ScopeAll]; ok {
		return []part{{source: "scope", reason: why, sql: MatchAll}}
	}
	var parts []part
	whySub, hasSub := scopes[metadata.ScopeSubordinates]
	whyTeam, hasTeam := scopes[metadata.ScopeTeam]
	whyOwn, hasOwn := scopes[metadata.ScopeOwn]
	if hasSub {
		parts = append(parts, part{source: "scope", reason: whySub, sql: d.inSubquery(col(object, "owner_id"), subordinatesSQL), args: []any{p.UserID}})
	}
	teamPart := hasTeam && p.Department != ""
	if teamPart {
		parts = append(parts, part{source: "scope", reason: whyTeam,
			sql: d.inSubquery(col(object, "owner_id"), "SELECT u.id FROM crm_users u WHERE u.department = ?"), args: []any{p.Department}})
	}
	// Both the subtree and the department include the user, so own records
	// need their own part only when neither applies. A user without a
	// department reaches only their own records through a team scope.
	if !hasSub && !teamPart && (hasOwn || hasTeam) {
		if !hasOwn {
			whyOwn = whyTeam + "; the user has no department, so only own records"
		}
		parts = append(parts, part{source: "scope", reason: whyOwn, sql: col(object, "owner_id") + " = ?", args: []any{p.UserID}})
	}
	if action != metadata.ActionRead && action != metadata.ActionUpdate {
		return parts
	}
	for _, role := range d.EffectiveRoles(p) {
		for _, sr := range d.sharing[object] {
			if sr.role != role || sr.err != nil {
				continue
			}
			if action == metadata.ActionUpdate && sr.rule.Access != ShareEdit {
				continue
			}
			parts = append(parts, part{source: "sharing_rule",
				reason: fmt.Sprintf("sharing rule %s of role %s (%s: %s)", sr.rule.Name, sr.role, sr.rule.Access, sr.rule.Condition),
				sql:    sr.sql, args: sr.args})
		}
	}
	shareSQL := d.inSubquery(col(object, "id"), "SELECT s.record_id FROM crm_shares s WHERE s.user_id = ? AND s.object = ?")
	if action == metadata.ActionUpdate {
		shareSQL = d.inSubquery(col(object, "id"), "SELECT s.record_id FROM crm_shares s WHERE s.user_id = ? AND s.object = ? AND s.access = 'edit'")
	}
	parts = append(parts, part{source: "share", reason: "record shared with the user", sql: shareSQL, args: []any{p.UserID, object}})
	return parts
}

// col quotes the column of the object's table, qualified by the table.
func col(object, column string) string {
	return store.Ident(object) + "." + store.Ident(column)
}

// CanRecord returns nil when p may do action on the record id of object:
// CanObject and the record filter, checked against the database. A record
// that does not exist and one out of reach give the same error wrapping
// ErrDenied, so existence does not leak.
func (d *Decider) CanRecord(ctx context.Context, p *Principal, object, action, id string) error {
	pred, args, err := d.RecordFilter(ctx, p, object, action)
	if err != nil {
		return err
	}
	db := d.svc.db
	q := store.Rebind(db.Dialect, "SELECT 1 FROM "+store.Ident(object)+" WHERE "+col(object, "id")+" = ? AND ("+pred+")")
	var one int
	err = db.DB.DB.QueryRowContext(ctx, q, store.Args(db.Dialect, append([]any{id}, args...))...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s may not %s %s %s", ErrDenied, p.Username, action, object, id)
	}
	if err != nil {
		return fmt.Errorf("access: check record: %w", err)
	}
	return nil
}

// inSubquery is "column IN (subquery)". On PostgreSQL it is written
// column = ANY(ARRAY(subquery)): the subquery then runs once as an init
// plan and the comparison can use the column's index, so an OR of record
// grants becomes a bitmap OR of index scans instead of a sequential scan
// with hashed subplans. SQLite plans IN (subquery) as an index search
// already (MULTI-INDEX OR).
func (d *Decider) inSubquery(column, subquery string) string {
	if d.svc.db.Dialect == metadata.DialectPostgres {
		return column + " = ANY(ARRAY(" + subquery + "))"
	}
	return column + " IN (" + subquery + ")"
}
