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

// Explanation says whether a user may read and edit an object, a record
// and a field, and which policy or rule decided. It answers
// GET /api/access/explain.
type Explanation struct {
	User           string   `json:"user"`
	UserID         string   `json:"user_id"`
	Active         bool     `json:"active"`
	Roles          []string `json:"roles"`
	EffectiveRoles []string `json:"effective_roles"`
	Object         string   `json:"object"`
	RecordID       string   `json:"record_id,omitempty"`
	Field          string   `json:"field,omitempty"`
	// FieldLevel is the user's level on Field (hidden, read_only, editable).
	FieldLevel metadata.FieldLevel `json:"field_level,omitempty"`
	Read       Verdict             `json:"read"`
	Edit       Verdict             `json:"edit"`
	// PolicyVersion is the policy version the answer was computed at.
	PolicyVersion int64 `json:"policy_version"`
}

// Verdict is one decision with the reasons for it, object level first,
// then record level, then field level.
type Verdict struct {
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons"`
}

// Explain explains the decisions for the user named username on object,
// and, when given, on the record recordID and the field. It reads the
// object's table (named like the object) to find which record rule
// matched.
func (d *Decider) Explain(ctx context.Context, username, object, recordID, field string) (*Explanation, error) {
	row, err := findUser(ctx, d.svc.db.DB, username)
	if err != nil {
		return nil, err
	}
	obj, ok := d.schema.Object(object)
	if !ok {
		return nil, fmt.Errorf("%w: unknown object %q", ErrInvalid, object)
	}
	if field != "" {
		if _, ok := obj.FieldOrSystem(field); !ok {
			return nil, fmt.Errorf("%w: no field %q in object %q", ErrInvalid, field, object)
		}
	}
	version, err := d.svc.PolicyVersion(ctx)
	if err != nil {
		return nil, err
	}
	u := rowToUser(row)
	p := u.Principal()
	ex := &Explanation{User: u.Username, UserID: u.ID, Active: u.Active, Roles: u.Roles, EffectiveRoles: d.EffectiveRoles(p),
		Object: object, RecordID: recordID, Field: field, PolicyVersion: version}
	if ex.EffectiveRoles == nil {
		ex.EffectiveRoles = []string{}
	}
	for _, v := range []struct {
		verdict *Verdict
		action  string
	}{{&ex.Read, metadata.ActionRead}, {&ex.Edit, metadata.ActionUpdate}} {
		if err := d.explainAction(ctx, v.verdict, p, u.Active, obj, v.action, recordID); err != nil {
			return nil, err
		}
	}
	if field != "" {
		ex.FieldLevel = d.FieldLevel(p, object, field)
		why := d.fieldReason(p, object, field, ex.FieldLevel)
		if ex.Read.Allowed {
			ex.Read.Reasons = append(ex.Read.Reasons, why)
			if ex.FieldLevel == metadata.FieldHidden {
				ex.Read.Allowed = false
			}
		}
		if ex.Edit.Allowed {
			ex.Edit.Reasons = append(ex.Edit.Reasons, why)
			if ex.FieldLevel != metadata.FieldEditable {
				ex.Edit.Allowed = false
			}
		}
	}
	return ex, nil
}

// explainAction fills v for action on obj (and the record, if given).
func (d *Decider) explainAction(ctx context.Context, v *Verdict, p *Principal, active bool, obj *metadata.Object, action, recordID string) error {
	v.Reasons = []string{}
	if !active {
		v.Reasons = append(v.Reasons, "the user is inactive: no token of theirs authenticates")
		return nil
	}
	allowedBy := ""
	for _, r := range p.Roles {
		ok, rule, err := d.enf.EnforceEx(r, obj.Name, action)
		if err == nil && ok {
			allowedBy = fmt.Sprintf("role %s may %s %s (policy p, %s)", r, action, obj.Name, joinRule(rule))
			break
		}
	}
	if allowedBy == "" {
		v.Reasons = append(v.Reasons, fmt.Sprintf("no policy lets roles [%s] %s %s (deny by default)", strings.Join(p.Roles, ", "), action, obj.Name))
		return nil
	}
	v.Reasons = append(v.Reasons, allowedBy)
	if recordID == "" {
		v.Allowed = true
		return nil
	}
	table := store.Ident(obj.Name)
	db := d.svc.db
	var n int
	err := db.DB.DB.QueryRowContext(ctx, store.Rebind(db.Dialect, "SELECT COUNT(*) FROM "+table+" WHERE id = ?"), recordID).Scan(&n)
	if err != nil {
		return fmt.Errorf("access: explain: %w", err)
	}
	if n == 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("record %s of %s does not exist", recordID, obj.Name))
		return nil
	}
	for _, pt := range d.recordParts(p, obj.Name, action) {
		q := "SELECT 1 FROM " + table + " WHERE id = ? AND (" + pt.SQL + ")"
		args := append([]any{recordID}, pt.Args...)
		var one int
		err := db.DB.DB.QueryRowContext(ctx, store.Rebind(db.Dialect, q), store.Args(db.Dialect, args)...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("access: explain %s: %w", pt.Reason, err)
		}
		v.Allowed = true
		v.Reasons = append(v.Reasons, "record reached by "+pt.Reason)
		return nil
	}
	v.Reasons = append(v.Reasons, fmt.Sprintf("no record scope, sharing rule or share gives the user %s access to record %s (deny by default)", action, recordID))
	return nil
}

// fieldReason names the policy behind a field level.
func (d *Decider) fieldReason(p *Principal, object, field string, level metadata.FieldLevel) string {
	if metadata.IsSystemField(field) && level != metadata.FieldHidden {
		return fmt.Sprintf("%s is a system field: read-only", field)
	}
	var hidden []string
	for _, r := range p.Roles {
		for _, l := range []metadata.FieldLevel{metadata.FieldEditable, metadata.FieldReadOnly, metadata.FieldHidden} {
			ok, rule, err := d.enf.EnforceEx(r, object+"."+field, string(l))
			if err != nil || !ok {
				continue
			}
			if l == level {
				return fmt.Sprintf("field %s is %s for role %s (policy p, %s)", field, l, r, joinRule(rule))
			}
			if l == metadata.FieldHidden {
				hidden = append(hidden, "p, "+joinRule(rule))
			}
			break
		}
	}
	if level == metadata.FieldReadOnly {
		return fmt.Sprintf("field %s is read-only: the user may neither create nor update %s", field, object)
	}
	if len(hidden) > 0 {
		return fmt.Sprintf("field %s is hidden (policy %s)", field, strings.Join(hidden, "; "))
	}
	return fmt.Sprintf("field %s is hidden: no policy grants it (deny by default)", field)
}

// joinRule formats a policy rule without its trailing empty values.
func joinRule(rule []string) string {
	for len(rule) > 0 && rule[len(rule)-1] == "" {
		rule = rule[:len(rule)-1]
	}
	return strings.Join(rule, ", ")
}
