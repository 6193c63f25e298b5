package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Decider answers every permission question for one metadata schema. Its
// policies are compiled from the roles of that schema (the same rules
// SyncRoles stores), so it needs no database read: a role change is a
// metadata change, and every server sees it when it loads that metadata
// version (at once through PostgreSQL's NOTIFY, or at the next poll). It is
// immutable apart from its internal memo tables and safe for concurrent
// use. Get the current one from Service.Decide once per request; never keep
// one across requests.
type Decider struct {
	svc    *Service
	schema *metadata.Schema
	// day is the UTC date the sharing-rule conditions were compiled on
	// (date, as text): relative dates in them (today(), this_week()) hold
	// for that day, so a new day builds a new Decider.
	day  string
	date civilDate
	enf  *casbin.SyncedEnforcer

	levels  sync.Map // levelKey → metadata.FieldLevel
	grants  sync.Map // role → *roleGrants
	admins  sync.Map // role → bool
	sharing map[string][]*sharingRule
	// masters lists, by object, the lookups that make its records details
	// of another's (metadata.MasterOf): a share of the master reaches them.
	masters map[string][]masterRef
	// partOf names, by object whose records are parts of another's (a
	// master-detail lookup), that master object: nobody transfers them.
	partOf map[string]string

	partsMu sync.RWMutex
	parts   map[partsKey][]Branch // the grants of a user on an object for an action
}

// masterRef is a lookup that makes a record a detail of a record of
// object.
type masterRef struct{ field, object string }

// partsKey is what recordParts reads of a principal, with the object and
// action.
type partsKey struct{ object, action, user, department, roles string }

// levelKey is the memo key of a role's level on a field; a struct key
// cannot collide the way joined strings can.
type levelKey struct{ role, object, field string }

// roleGrants is what a role may do, with its inherited roles resolved:
// the record scopes per object and action ("*" for every object), every
// (object or object.field, act) its policies name, and the roles whose
// sharing rules apply.
type roleGrants struct {
	scopes  map[string]map[string][]scopeGrant // object → action → scopes
	allowed map[grantKey]bool                  // what enforce allows
	roles   []string                           // the role and every role it inherits
}

// grantKey is an object, "object.field" or "*" with an act, as a policy
// names them.
type grantKey struct{ obj, act string }

// scopeGrant is one record scope and the policy that granted it.
type scopeGrant struct {
	scope  metadata.RecordScope
	policy []string
}

// sharingRule is a role's sharing rule with its compiled condition.
type sharingRule struct {
	role   string
	rule   metadata.SharingRule
	sql    string
	args   []any
	err    error
	object *metadata.Object
}

// Decide returns the Decider for schema s, building it when s (the
// engine's immutable snapshot of a metadata version) or the day changed.
// It reads nothing from the database.
func (s *Service) Decide(ctx context.Context, sc *metadata.Schema) (*Decider, error) {
	if sc == nil {
		return nil, fmt.Errorf("access: decide: no schema")
	}
	now := s.now().UTC()
	date := dateOf(now)
	if cur := s.current.Load(); cur != nil && cur.schema == sc && cur.date == date {
		return cur, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.current.Load(); cur != nil && cur.schema == sc && cur.date == date {
		return cur, nil
	}
	d, err := s.newDecider(sc, now)
	if err != nil {
		return nil, err
	}
	s.current.Store(d)
	return d, nil
}

// civilDate is a day of the calendar.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

// dateOf returns the day of t in its location.
func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// newDecider compiles the policies of sc into a fresh enforcer and
// compiles its sharing rules for the day of now (UTC).
func (s *Service) newDecider(sc *metadata.Schema, now time.Time) (*Decider, error) {
	m, err := s.policyModel(sc)
	if err != nil {
		return nil, err
	}
	enf, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("access: load policies: %w", err)
	}
	enf.EnableLog(false)
	if err := enf.BuildRoleLinks(); err != nil {
		return nil, fmt.Errorf("access: role hierarchy: %w", err)
	}
	d := &Decider{svc: s, schema: sc, day: now.Format(metadata.DateLayout), date: dateOf(now), enf: enf, sharing: map[string][]*sharingRule{},
		masters: map[string][]masterRef{}, partOf: map[string]string{}}
	for _, o := range sc.Objects {
		for _, f := range o.Fields {
			if master, ok := metadata.MasterOf(f); ok {
				d.masters[o.Name] = append(d.masters[o.Name], masterRef{field: f.Name, object: master})
				if f.MasterDetail {
					d.partOf[o.Name] = master
				}
			}
		}
	}
	for _, r := range sc.Roles {
		for _, sr := range r.SharingRules {
			c := &sharingRule{role: r.Name, rule: sr}
			obj, ok := sc.Object(sr.Object)
			switch {
			case !ok:
				c.err = fmt.Errorf("unknown object %q", sr.Object)
			case sr.Condition == "":
				c.sql, c.object = "1=1", obj
			default:
				c.object = obj
				c.sql, c.args, c.err = s.compiler(sr.Condition, obj, sc)
			}
			d.sharing[sr.Object] = append(d.sharing[sr.Object], c)
		}
	}
	return d, nil
}

