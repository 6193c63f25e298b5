package run

import (
	"slices"
	"strings"

	"github.com/crmplatform/crm/internal/jsonenc"
)

// Labels are the labels of a row's values by column name, its "_labels":
// group keys, lookups (the title of the record referred to) and picklist
// options, in the user's language. The rows of a summary or a matrix share
// their names and keep their labels in their groups: a row's labels cost
// no map and no boxed text of their own. Labels encode as the JSON object
// of the labels by name, as a map of them would.
type Labels struct {
	names, values []string
}

// Get returns the label of column name.
func (l *Labels) Get(name string) (string, bool) {
	if l == nil {
		return "", false
	}
	if i := slices.Index(l.names, name); i >= 0 {
		return l.values[i], true
	}
	return "", false
}

// add adds the label of column name.
func (l *Labels) add(name, label string) {
	l.names, l.values = append(l.names, name), append(l.values, label)
}

// MarshalJSON encodes the labels as an object, its keys sorted (as
// encoding/json sorts a map's).
func (l *Labels) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	order := make([]int, len(l.names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(l.names[i], l.names[j]) })
	b := append(make([]byte, 0, 16*len(order)+2), '{')
	for n, i := range order {
		if n > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, l.names[i])
		b = append(b, ':')
		b = jsonenc.AppendString(b, l.values[i])
	}
	return append(b, '}'), nil
}

// rowLabels returns a row's labels, nil when it has none.
func rowLabels(row Row) *Labels {
	l, _ := row["_labels"].(*Labels)
	return l
}
