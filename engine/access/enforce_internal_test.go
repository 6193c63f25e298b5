package access

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// maxQuestions bounds the questions TestEnforceMatchesCasbin asks of each
// template: Casbin takes about a millisecond for each.
const maxQuestions = 1000

// TestEnforceMatchesCasbin: the Decider's indexed enforce answers what
// Casbin's matcher (model.conf) answers, for every role of every shipped
// template (and a role no policy names) on every object, object field,
// "*" and unknown name, with every action and field level.
func TestEnforceMatchesCasbin(t *testing.T) {
	t.Parallel()
	svc := New(storetest.SQLite(t))
	levels := []string{string(metadata.FieldEditable), string(metadata.FieldReadOnly), metadata.ActionRead}
	acts := append(metadata.Actions(), string(metadata.FieldEditable), string(metadata.FieldReadOnly), string(metadata.FieldHidden), "unknown")
	for _, name := range defaults.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, sc, err := defaults.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			d, err := svc.newDecider(sc, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			roles := []string{"nobody"}
			for _, r := range sc.Roles {
				roles = append(roles, r.Name)
			}
			// Objects with every act; with the field levels and read, the
			// fields some role gives a level and each object's first field,
			// which none does.
			type question struct {
				obj  string
				acts []string
			}
			qs := []question{{"*", acts}, {"unknown", acts}, {"unknown.field", levels}}
			named := map[string]bool{}
			for _, r := range sc.Roles {
				for _, p := range r.Permissions {
					for f := range p.Fields {
						if !named[p.Object+"."+f] {
							named[p.Object+"."+f] = true
							qs = append(qs, question{p.Object + "." + f, levels})
						}
					}
				}
			}
			for _, o := range sc.Objects {
				qs = append(qs, question{o.Name, acts}, question{o.Name + ".*", levels}, question{o.Name + "." + metadata.OwnerField, levels})
				if len(o.Fields) > 0 && !named[o.Name+"."+o.Fields[0].Name] {
					qs = append(qs, question{o.Name + "." + o.Fields[0].Name, levels})
				}
			}
			// Every role with every question, or, past maxQuestions, the
			// same sample of them on every run.
			type ask struct{ role, obj, act string }
			var all []ask
			for _, r := range roles {
				for _, q := range qs {
					for _, act := range q.acts {
						all = append(all, ask{r, q.obj, act})
					}
				}
			}
			if len(all) > maxQuestions {
				rng := rand.New(rand.NewPCG(14, uint64(len(all))))
				rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
				all = all[:maxQuestions]
			}
			allowed, denied := 0, 0
			for _, a := range all {
				want, err := d.enf.Enforce(a.role, a.obj, a.act)
				if err != nil {
					t.Fatal(err)
				}
				if got := d.enforce(a.role, a.obj, a.act); got != want {
					t.Fatalf("%s may %s %s: %v, Casbin says %v", a.role, a.act, a.obj, got, want)
				}
				if want {
					allowed++
				} else {
					denied++
				}
			}
			if allowed == 0 || denied == 0 {
				t.Fatalf("%d questions allowed and %d denied: the template tests nothing", allowed, denied)
			}
		})
	}
}
