package run

import (
	"encoding/json"
	"testing"
)

func TestLabelsJSON(t *testing.T) {
	tests := []struct {
		name          string
		names, values []string
	}{
		{"none", nil, nil},
		{"one", []string{"stage"}, []string{"Proposal"}},
		{"sorted as a map's keys", []string{"stage", "month", "account"}, []string{"Qualify", "2026-01", "Acme"}},
		{"escaped", []string{"a<b", "名称"}, []string{`"quoted" & <tagged>`, "客户\n介绍"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Labels{names: tt.names, values: tt.values}
			m := map[string]string{}
			for i, n := range tt.names {
				m[n] = tt.values[i]
				if got, ok := l.Get(n); !ok || got != tt.values[i] {
					t.Errorf("Get(%q) = %q, %v", n, got, ok)
				}
			}
			if _, ok := l.Get("missing"); ok {
				t.Error("Get of a name it lacks found one")
			}
			got, err := json.Marshal(map[string]any{"_labels": l})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(map[string]any{"_labels": m})
			if string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	var none *Labels
	if _, ok := none.Get("x"); ok {
		t.Error("a row without labels has one")
	}
}
