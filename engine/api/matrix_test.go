package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// roleRights is what each role of the standard template may do per object
// (c, r, u, d), written out from defaults/standard/roles so the test states
// the expected answers instead of asking the code under test.
var roleRights = map[string]map[string]string{
	"admin":         {"account": "crud", "contact": "crud", "opportunity": "crud", "activity": "crud", "lead": "crud", "campaign": "crud", "competitor": "crud"},
	"sales_manager": {"account": "crud", "contact": "crud", "opportunity": "crud", "activity": "crud", "lead": "crud", "campaign": "r", "competitor": "cru"},
	"sales_rep":     {"account": "cru", "contact": "cru", "opportunity": "cru", "activity": "crud", "lead": "cru", "campaign": "r", "competitor": "r"},
	"marketing":     {"account": "r", "contact": "r", "opportunity": "", "activity": "cru", "lead": "crud", "campaign": "crud", "competitor": "r"},
	"service_agent": {"account": "r", "contact": "ru", "opportunity": "", "activity": "cru", "lead": "", "campaign": "", "competitor": ""},
}

// fieldRights are fields of each class per role: hidden, read_only and
// editable, as object.field.
var fieldRights = map[string]map[string][]string{
	"sales_rep":     {"hidden": {"campaign.budget", "campaign.actual_cost"}, "read_only": {"account.credit_limit", "account.annual_revenue"}, "editable": {"account.name", "contact.phone"}},
	"marketing":     {"hidden": {"account.credit_limit", "contact.mobile"}, "read_only": {}, "editable": {"campaign.budget", "lead.company"}},
	"service_agent": {"hidden": {"account.annual_revenue"}, "read_only": {"contact.name", "contact.account"}, "editable": {"contact.phone"}},
	"sales_manager": {"hidden": {}, "read_only": {}, "editable": {"account.credit_limit", "contact.mobile"}},
}

// TestPermissionMatrix drives every standard role through the API against
// every object and action, and every field class, with allowed and denied
// cases.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ids := map[string]string{}
		for role := range roleRights {
			user := "m_" + role
			if role != "admin" {
				if status, m := f.do("POST", "/api/users", "admin", fmt.Sprintf(`{"username": %q, "password": "matrix-password", "roles": [%q]}`, user, role)); status != 201 {
					t.Fatalf("create %s: %d %v", user, status, m)
				}
			} else {
				user = "admin"
			}
			if user != "admin" {
				_, login := f.do("POST", "/api/auth/login", "", fmt.Sprintf(`{"username": %q, "password": "matrix-password"}`, user))
				f.tokens[user] = login["token"].(string)
			}
			_, me := f.do("GET", "/api/auth/me", user, "")
			ids[role] = me["user_id"].(string)
		}
		seq := 0
		body := func(object, owner string) string {
			seq++
			acc := ""
			if object == "contact" || object == "opportunity" {
				acc = f.create("admin", "account", fmt.Sprintf(`{"name": "Ref %d", "owner_id": %q}`, seq, owner))
			}
			switch object {
			case "account":
				return fmt.Sprintf(`{"name": "Account %d"`, seq)
			case "contact":
				return fmt.Sprintf(`{"name": "Contact %d", "account": %q`, seq, acc)
			case "opportunity":
				return fmt.Sprintf(`{"name": "Deal %d", "account": %q`, seq, acc)
			case "activity":
				return fmt.Sprintf(`{"subject": "Call %d"`, seq)
			case "lead":
				return fmt.Sprintf(`{"person": "Person %d"`, seq)
			case "campaign":
				return fmt.Sprintf(`{"name": "Campaign %d"`, seq)
			}
			return fmt.Sprintf(`{"name": "Competitor %d"`, seq)
		}
		for role, objects := range roleRights {
			user := "m_" + role
			if role == "admin" {
				user = "admin"
			}
			for object, rights := range objects {
				allowed := func(a string) bool { return strings.Contains(rights, a) }
				t.Run(role+"/"+object, func(t *testing.T) {
					status, _ := f.do("POST", "/api/records/"+object, user, body(object, ids[role])+"}")
					if want := map[bool]int{true: 201, false: 403}[allowed("c")]; status != want {
						t.Errorf("create: %d, want %d", status, want)
					}
					own := f.create("admin", object, body(object, ids[role])+fmt.Sprintf(`, "owner_id": %q}`, ids[role]))
					status, _ = f.do("GET", "/api/records/"+object, user, "")
					if want := map[bool]int{true: 200, false: 403}[allowed("r")]; status != want {
						t.Errorf("list: %d, want %d", status, want)
					}
					status, _ = f.do("GET", "/api/records/"+object+"/"+own, user, "")
					if want := map[bool]int{true: 200, false: 403}[allowed("r")]; status != want {
						t.Errorf("read own: %d, want %d", status, want)
					}
					patch := `{"version": 1}`
					status, _ = f.do("PATCH", "/api/records/"+object+"/"+own, user, patch)
					if want := map[bool]int{true: 200, false: 403}[allowed("u")]; status != want {
						t.Errorf("update own: %d, want %d", status, want)
					}
					status, _ = f.do("DELETE", "/api/records/"+object+"/"+own, user, "")
					if want := map[bool]int{true: 204, false: 403}[allowed("d")]; status != want {
						t.Errorf("delete own: %d, want %d", status, want)
					}
				})
			}
		}
		// A read-only field is refused when changed (sending it unchanged
		// is accepted, so a record read back can be sent back).
		other := f.create("admin", "account", `{"name": "Another account"}`)
		for role, classes := range fieldRights {
			user := "m_" + role
			for class, fields := range classes {
				for _, of := range fields {
					object, field, _ := strings.Cut(of, ".")
					t.Run(role+"/"+class+"/"+of, func(t *testing.T) {
						extra := ""
						if field == "phone" {
							extra = `, "phone": "+86 100"`
						}
						rec := f.create("admin", object, body(object, ids[role])+fmt.Sprintf(`, "owner_id": %q%s}`, ids[role], extra))
						status, got := f.do("GET", "/api/records/"+object+"/"+rec, user, "")
						if status != 200 {
							t.Fatalf("read: %d %v", status, got)
						}
						_, present := got[field]
						value := map[string]string{"budget": "5", "credit_limit": "5", "annual_revenue": "5", "actual_cost": "5", "phone": `"+86 200"`, "mobile": `"+86 300"`,
							"name": `"Renamed"`, "company": `"Co"`, "account": fmt.Sprintf("%q", other)}[field]
						wstatus, wbody := f.do("PATCH", "/api/records/"+object+"/"+rec, user, fmt.Sprintf(`{"version": 1, %q: %s}`, field, value))
						fstatus, _ := f.do("GET", "/api/records/"+object+"?filter="+urlq(field+" != nil"), user, "")
						switch class {
						case "hidden":
							if present || wstatus != 403 || fstatus != 400 {
								t.Errorf("hidden: present %v, write %d, filter %d", present, wstatus, fstatus)
							}
						case "read_only":
							if !present || wstatus != 403 || fstatus != 200 || !strings.Contains(fmt.Sprint(wbody), field) {
								t.Errorf("read-only: present %v, write %d %v, filter %d", present, wstatus, wbody, fstatus)
							}
						case "editable":
							if !present || wstatus != 200 || fstatus != 200 {
								t.Errorf("editable: present %v, write %d %v, filter %d", present, wstatus, wbody, fstatus)
							}
						}
					})
				}
			}
		}
	})
}
