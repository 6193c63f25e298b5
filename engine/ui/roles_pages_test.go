package ui_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestEveryRolesPages: every user of the standard template (a rep, a
// manager, marketing, a service agent) opens the list, new form, board and
// calendar of every object on the sample data, in English and Chinese:
// each page opens or is refused (403, 404 for a board or calendar the
// object has not), never fails.
func TestEveryRolesPages(t *testing.T) {
	t.Parallel()
	s := apitest.Seeded(t, storetest.SQLiteFrom(t, apitest.Standard), apitest.Options{})
	fsys, err := defaults.FS("standard")
	if err != nil {
		t.Fatal(err)
	}
	res := s.LoadSample(fsys)
	// The first record of each object is given to rep1, whose manager
	// reads it too.
	given := map[string]string{}
	for object := range res.Created {
		if ids := s.Give(object, 1, "rep1")["rep1"]; len(ids) > 0 {
			given[object] = ids[0]
		}
	}
	if len(given) < 15 {
		t.Fatalf("only %d objects' records given to rep1: %v", len(given), given)
	}
	// rep1, and their manager, save each record given to rep1 through its
	// edit form, as it is, and send it back as read through the API:
	// nothing changes.
	for _, user := range []string{"rep1", "manager"} {
		c := signedIn(t, s, user)
		for object, id := range given {
			if st, rec := s.Do("GET", "/api/records/"+object+"/"+id, user, ""); st == 200 {
				whole, _ := json.Marshal(rec)
				if st, back := s.Do("PUT", "/api/records/"+object+"/"+id, user, string(whole)); st != 200 && st != 403 || st == 200 && !reflect.DeepEqual(back, rec) {
					t.Errorf("%s sends %s %s back as read: %d %v", user, object, id, st, back)
				}
			}
			st, page := c.get("/ui/o/" + object + "/" + id + "/edit")
			if st != 200 {
				continue
			}
			action, form := submitted(t, page)
			if st, body, _ := c.post(action, form); st != 303 {
				t.Errorf("%s saves %s %s unchanged: %d %s", user, object, id, st, formErrors(body))
			}
		}
	}
	for _, u := range apitest.Users {
		for _, c := range []*client{signedIn(t, s, u.Username), signedInZh(t, s, u.Username)} {
			for object := range res.Created {
				paths := []string{"/ui/o/" + object, "/ui/o/" + object + "/new", "/ui/board/" + object, "/ui/calendar/" + object}
				if id := given[object]; id != "" {
					paths = append(paths, "/ui/o/"+object+"/"+id, "/ui/o/"+object+"/"+id+"/edit")
				}
				for _, path := range paths {
					st, _ := c.get(path)
					if st != 200 && st != 403 && st != 404 {
						t.Errorf("%s %s: %d", u.Username, path, st)
					}
					if owner := u.Username == "rep1" || u.Username == "manager"; owner && given[object] != "" && path == "/ui/o/"+object+"/"+given[object] && st != 200 &&
						(object == "account" || object == "contact" || object == "opportunity" || object == "activity") {
						t.Errorf("%s may read the %s given to rep1: %d", u.Username, object, st)
					}
				}
			}
		}
	}
}