// Schema returns the metadata the Decider was built for.
func (d *Decider) Schema() *metadata.Schema { return d.schema }

// enforce answers what Casbin's matcher (model.conf) answers for role sub,
// obj and act: allowed when a policy of sub or of a role it inherits names
// obj, or "*", with act. It reads the role's policies indexed once per
// Decider (grantsOf) instead of evaluating the matcher against every
// policy, which cost a cold Decider (the first requests after a metadata
// change) about 1 ms per question; TestEnforceMatchesCasbin holds the two
// to the same answers.
func (d *Decider) enforce(sub, obj, act string) bool {
	g := d.grantsOf(sub)
	return g.allowed[grantKey{obj, act}] || g.allowed[grantKey{"*", act}]
}

// CanObject returns nil when one of p's roles may do action on object,
// and otherwise an error wrapping ErrDenied that names the object and
// action. action is a record operation (create, read, update, delete) or
// a named action (transfer, convert, submit …, see metadata.Actions):
// administrators may run every named action, and a user may transfer the
// records they may update through a record scope (the owner, the owner's
// manager) even without the transfer right. No user transfers a record
// part of its master (a master-detail lookup): it follows the master's
// owner. The system principal may do everything. A nil principal, an
// unknown object and an unknown action are denied.
func (d *Decider) CanObject(p *Principal, object, action string) error {
	if p == nil {
		return fmt.Errorf("%w: no user may %s %s", ErrDenied, action, object)
	}
	if _, ok := d.schema.Object(object); !ok {
		return fmt.Errorf("%w: %s %s: unknown object", ErrDenied, action, object)
	}
	if !metadata.IsAction(action) {
		return fmt.Errorf("%w: %s %s: unknown action", ErrDenied, action, object)
	}
	if p.System {
		return nil
	}
	if master, part := d.partOf[object]; part && action == metadata.ActionTransfer {
		return fmt.Errorf("%w: a %s belongs to the owner of its %s: give the %s instead", ErrDenied, object, master, master)
	}
	for _, r := range p.Roles {
		if d.enforce(r, object, action) {
			return nil
		}
		if !metadata.IsRecordOperation(action) && d.isAdminRole(r) {
			return nil
		}
		if action == metadata.ActionTransfer && d.enforce(r, object, metadata.ActionUpdate) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s may not %s %s", ErrDenied, p.Username, action, object)
}

// can reports whether CanObject allows.
func (d *Decider) can(p *Principal, object, action string) bool {
	return d.CanObject(p, object, action) == nil
}

// levelRank orders field levels from least to most access.
func levelRank(l metadata.FieldLevel) int {
	switch l {
	case metadata.FieldEditable:
		return 2
	case metadata.FieldReadOnly:
		return 1
	}
	return 0
}

// roleLevel is the field level one role has (with inheritance).
func (d *Decider) roleLevel(role, object, field string) metadata.FieldLevel {
	k := levelKey{role, object, field}
	if v, ok := d.levels.Load(k); ok {
		return v.(metadata.FieldLevel)
	}
	obj := object + "." + field
	level := metadata.FieldHidden
	if d.enforce(role, obj, string(metadata.FieldEditable)) {
		level = metadata.FieldEditable
	} else if d.enforce(role, obj, string(metadata.FieldReadOnly)) {
		level = metadata.FieldReadOnly
	}
	d.levels.Store(k, level)
	return level
}

// FieldLevel returns what p may do with a field of object: hidden,
// read_only or editable, the most any of p's roles allows. A field of an
// object p may not read is hidden; a field of an object p may neither
// create nor update is at most read_only. System fields (id, created_at …)
// are read_only for anyone who may read the object: the engine sets them;
// owner_id is editable unless role metadata makes it read_only, and
// changing it also needs the transfer right on the record. The system
// principal may edit every field. An unknown object or field is hidden.
func (d *Decider) FieldLevel(p *Principal, object, field string) metadata.FieldLevel {
	obj, ok := d.schema.Object(object)
	if !ok || p == nil || !d.can(p, object, metadata.ActionRead) {
		return metadata.FieldHidden
	}
	if metadata.IsSystemField(field) && field != metadata.OwnerField {
		return metadata.FieldReadOnly
	}
	if _, ok := obj.Field(field); !ok && field != metadata.OwnerField {
		return metadata.FieldHidden
	}
	if p.System {
		return metadata.FieldEditable
	}
	best := metadata.FieldHidden
	for _, r := range p.Roles {
		if l := d.roleLevel(r, object, field); levelRank(l) > levelRank(best) {
			best = l
			if best == metadata.FieldEditable {
				break
			}
		}
	}
	if field == metadata.OwnerField && best == metadata.FieldHidden {
		best = metadata.FieldReadOnly
	}
	writes := d.can(p, object, metadata.ActionUpdate) || d.can(p, object, metadata.ActionCreate) ||
		(field == metadata.OwnerField && d.can(p, object, metadata.ActionTransfer))
	if best == metadata.FieldEditable && !writes {
		best = metadata.FieldReadOnly
	}
	return best
}

// FieldLevels returns the level of every field of object for p, system
// fields included, keyed by field name: one call per request builds the
// response mask and the SELECT list.
func (d *Decider) FieldLevels(p *Principal, object string) map[string]metadata.FieldLevel {
	obj, ok := d.schema.Object(object)
	if !ok {
		return map[string]metadata.FieldLevel{}
	}
	out := make(map[string]metadata.FieldLevel, len(obj.Fields)+len(metadata.SystemFields))
	for _, f := range metadata.SystemFields {
		out[f] = d.FieldLevel(p, object, f)
	}
	for _, f := range obj.Fields {
		out[f.Name] = d.FieldLevel(p, object, f.Name)
	}
	return out
}

// ReadableFields returns the names of the fields of object p may see,
// system fields first, then the object's fields in their order: the
// SELECT list of a read, list, export or report.
func (d *Decider) ReadableFields(p *Principal, object string) []string {
	obj, ok := d.schema.Object(object)
	if !ok || !d.can(p, object, metadata.ActionRead) {
		return nil
	}
	out := append([]string(nil), metadata.SystemFields...)
	for _, f := range obj.Fields {
		if d.FieldLevel(p, object, f.Name) != metadata.FieldHidden {
			out = append(out, f.Name)
		}
	}
	return out
}

// FieldError is the error of a write to a field the principal may not
// write, or of a filter or sort on a field it may not see. It wraps
// ErrDenied and names the field.
type FieldError struct {
	Object string
	Field  string
	// Level is the principal's level on the field (hidden or read_only).
	Level metadata.FieldLevel
	// Op says what was refused: "write", "filter" or "sort".
	Op string
}

// Error says which field of which object was refused.
func (e *FieldError) Error() string {
	if e.Level == metadata.FieldHidden {
		return fmt.Sprintf("access: denied: cannot %s field %q of %s", e.Op, e.Field, e.Object)
	}
	return fmt.Sprintf("access: denied: cannot %s field %q of %s: it is %s", e.Op, e.Field, e.Object, e.Level)
}

// Unwrap makes errors.Is(err, ErrDenied) true.
func (e *FieldError) Unwrap() error { return ErrDenied }

// CheckWrite returns a *FieldError for the first of fields (in the order
// given) that p may not write on object: hidden, read-only and system
// fields are refused, never silently dropped. It does not check the
// object action; call CanObject for that.
func (d *Decider) CheckWrite(p *Principal, object string, fields []string) error {
	for _, f := range fields {
		if l := d.FieldLevel(p, object, f); l != metadata.FieldEditable {
			return &FieldError{Object: object, Field: f, Level: l, Op: "write"}
		}
	}
	return nil
}

// CheckRead returns a *FieldError for the first of fields p may not see on
// object; op ("filter", "sort", "read") is put in the error. Filters and
// sorts on hidden fields must be refused with it, so they cannot be used
// to probe values.
func (d *Decider) CheckRead(p *Principal, object, op string, fields []string) error {
	for _, f := range fields {
		if l := d.FieldLevel(p, object, f); l == metadata.FieldHidden {
			return &FieldError{Object: object, Field: f, Level: l, Op: op}
		}
	}
	return nil
}

// Mask deletes from rec the fields p may not see on object and returns it.
func (d *Decider) Mask(p *Principal, object string, rec map[string]any) map[string]any {
	for k := range rec {
		if d.FieldLevel(p, object, k) == metadata.FieldHidden {
			delete(rec, k)
		}
	}
	return rec
}

// grantsOf returns the resolved grants of a role, memoised.
func (d *Decider) grantsOf(role string) *roleGrants {
	if v, ok := d.grants.Load(role); ok {
		return v.(*roleGrants)
	}
	g := &roleGrants{scopes: map[string]map[string][]scopeGrant{}, allowed: map[grantKey]bool{}}
	perms, err := d.enf.GetImplicitPermissionsForUser(role)
	if err == nil {
		for _, pol := range perms {
			if len(pol) < 3 {
				continue
			}
			g.allowed[grantKey{pol[1], pol[2]}] = true
			if len(pol) < 4 || pol[3] == "" {
				continue // a field level
			}
			obj, act := pol[1], pol[2]
			if g.scopes[obj] == nil {
				g.scopes[obj] = map[string][]scopeGrant{}
			}
			g.scopes[obj][act] = append(g.scopes[obj][act], scopeGrant{scope: metadata.RecordScope(pol[3]), policy: append([]string{"p"}, pol...)})
		}
	}
	g.roles = []string{role}
	if inh, err := d.enf.GetImplicitRolesForUser(role); err == nil {
		for _, r := range inh {
			if !slices.Contains(g.roles, r) {
				g.roles = append(g.roles, r)
			}
		}
	}
	d.grants.Store(role, g)
	return g
}

// EffectiveRoles returns p's roles and every role they inherit.
func (d *Decider) EffectiveRoles(p *Principal) []string {
	var out []string
	for _, r := range p.Roles {
		for _, x := range d.grantsOf(r).roles {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	return out
}

// CanAdminister returns nil when p may manage users, roles, policies and
// metadata: when one of p's roles (with inheritance) holds every action
// on every object ("*") with record scope all, as the standard admin role
// does. There is no check by role name: take those rights away from a
// role and its holders stop being administrators. Otherwise it returns an
// error wrapping ErrDenied.
func (d *Decider) CanAdminister(p *Principal) error {
	if p != nil {
		for _, r := range p.Roles {
			if d.isAdminRole(r) {
				return nil
			}
		}
	}
	name := "nobody"
	if p != nil {
		name = p.Username
	}
	return fmt.Errorf("%w: %s may not administer: no role of theirs has every right on every object", ErrDenied, name)
}

// isAdminRole reports whether role holds all record operations on "*"
// with scope all.
func (d *Decider) isAdminRole(role string) bool {
	if v, ok := d.admins.Load(role); ok {
		return v.(bool)
	}
	admin := true
	g := d.grantsOf(role)
	for _, a := range []string{metadata.ActionCreate, metadata.ActionRead, metadata.ActionUpdate, metadata.ActionDelete} {
		all := false
		for _, sg := range g.scopes["*"][a] {
			all = all || sg.scope == metadata.ScopeAll
		}
		admin = admin && all && d.enforce(role, "*", a)
	}
	d.admins.Store(role, admin)
	return admin
}

// ActiveUser reports whether id is the id of an active user, so records
// can only be given to someone who can sign in.
func (d *Decider) ActiveUser(ctx context.Context, id string) (bool, error) {
	row, err := findUser(ctx, d.svc.db.DB, id)
	if errors.Is(err, ErrUserNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return row.ID == id && row.Active, nil
}

// loadEnforcer loads the stored policies, read on conn (the database
// when nil), into a fresh Casbin enforcer.
func (s *Service) loadEnforcer(ctx context.Context, conn bun.IConn) (*casbin.SyncedEnforcer, error) {
	m, err := newModel()
	if err != nil {
		return nil, err
	}
	enf, err := casbin.NewSyncedEnforcer(m, NewAdapter(ctx, s.db.DB, conn))
	if err != nil {
		return nil, fmt.Errorf("access: load policies: %w", err)
	}
	enf.EnableLog(false)
	return enf, nil
}
