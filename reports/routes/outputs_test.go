package routes_test

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/internal/apitest"
	"github.com/xuri/excelize/v2"
)

// labelOrValue is what an export shows for a cell of a JSON row.
func labelOrValue(row map[string]any, name string) string {
	if l, ok := row["_labels"].(map[string]any)[name]; ok {
		return fmt.Sprint(l)
	}
	if row[name] == nil {
		return ""
	}
	return fmt.Sprint(row[name])
}

func TestExports(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		newFixture(t, s)
		zh := map[string]string{"Accept-Language": "zh"}
		_, res := get(t, s, "manager", "/api/reports/revenue_by_source/run", zh)
		cols := res["columns"].([]any)
		var names, labels []string
		for _, c := range cols {
			m := c.(map[string]any)
			names, labels = append(names, m["name"].(string)), append(labels, m["label"].(string))
		}
		want := [][]string{labels}
		for _, row := range rows(t, res) {
			var rec []string
			for _, n := range names {
				rec = append(rec, labelOrValue(row, n))
			}
			want = append(want, rec)
		}
		tot := []string{"合计"}
		for _, n := range names[1:] {
			v := res["totals"].(map[string]any)[n]
			if v == nil {
				tot = append(tot, "")
			} else {
				tot = append(tot, fmt.Sprint(v))
			}
		}
		want = append(want, tot)
		t.Run("csv", func(t *testing.T) {
			status, raw := s.Raw("GET", "/api/reports/revenue_by_source/run?format=csv", "manager", "", nil, zh)
			if status != 200 {
				t.Fatalf("%d %s", status, raw)
			}
			if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")) {
				t.Fatal("the CSV lacks the UTF-8 byte order mark")
			}
			got, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("CSV\n%v\nwant\n%v", got, want)
			}
			if !strings.Contains(string(raw), "客户介绍") {
				t.Error("the Chinese labels are missing")
			}
		})
		t.Run("xlsx", func(t *testing.T) {
			status, raw := s.Raw("GET", "/api/reports/revenue_by_source/run?format=xlsx", "manager", "", nil, zh)
			if status != 200 {
				t.Fatalf("%d %s", status, raw)
			}
			f, err := excelize.OpenReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.GetRows(f.GetSheetName(0), excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d: %v", len(got), len(want), got)
			}
			for i := range want {
				for j := range want[i] {
					g := ""
					if j < len(got[i]) {
						g = got[i][j]
					}
					// Numbers are numbers in the sheet: compare their values.
					a, okA := new(big.Rat).SetString(g)
					b, okB := new(big.Rat).SetString(want[i][j])
					if okA && okB && a.Cmp(b) == 0 || g == want[i][j] {
						continue
					}
					t.Errorf("cell %d,%d: %q, want %q", i, j, g, want[i][j])
				}
			}
		})
		s.Run(t, []apitest.Scenario{
			{Name: "exports need the export right", Method: "GET", Path: "/api/reports/revenue_by_source/run?format=csv", User: "rep1", Status: 403, Code: "forbidden", NotContain: []string{"Globex"}},
			{Name: "a rep still runs it", Method: "GET", Path: "/api/reports/revenue_by_source/run", User: "rep1", Status: 200},
			{Name: "an unknown format", Method: "GET", Path: "/api/reports/revenue_by_source/run?format=pdf", User: "admin", Status: 400},
		})
	})
}

