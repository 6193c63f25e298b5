package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
)

// datetimeLocal is the layout of an <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

// formValues are a record's values as a form holds them: strings by field
// name (several for a multi-picklist or many-to-many field).
type formValues map[string][]string

// first returns the first value of field, or "".
func (v formValues) first(field string) string {
	if vs := v[field]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// toForm turns a stored value (as the engine answers it) into form
// strings.
func toForm(f *metadata.Field, v any, loc *time.Location) []string {
	if v == nil {
		return nil
	}
	in := metadata.FormInput(f)
	switch in.Kind {
	case metadata.InputCheckbox:
		if b, ok := v.(bool); ok && b {
			return []string{"true"}
		}
		return nil
	case metadata.InputDateTime:
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return []string{s}
		}
		return []string{t.In(loc).Format(datetimeLocal)}
	case metadata.InputMultiSelect, metadata.InputLookup:
		if in.Multiple {
			return strList(v)
		}
	case metadata.InputFile:
		return nil
	}
	return []string{scalarString(v)}
}

// scalarString formats one JSON value as text.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// strList returns the strings of a list value.
func strList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, scalarString(e))
		}
		return out
	}
	return nil
}

// fromForm turns the submitted strings of a field into the value the
// engine takes: nil for an empty input, a bool for a checkbox, a list for
// several values, an RFC 3339 instant for a date and time (read in the
// user's time zone); numbers and amounts stay text, which the field's
// type parses exactly. The engine checks everything else.
func fromForm(f *metadata.Field, vals []string, loc *time.Location) (any, error) {
	in := metadata.FormInput(f)
	if in.Multiple {
		out := []any{}
		for _, s := range vals {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	s := ""
	if len(vals) > 0 {
		s = vals[0]
	}
	if in.Kind == metadata.InputCheckbox {
		return s == "true" || s == "on", nil
	}
	if in.Kind != metadata.InputTextarea && in.Kind != metadata.InputText {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return nil, nil
	}
	if in.Kind == metadata.InputDateTime {
		t, err := time.ParseInLocation(datetimeLocal, s, loc)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, s); err != nil {
				return nil, fmt.Errorf("%q is not a date and time", s)
			}
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	if in.Kind == metadata.InputNumber && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && json.Valid([]byte(s)) {
		// A JSON number, as the API gives it: an integer, decimal or
		// percent field takes no text.
		return json.Number(s), nil
	}
	return s, nil
}

// formOf reads the submitted form values of the fields named in fields.
func formOf(form url.Values, fields []string) formValues {
	out := formValues{}
	for _, name := range fields {
		if vs, ok := form[name]; ok {
			out[name] = vs
		}
	}
	return out
}

// titleOf returns the text that names a record of obj: its title field,
// else a field called name, else the first text field, else its id.
func titleOf(obj *metadata.Object, rec map[string]any) string {
	if rec == nil {
		return ""
	}
	if f := obj.NamingField(); f != nil {
		if s := scalarString(rec[f.Name]); s != "" {
			return s
		}
	}
	id, _ := rec[idField].(string)
	return id
}

// pluralTitle names an object's records in lang.
func pluralTitle(o *metadata.Object, lang string) string {
	if s := o.PluralLabel.Get(lang); s != "" {
		return s
	}
	return o.Title(lang)
}

// controlValue is the value a cascade's controlling field has in a form,
// as the dependent options name it.
func controlValue(ctrl *metadata.Field, vals []string, loc *time.Location) string {
	c, ok := metadata.TypeOf(ctrl).(metadata.Controller)
	if !ok {
		return ""
	}
	v, err := fromForm(ctrl, vals, loc)
	if err != nil {
		return ""
	}
	return c.ControlValue(ctrl, v)
}

// recordValues turns a record into form values for its readable fields.
func recordValues(view *engine.ObjectView, rec engine.Record, loc *time.Location) formValues {
	out := formValues{}
	for _, fv := range view.Fields {
		if vs := toForm(fv.Field, rec[fv.Name], loc); vs != nil {
			out[fv.Name] = vs
		}
	}
	return out
}

// idField is the system field holding a record's id.
const idField = "id"
