package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// Branch is one grant of record access as SQL over the object's table
// (one way a record may be reached), with what granted it.
type Branch struct {
	// Source is what grants: "scope", "sharing_rule" or "share".
	Source string
	// Reason says which role, scope, rule or share grants, for
	// explanations.
	Reason string
	// SQL is the condition with "?" placeholders; Args are its arguments.
	SQL  string
	Args []any
	// Probe, when set, is a query (with ProbeArgs) that returns a row
	// whenever the branch may select a record; when it returns none the
	// branch selects nothing (no record is shared with the user) and
	// Prune and Settle leave it out. It is also asked as EXISTS (Probe)
	// inside a reader's statement.
	Probe     string
	ProbeArgs []any
	// Owners, when set, is a query (with OwnersArgs) of the ids of the
	// owners whose records the branch reaches (a subtree of managers, a
	// department): SQL selects no record owned by anyone else, so a
	// reader may read the branch one owner at a time, each in the order
	// of an index that starts with owner_id.
	Owners     string
	OwnersArgs []any
}

// RecordRule is the record-level decision for one principal, object and
// action in its parts: every record (All), or the records that any of its
// branches selects. Predicate joins it into the one SQL condition every
// reader adds; Disjoint gives the same decision as branches that never
// select a record twice, so a list can read each branch in the order of
// its own index and merge the pages (a UNION ALL) instead of asking the
// database to evaluate an OR it cannot walk in index order.
type RecordRule struct {
	All      bool
	Branches []Branch
}

// Predicate returns the rule as one SQL condition: MatchAll for every
// record, MatchNone for none, the branch itself for one branch, and the
// OR of the branches otherwise.
func (r RecordRule) Predicate() (string, []any) {
	switch {
	case r.All:
		return MatchAll, nil
	case len(r.Branches) == 0:
		return MatchNone, nil
	case len(r.Branches) == 1:
		return r.Branches[0].SQL, r.Branches[0].Args
	}
	return orBranches(r.Branches)
}

// Disjoint returns the branches of the rule narrowed so that no record
// matches two of them: each branch after the first adds "(earlier
// branches) IS NOT TRUE" (a NULL in an earlier condition counts as not
// matching, as in a WHERE clause). The union of the records they select
// is the records Predicate selects. A rule of every record gives one
// branch with an empty SQL.
func (r RecordRule) Disjoint() []Branch {
	if r.All {
		return []Branch{{Source: "scope"}}
	}
	out := make([]Branch, len(r.Branches))
	for i, b := range r.Branches {
		out[i] = b
		if i == 0 {
			continue
		}
		prev, prevArgs := orBranches(r.Branches[:i])
		out[i].SQL = "(" + b.SQL + ") AND " + prev + " IS NOT TRUE"
		out[i].Args = append(append(make([]any, 0, len(b.Args)+len(prevArgs)), b.Args...), prevArgs...)
	}
	return out
}

// Probes returns the branches of the rule that have a probe, in their
// order: the answers Settle takes are about these.
func (r RecordRule) Probes() []Branch {
	var out []Branch
	for _, b := range r.Branches {
		if b.Probe != "" {
			out = append(out, b)
		}
	}
	return out
}

// Settle returns the rule without the probed branches whose probe found
// nothing: found holds one answer per branch of Probes, in order (a
// missing answer counts as found, so a short list never narrows the rule).
// A rule whose every branch is left out selects nothing (one MatchNone
// branch). A reader may ask the probes in the statement that reads the
// records (an EXISTS column beside them) and settle on their answers.
func (r RecordRule) Settle(found []bool) RecordRule {
	if r.All {
		return r
	}
	out := RecordRule{Branches: make([]Branch, 0, len(r.Branches))}
	i := 0
	for _, b := range r.Branches {
		if b.Probe != "" {
			keep := i >= len(found) || found[i]
			i++
			if !keep {
				continue
			}
		}
		out.Branches = append(out.Branches, b)
	}
	if len(out.Branches) == 0 {
		out.Branches = append(out.Branches, Branch{Source: "none", Reason: "no grant reaches a record", SQL: MatchNone})
	}
	return out
}

