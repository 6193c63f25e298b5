package engine

import "github.com/crmplatform/crm/metadata"

// recordPlan is what a write of an object's records looks at among its
// fields, worked out once per snapshot: walking every field of the object
// on each create cost it more than the fields it found.
type recordPlan struct {
	// checked are the fields validate checks: the required ones the
	// system does not compute, and those whose type checks the record
	// (metadata.RecordChecker).
	checked []*metadata.Field
	// defaulted are the fields with a default, each with its default
	// normalized once (a value no write changes: text, a number, a
	// boolean, a list of ids that links copy).
	defaulted []defaultValue
	// assigned are the fields whose type gives them their values
	// (metadata.Assigner).
	assigned []*metadata.Field
	// given counts the values a new record has before its sent ones: the
	// system fields, and the fields with a default or a formula.
	given int
	// part is the master-detail lookup (metadata.Field.MasterDetail), nil
	// without one: a record part of its master.
	part *masterField
}

// masterField is a lookup to a record's master.
type masterField struct {
	f      *metadata.Field
	object string
}

// defaultValue is a field's default in storage form, or why it has none.
type defaultValue struct {
	f   *metadata.Field
	v   any
	err error
}

// recordPlan returns obj's recordPlan under s, made on first use.
func (s *Snapshot) recordPlan(obj *metadata.Object) *recordPlan {
	if p, ok := s.plans.Load(obj.Name); ok {
		return p.(*recordPlan)
	}
	p := &recordPlan{given: len(metadata.SystemFields)}
	for _, f := range obj.Fields {
		_, checks := metadata.TypeOf(f).(metadata.RecordChecker)
		if checks || f.Required && !metadata.Computed(f) {
			p.checked = append(p.checked, f)
		}
		if f.Default != nil {
			v, err := metadata.TypeOf(f).Normalize(f, f.Default)
			p.defaulted = append(p.defaulted, defaultValue{f: f, v: v, err: err})
		}
		if _, ok := metadata.TypeOf(f).(metadata.Assigner); ok {
			p.assigned = append(p.assigned, f)
		}
		if f.Default != nil || f.DefaultFormula != "" || f.Formula != "" {
			p.given++
		}
		if master, ok := metadata.MasterOf(f); ok && f.MasterDetail {
			p.part = &masterField{f: f, object: master}
		}
	}
	got, _ := s.plans.LoadOrStore(obj.Name, p)
	return got.(*recordPlan)
}