func TestCharts(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		newFixture(t, s)
		for _, name := range []string{"pipeline_funnel", "pipeline_by_stage_month", "weighted_forecast", "lead_sources", "revenue_by_source", "activities_by_rep", "campaign_roi", "lead_conversion_by_source"} {
			for _, width := range []int{390, 1280} {
				t.Run(fmt.Sprintf("%s/%d", name, width), func(t *testing.T) {
					status, raw := s.Raw("GET", fmt.Sprintf("/api/reports/%s/chart.svg?width=%d", name, width), "admin", "", nil, map[string]string{"Accept-Language": "zh"})
					if status != 200 {
						t.Fatalf("%d %s", status, raw)
					}
					var svg struct {
						XMLName xml.Name
						Width   string `xml:"width,attr"`
					}
					if err := xml.Unmarshal(raw, &svg); err != nil || svg.XMLName.Local != "svg" || svg.Width != fmt.Sprint(width) {
						t.Fatalf("not an SVG %d wide (%v): %.300s", width, err, raw)
					}
					d := xml.NewDecoder(bytes.NewReader(raw))
					for {
						if _, err := d.Token(); err == io.EOF {
							break
						} else if err != nil {
							t.Fatalf("the SVG is not well-formed XML: %v", err)
						}
					}
				})
			}
		}
		_, raw := s.Raw("GET", "/api/reports/pipeline_by_stage_month/chart.svg", "admin", "", nil, map[string]string{"Accept-Language": "zh"})
		for _, label := range []string{"按阶段和月份的销售管道", "初步接触", "赢单", "加权预测", "2026年3月"} { // months named in Chinese
			if !bytes.Contains(raw, []byte(label)) {
				t.Errorf("the chart lacks the label %s", label)
			}
		}
		_, raw = s.Raw("GET", "/api/reports/pipeline_funnel/chart.svg", "rep2", "", nil, nil)
		if !bytes.Contains(raw, []byte("Qualify")) || bytes.Contains(raw, []byte("Proposal")) {
			t.Errorf("rep2's funnel shows only their stages: %.500s", raw)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "width out of range", Method: "GET", Path: "/api/reports/pipeline_funnel/chart.svg?width=10", User: "admin", Status: 400},
			{Name: "a tabular report has no chart", Method: "GET", Path: "/api/reports/accounts_not_contacted/chart.svg", User: "admin", Status: 400},
			{Name: "a denied user gets none", Method: "GET", Path: "/api/reports/pipeline_funnel/chart.svg", User: "agent", Status: 404},
		})
	})
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		for _, a := range activitySeeds {
			s.Create(a.creator, "activity", fmt.Sprintf(`{"subject": "s", "kind": %q, "status": "done", "account": %q, "starts_at": %q}`, a.kind, f.ids[a.account], a.starts))
		}
		for _, user := range []string{"admin", "rep2"} {
			_, res := get(t, s, user, "/api/reports/activities_by_rep/run?period=2026-01-01..2026-12-31", nil)
			want := map[string]map[string]int64{}
			for _, a := range activitySeeds {
				if user != "admin" && a.creator != user {
					continue
				}
				if want[a.creator] == nil {
					want[a.creator] = map[string]int64{}
				}
				want[a.creator][a.kind]++
			}
			got := rows(t, res)
			if len(got) != len(want) {
				t.Fatalf("%s: %d rows, want %d", user, len(got), len(want))
			}
			all := int64(0)
			for _, row := range got {
				var who string
				for name, id := range f.ids {
					if id == row["owner_id"] {
						who = name
					}
				}
				sum := int64(0)
				for kind, n := range want[who] {
					if !eq(t, row["activities@"+kind], big.NewRat(n, 1)) {
						t.Errorf("%s: %s/%s = %v, want %d", user, who, kind, row["activities@"+kind], n)
					}
					sum += n
				}
				if !eq(t, row["activities"], big.NewRat(sum, 1)) {
					t.Errorf("%s: row total of %s %v, want %d", user, who, row["activities"], sum)
				}
				all += sum
				// The drill-down of a cell is its records.
				for kind, n := range want[who] {
					_, list := get(t, s, user, "/api/reports/activities_by_rep/drill?period=2026-01-01..2026-12-31&total=true&group="+q(row["_group"].(string)+"/"+kind), nil)
					if !eq(t, list["total"], big.NewRat(n, 1)) {
						t.Errorf("%s: drill %s/%s: %v, want %d", user, who, kind, list["total"], n)
					}
				}
			}
			if !eq(t, res["totals"].(map[string]any)["activities"], big.NewRat(all, 1)) {
				t.Errorf("%s: totals %v, want %d", user, res["totals"], all)
			}
		}
	})
}

