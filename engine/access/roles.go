package access

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Sharing-rule and manual-share access levels.
const (
	ShareRead = "read"
	ShareEdit = "edit"
)

// Rule is one Casbin rule as stored: its type ("p" or "g") and values.
// A "p" rule is role, object (or object.field, or "*"), act (an action or
// a field level) and scope (the record scope of an action, empty for a
// field level). A "g" rule is parent role, child role: the parent has
// every right of the child.
type Rule struct {
	Ptype  string   `json:"ptype"`
	Values []string `json:"values"`
}

// RoleInfo is a role as the last SyncRoles stored it.
type RoleInfo struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Parent      string         `json:"parent,omitempty"`
	Description string         `json:"description,omitempty"`
}

var (
	validScopes = []metadata.RecordScope{metadata.ScopeOwn, metadata.ScopeSubordinates, metadata.ScopeTeam, metadata.ScopeAll}
	validLevels = []metadata.FieldLevel{metadata.FieldHidden, metadata.FieldReadOnly, metadata.FieldEditable}
)

// joinNames lists names, comma separated.
func joinNames[T ~string](names []T) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

// CompilePolicies turns the roles of s into Casbin rules: for every
// permission one "p" rule per action carrying its record scope, one "p"
// rule per field of the object with its level (fields not named are
// editable when the permission allows create or update, read-only
// otherwise), and a "g" rule per parent. A permission on "*" becomes
// rules on "*" that match every object and field. It refuses a name with
// "$$", an unknown object, field, action, scope, level or parent, and a
// sharing rule whose condition does not compile (when compile is not nil).
func CompilePolicies(s *metadata.Schema, compile ConditionCompiler) ([]Rule, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	roles := map[string]bool{}
	for _, r := range s.Roles {
		roles[r.Name] = true
	}
	var rules []Rule
	seen := map[string]bool{}
	add := func(ptype string, vals ...string) {
		key := ptype + "\x00" + strings.Join(vals, "\x00")
		if seen[key] {
			return
		}
		seen[key] = true
		rules = append(rules, Rule{Ptype: ptype, Values: vals})
	}
	for _, r := range s.Roles {
		if err := metadata.ValidIdentifier(r.Name); err != nil || strings.Contains(r.Name, "$$") {
			bad("role %q: invalid role name", r.Name)
			continue
		}
		if r.Parent != "" {
			if !roles[r.Parent] {
				bad("role %q: unknown parent role %q", r.Name, r.Parent)
			} else {
				add("g", r.Parent, r.Name)
			}
		}
		for i, perm := range r.Permissions {
			where := fmt.Sprintf("role %q permission %d (%s)", r.Name, i, perm.Object)
			scope := perm.Records
			if scope == "" {
				scope = metadata.ScopeOwn
			}
			if !slices.Contains(validScopes, scope) {
				bad("%s: unknown record scope %q (one of %s)", where, scope, joinNames(validScopes))
				continue
			}
			writes := false
			for _, a := range perm.Actions {
				if !metadata.IsAction(a) {
					bad("%s: unknown action %q (one of %s)", where, a, strings.Join(metadata.Actions(), ", "))
				}
				writes = writes || a == metadata.ActionCreate || a == metadata.ActionUpdate
			}
			def := metadata.FieldReadOnly
			if writes {
				def = metadata.FieldEditable
			}
			if perm.Object == "*" {
				if len(perm.Fields) > 0 {
					bad("%s: field rights need a named object", where)
				}
				for _, a := range perm.Actions {
					add("p", r.Name, "*", a, string(scope))
				}
				add("p", r.Name, "*", string(def), "")
				continue
			}
			obj, ok := s.Object(perm.Object)
			if !ok || strings.Contains(perm.Object, "$$") {
				bad("%s: unknown object %q", where, perm.Object)
				continue
			}
			for _, a := range perm.Actions {
				add("p", r.Name, obj.Name, a, string(scope))
			}
			for name, level := range perm.Fields {
				if _, ok := obj.Field(name); !ok && name != metadata.OwnerField {
					bad("%s: no field %q in object %q", where, name, obj.Name)
				}
				if !slices.Contains(validLevels, level) {
					bad("%s: field %q: unknown level %q (one of %s)", where, name, level, joinNames(validLevels))
				}
			}
			for _, name := range append(fieldNames(obj), metadata.OwnerField) {
				level, ok := perm.Fields[name]
				if !ok {
					level = def
				} else if level == metadata.FieldEditable && !writes {
					level = metadata.FieldReadOnly
				}
				add("p", r.Name, obj.Name+"."+name, string(level), "")
			}
		}
		for i, sr := range r.SharingRules {
			where := fmt.Sprintf("role %q sharing rule %d (%s)", r.Name, i, sr.Name)
			obj, ok := s.Object(sr.Object)
			if !ok {
				bad("%s: unknown object %q", where, sr.Object)
				continue
			}
			if sr.Access != ShareRead && sr.Access != ShareEdit {
				bad("%s: access %q must be read or edit", where, sr.Access)
			}
			if compile != nil && strings.TrimSpace(sr.Condition) != "" {
				if _, _, err := compile(sr.Condition, obj, s); err != nil {
					bad("%s: condition: %v", where, err)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// rolesHeld refuses a schema that drops a role some user still holds,
// read in the transaction that applies it, so no user is left with a role
// that no longer exists.
func rolesHeld(ctx context.Context, db *bun.DB, conn bun.IConn, sc *metadata.Schema) error {
	defined := map[string]bool{}
	for _, r := range sc.Roles {
		defined[r.Name] = true
	}
	var users []userRow
	if err := db.NewSelect().Conn(conn).Model(&users).Column("username", "roles").Scan(ctx); err != nil {
		return fmt.Errorf("access: roles held: %w", err)
	}
	for _, u := range users {
		for _, r := range decodeRoles(u.Roles) {
			if !defined[r] {
				return fmt.Errorf("%w: user %q holds role %q; change their roles first", ErrRoleInUse, u.Username, r)
			}
		}
	}
	return nil
}

// policyModel is the Casbin model holding the policies compiled from the
// roles of sc.
func (s *Service) policyModel(sc *metadata.Schema) (model.Model, error) {
	rules, err := CompilePolicies(sc, s.compiler)
	if err != nil {
		return nil, err
	}
	m, err := newModel()
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.Values...), m); err != nil {
			return nil, fmt.Errorf("access: policies: %w", err)
		}
	}
	return m, nil
}

// SyncRoles replaces the stored policies and role list with those compiled
// from the roles of sc (see CompilePolicies), through the Casbin adapter on
// conn, and bumps the policy version. Call it inside the transaction that
// applies a metadata change (conn a *sql.Tx or a bun.Tx value; nil runs
// on the database without a transaction), so policies and metadata commit
// together. ApplySchema is the same with the engine's SchemaHook
// signature.
func (s *Service) SyncRoles(ctx context.Context, conn bun.IConn, sc *metadata.Schema) error {
	if sc == nil {
		return fmt.Errorf("access: sync roles: no schema")
	}
	db := s.db.DB
	m, err := s.policyModel(sc)
	if err != nil {
		return fmt.Errorf("access: sync roles: %w", err)
	}
	if err := rolesHeld(ctx, db, conn, sc); err != nil {
		return err
	}
	if err := NewAdapter(ctx, db, conn).SavePolicy(m); err != nil {
		return err
	}
	if _, err := db.NewDelete().Conn(conn).Model((*roleRow)(nil)).Where("1 = 1").Exec(ctx); err != nil {
		return fmt.Errorf("access: sync roles: %w", err)
	}
	if len(sc.Roles) > 0 {
		rows := make([]roleRow, 0, len(sc.Roles))
		for _, r := range sc.Roles {
			label, _ := json.Marshal(r.Label)
			rows = append(rows, roleRow{Name: r.Name, Label: string(label), Parent: r.Parent, Description: r.Description})
		}
		if _, err := db.NewInsert().Conn(conn).Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("access: sync roles: %w", err)
		}
	}
	return bumpVersion(ctx, db, conn)
}

// ApplySchema syncs the roles of sc inside tx: the engine registers it
// with OnSchemaApplied so every metadata change rewrites the policies in
// its own transaction.
func (s *Service) ApplySchema(ctx context.Context, tx *sql.Tx, sc *metadata.Schema) error {
	return s.SyncRoles(ctx, tx, sc)
}

// Roles returns the roles the last SyncRoles stored, by name.
func (s *Service) Roles(ctx context.Context) ([]RoleInfo, error) {
	var rows []roleRow
	if err := s.db.NewSelect().Model(&rows).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("access: list roles: %w", err)
	}
	out := make([]RoleInfo, len(rows))
	for i, r := range rows {
		out[i] = RoleInfo{Name: r.Name, Parent: r.Parent, Description: r.Description}
		_ = json.Unmarshal([]byte(r.Label), &out[i].Label)
	}
	return out, nil
}

// StoredRules returns the stored Casbin rules of a role (the rules whose
// first value is role), or all rules when role is empty, in a stable order.
func (s *Service) StoredRules(ctx context.Context, role string) ([]Rule, error) {
	var rows []ruleRow
	q := s.db.NewSelect().Model(&rows).Order("id")
	if role != "" {
		q = q.Where("v0 = ?", role)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("access: list rules: %w", err)
	}
	out := make([]Rule, 0, len(rows))
	for _, r := range rows {
		n := 4
		if r.Ptype == "g" {
			n = 2
		}
		out = append(out, Rule{Ptype: r.Ptype, Values: r.values()[:n]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ptype > out[j].Ptype })
	return out, nil
}

// fieldNames lists the names of the fields of obj.
func fieldNames(obj *metadata.Object) []string {
	out := make([]string, len(obj.Fields))
	for i, f := range obj.Fields {
		out[i] = f.Name
	}
	return out
}