// Probe runs the probes of the rule (Probes) on q, one query each, and
// returns their answers for Settle.
func (r RecordRule) Probe(ctx context.Context, db *store.DB, q store.Querier) ([]bool, error) {
	if r.All {
		return nil, nil
	}
	var found []bool
	for _, b := range r.Probes() {
		var row any
		err := db.QueryRow(ctx, q, store.Rebind(db.Dialect, b.Probe), store.Args(db.Dialect, b.ProbeArgs)...).Scan(&row)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("access: probe %s: %w", b.Source, err)
		}
		found = append(found, err == nil)
	}
	return found, nil
}

// Prune returns the rule without the branches whose probe finds nothing
// on q: the records shared with a user who has no share of the object,
// say. They select no record, so a reader of branches apart (a list)
// leaves them out, and a rep without shares lists exactly the records of
// their scope, with one index read. A rule whose every branch is pruned
// selects nothing (one MatchNone branch). It is Probe and then Settle.
func (r RecordRule) Prune(ctx context.Context, db *store.DB, q store.Querier) (RecordRule, error) {
	found, err := r.Probe(ctx, db, q)
	if err != nil {
		return RecordRule{}, err
	}
	return r.Settle(found), nil
}

// orBranches joins branches with OR, in parentheses.
func orBranches(bs []Branch) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("(")
	for i, br := range bs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(" + br.SQL + ")")
		args = append(args, br.Args...)
	}
	b.WriteString(")")
	return b.String(), args
}

// subordinatesSQL selects the ids of a user and everyone below them in the
// manager hierarchy. UNION (not UNION ALL) ends the recursion even if the
// hierarchy had a cycle.
const subordinatesSQL = `WITH RECURSIVE crm_sub(id) AS (SELECT u.id FROM crm_users u WHERE u.id = ? UNION SELECT u.id FROM crm_users u JOIN crm_sub ON u.manager_id = crm_sub.id) SELECT crm_sub.id FROM crm_sub`

// departmentSQL selects the ids of the users of a department.
const departmentSQL = "SELECT u.id FROM crm_users u WHERE u.department = ?"

// RecordFilter returns the SQL predicate (with "?" placeholders) that
// selects the records p may act on with action: RecordRule joined into
// one condition (RecordRule.Predicate). Its columns (id, owner_id and the
// fields a sharing rule names) are qualified with the object's table
// name, as engine/query qualifies filters, so the query must have the
// table under its own name (no alias) in its FROM clause. When CanObject
// denies, it returns MatchNone and an error wrapping ErrDenied.
func (d *Decider) RecordFilter(ctx context.Context, p *Principal, object, action string) (string, []any, error) {
	r, err := d.RecordRule(ctx, p, object, action)
	if err != nil {
		return MatchNone, nil, err
	}
	sql, args := r.Predicate()
	return sql, args, nil
}

// RecordRule is the one record-level decision: the grants through which
// p may act on the records of object with action. Lists, counts,
// reports, exports, lookup searches and single-record reads (with "AND
// id = ?") all take their condition from it, joined (Predicate) or as
// disjoint branches (Disjoint).
//
// The branches are, in this order, the record scopes of p's roles and the
// roles they inherit for action (own: owner_id = the user; subordinates:
// owner in the user's manager subtree; team: owner in the user's
// department; all: every record), and, for read and update only, the
// sharing rules of those roles (read rules for read, edit rules for read
// and update) and the records shared with the user (read shares for read,
// edit shares for read and update). Sharing never grants delete or a
// named action: transfer (changing the owner, managing shares) reaches
// the records the user may update through a record scope, plus those of a
// transfer right; other named actions reach the records of their right's
// scope (every record for an administrator). When CanObject denies, or no
// grant applies, it returns an error wrapping ErrDenied. For create it
// returns every record: there is no record yet. The system principal
// reaches every record.
func (d *Decider) RecordRule(ctx context.Context, p *Principal, object, action string) (RecordRule, error) {
	if err := d.CanObject(p, object, action); err != nil {
		return RecordRule{}, err
	}
	if action == metadata.ActionCreate || p.System {
		return RecordRule{All: true}, nil
	}
	parts := d.memoParts(p, object, action)
	if len(parts) == 0 {
		return RecordRule{}, fmt.Errorf("%w: %s may not %s any %s record", ErrDenied, p.Username, action, object)
	}
	for _, pt := range parts {
		if pt.SQL == MatchAll {
			return RecordRule{All: true}, nil
		}
	}
	return RecordRule{Branches: parts}, nil
}