func TestDashboards(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		open := func(user string) (map[string]any, int64) {
			_, d := get(t, s, user, "/api/dashboards/home", nil)
			if d["name"] == nil {
				t.Fatalf("%s has no home: %v", user, d)
			}
			count := int64(-1)
			for _, w := range d["widgets"].([]any) {
				w := w.(map[string]any)
				if w["report"] == "pipeline_funnel" && w["type"] == "chart" {
					if data, ok := w["data"].(map[string]any); ok {
						count = 0
						for _, r := range rows(t, data) {
							n := num(t, r["deals"])
							count += n.Num().Int64()
						}
					}
				}
			}
			return d, count
		}
		for _, user := range []string{"rep1", "manager"} {
			d, n := open(user)
			if d["name"] != "sales_home" {
				t.Errorf("%s's home is %v, want their role's sales_home", user, d["name"])
			}
			want := int64(0)
			for _, dl := range f.visible(user) {
				if dl.stage != "lost" {
					want++
				}
			}
			if n != want {
				t.Errorf("%s's funnel widget counts %d deals, want %d", user, n, want)
			}
		}
		d, _ := open("agent")
		if d["name"] != "overview" {
			t.Errorf("agent's home %v, want the dashboard offered to everyone", d["name"])
		}
		for _, w := range d["widgets"].([]any) {
			w := w.(map[string]any)
			if w["data"] != nil && strings.Contains(fmt.Sprint(w["report"]), "pipeline") {
				t.Errorf("agent sees pipeline data: %v", w)
			}
		}
		s.Run(t, []apitest.Scenario{
			{Name: "the list names the home", Method: "GET", Path: "/api/dashboards", User: "rep1", Status: 200, Contains: []string{`"home":"sales_home"`, `"overview"`}, NotContain: []string{"marketing_home"}},
			{Name: "a dashboard of another role is not offered", Method: "GET", Path: "/api/dashboards/marketing_home", User: "rep1", Status: 404},
			{Name: "save my own home", Method: "PUT", Path: "/api/dashboards/mine", User: "rep1", Status: 200,
				Body: `{"name": "mine", "home": true, "widgets": [{"type": "counter", "report": "pipeline_funnel", "value": "deals"}]}`},
			{Name: "it is my home now", Method: "GET", Path: "/api/dashboards", User: "rep1", Status: 200, Contains: []string{`"home":"mine"`}},
			{Name: "not anyone else's", Method: "GET", Path: "/api/dashboards", User: "rep2", Status: 200, Contains: []string{`"home":"sales_home"`}, NotContain: []string{`"mine"`}},
			{Name: "roles are not mine to give", Method: "PUT", Path: "/api/dashboards/x", User: "rep1", Status: 422,
				Body: `{"name": "x", "roles": ["sales_rep"], "widgets": []}`},
			{Name: "an unknown report", Method: "PUT", Path: "/api/dashboards/y", User: "rep1", Status: 422, Code: "invalid_metadata",
				Body: `{"name": "y", "widgets": [{"type": "chart", "report": "nope"}]}`},
			{Name: "the name must match", Method: "PUT", Path: "/api/dashboards/z", User: "rep1", Status: 400,
				Body: `{"name": "y", "widgets": []}`},
			{Name: "delete mine", Method: "DELETE", Path: "/api/dashboards/mine", User: "rep1", Status: 204},
			{Name: "back to the role's home", Method: "GET", Path: "/api/dashboards", User: "rep1", Status: 200, Contains: []string{`"home":"sales_home"`}},
			{Name: "delete what is not mine", Method: "DELETE", Path: "/api/dashboards/sales_home", User: "rep1", Status: 404},
		})
		// The counter of the own dashboard counts only rep1's open deals.
		status, _, raw := post(t, s, "rep1", "/api/reports/run", `{"name": "n", "object": "opportunity", "kind": "summary", "aggregates": [{"name": "n", "func": "count"}]}`, nil)
		if status != 200 || !strings.Contains(string(raw), fmt.Sprintf(`"n":%d`, len(f.visible("rep1")))) {
			t.Errorf("rep1 counts %s, want %d", raw, len(f.visible("rep1")))
		}
	})
}

// TestTabularLabels checks the labels of a tabular report's lookups and
// multi-picklists: the title of the record referred to, the labels of the
// options, in "_labels" and in the exports; a lookup that refers to no
// record has none (an empty cell, not "<nil>"). Exports show datetimes in
// the user's time zone.
func TestTabularLabels(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		if status, m := s.Do("POST", "/api/meta/objects/account/fields", "admin", `{"name": "interests", "type": "multi_picklist", "label": "Interests",
			"options": [{"value": "tea", "label": {"en": "Tea", "zh": "茶"}}, {"value": "silk", "label": {"en": "Silk", "zh": "丝绸"}}]}`); status != 201 {
			t.Fatalf("add a multi-picklist: %d %v", status, m)
		}
		parent := s.Create("admin", "account", `{"name": "Parent Co", "industry": "retail"}`)
		s.Create("admin", "account", fmt.Sprintf(`{"name": "Child Co", "industry": "retail", "parent": %q, "interests": ["silk", "tea"]}`, parent))
		def := `{"name": "parents", "object": "account", "kind": "tabular", "columns": [{"field": "name"}, {"field": "parent"}, {"field": "interests"}, {"field": "created_at"}], "sort": ["name"]}`
		got := map[string]map[string]any{}
		for _, row := range rows(t, adhoc(t, s, "admin", def, nil)) {
			got[row["name"].(string)] = row
		}
		if l, _ := got["Child Co"]["_labels"].(map[string]any); l["parent"] != "Parent Co" || l["interests"] != "Silk, Tea" {
			t.Errorf("the child's labels %v, want its parent's name and its options' labels", got["Child Co"]["_labels"])
		}
		if l, ok := got["Parent Co"]["_labels"].(map[string]any); ok {
			if _, has := l["parent"]; has {
				t.Errorf("a lookup to no record has a label: %v", l)
			}
		}
		status, raw := s.Raw("POST", "/api/reports/run?format=csv", "admin", "application/json", strings.NewReader(def), map[string]string{"X-Timezone": "Asia/Shanghai"})
		if status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// Datetimes in the user's time zone, to the second.
		shanghai, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		local := func(name string) string {
			at, err := time.Parse(time.RFC3339Nano, got[name]["created_at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			return at.In(shanghai).Format("2006-01-02 15:04:05")
		}
		want := map[string][3]string{"Child Co": {"Parent Co", "Silk, Tea", local("Child Co")}, "Parent Co": {"", "", local("Parent Co")}}
		for _, rec := range recs[1:] {
			if w, ok := want[rec[0]]; ok && [3]string(rec[1:4]) != w {
				t.Errorf("CSV row %v: parent, interests and creation %q, want %q", rec, rec[1:4], w)
			}
			delete(want, rec[0])
		}
		if len(want) > 0 {
			t.Errorf("the CSV lacks rows for %v: %v", want, recs)
		}
	})
}
