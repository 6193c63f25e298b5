package layout

import (
	"strings"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// TestCheckListView checks list views against a schema: the object, the
// filter and sort in the filter language, the columns and the roles.
func TestCheckListView(t *testing.T) {
	t.Parallel()
	s := &metadata.Schema{
		Objects: []*metadata.Object{{Name: "account", Fields: []*metadata.Field{
			{Name: "name", Type: "text"}, {Name: "next_at", Type: "datetime"}, {Name: "level", Type: "picklist", Options: []metadata.Option{{Value: "key"}}},
		}}},
		Roles: []*metadata.Role{{Name: "sales_rep"}},
	}
	tests := []struct {
		name string
		view ListView
		want []string // paths and words of the problems; none when empty
	}{
		{"a good view", ListView{Object: "account", Roles: []string{"sales_rep"}, Filter: `next_week(next_at) && level == "key"`, Sort: "-next_at,name", Columns: []string{"name", "next_at", "owner_id"}}, nil},
		{"everything empty but the object", ListView{Object: "account"}, nil},
		{"no such object", ListView{Object: "lead"}, []string{"/object", "no object lead"}},
		{"a bad filter", ListView{Object: "account", Filter: `colour == "red"`}, []string{"/filter", "colour"}},
		{"a bad sort", ListView{Object: "account", Sort: "-size"}, []string{"/sort", "size"}},
		{"a bad column", ListView{Object: "account", Columns: []string{"name", "size"}}, []string{"/columns/1", "size"}},
		{"a bad role", ListView{Object: "account", Roles: []string{"sales_rep", "boss"}}, []string{"/roles/1", "no role boss"}},
	}
	for _, tt := range tests {
		ps := checkListView(s, &tt.view)
		got := ps.Error()
		if len(tt.want) == 0 {
			if len(ps) > 0 {
				t.Errorf("%s: %s", tt.name, got)
			}
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tt.name, got, w)
			}
		}
	}
}