// maxMemoParts bounds the grants a Decider remembers (users × objects ×
// actions met since the metadata or the day changed); past it they are
// worked out again.
const maxMemoParts = 50000

// memoParts returns recordParts, remembered for the Decider's lifetime
// (its schema and day): the grants depend only on the principal's id,
// department and roles besides the object and action. Callers never
// change the branches they get (Settle, Prune and Disjoint copy them).
func (d *Decider) memoParts(p *Principal, object, action string) []Branch {
	roles := ""
	if len(p.Roles) == 1 {
		roles = p.Roles[0]
	} else if len(p.Roles) > 1 {
		roles = strings.Join(p.Roles, "\x00")
	}
	k := partsKey{object: object, action: action, user: p.UserID, department: p.Department, roles: roles}
	d.partsMu.RLock()
	parts, ok := d.parts[k]
	d.partsMu.RUnlock()
	if ok {
		return parts
	}
	parts = slices.Clip(d.recordParts(p, object, action))
	d.partsMu.Lock()
	if d.parts == nil || len(d.parts) >= maxMemoParts {
		d.parts = map[partsKey][]Branch{}
	}
	d.parts[k] = parts
	d.partsMu.Unlock()
	return parts
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
func (d *Decider) recordParts(p *Principal, object, action string) []Branch {
	scopes := map[metadata.RecordScope]string{} // scope → reason
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
		return []Branch{{Source: "scope", Reason: why, SQL: MatchAll}}
	}
	var parts []Branch
	whySub, hasSub := scopes[metadata.ScopeSubordinates]
	whyTeam, hasTeam := scopes[metadata.ScopeTeam]
	whyOwn, hasOwn := scopes[metadata.ScopeOwn]
	if hasSub {
		parts = append(parts, Branch{Source: "scope", Reason: whySub, SQL: d.inSubquery(col(object, "owner_id"), subordinatesSQL), Args: []any{p.UserID},
			Owners: subordinatesSQL, OwnersArgs: []any{p.UserID}})
	}
	teamPart := hasTeam && p.Department != ""
	if teamPart {
		parts = append(parts, Branch{Source: "scope", Reason: whyTeam,
			SQL: d.inSubquery(col(object, "owner_id"), departmentSQL), Args: []any{p.Department},
			Owners: departmentSQL, OwnersArgs: []any{p.Department}})
	}
	// Both the subtree and the department include the user, so own records
	// need their own part only when neither applies. A user without a
	// department reaches only their own records through a team scope.
	if !hasSub && !teamPart && (hasOwn || hasTeam) {
		if !hasOwn {
			whyOwn = whyTeam + "; the user has no department, so only own records"
		}
		parts = append(parts, Branch{Source: "scope", Reason: whyOwn, SQL: col(object, "owner_id") + " = ?", Args: []any{p.UserID}})
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
			parts = append(parts, Branch{Source: "sharing_rule",
				Reason: fmt.Sprintf("sharing rule %s of role %s (%s: %s)", sr.rule.Name, sr.role, sr.rule.Access, sr.rule.Condition),
				SQL:    sr.sql, Args: sr.args})
		}
	}
	parts = append(parts, d.shareBranch(p, action, object, "id", object, "record shared with the user"))
	// A detail is shared with its master (a quote's lines with the quote).
	for _, m := range d.masters[object] {
		parts = append(parts, d.shareBranch(p, action, object, m.field, m.object, fmt.Sprintf("its %s (%s) shared with the user", m.object, m.field)))
	}
	return parts
}

// shareBranch is the grant of the records of object whose column holds
// the id of a record of shared that is shared with p (for edit, when
// action is update), probed so that a user without such shares reads
// nothing more for it.
func (d *Decider) shareBranch(p *Principal, action, object, column, shared, reason string) Branch {
	shares := "SELECT s.record_id FROM crm_shares s WHERE s.user_id = ? AND s.object = ?"
	if action == metadata.ActionUpdate {
		shares += " AND s.access = 'edit'"
	}
	return Branch{Source: "share", Reason: reason, SQL: d.inSubquery(col(object, column), shares), Args: []any{p.UserID, shared},
		Probe: shares + " LIMIT 1", ProbeArgs: []any{p.UserID, shared}}
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
