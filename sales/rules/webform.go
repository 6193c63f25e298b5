package rules

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/metadata"
)

// KindWebForms names the document kind of web forms.
const KindWebForms = "web_forms"

// Defaults of a web form.
const (
	// DefaultRateLimit is how many submissions one client address may send
	// to a form per minute.
	DefaultRateLimit = 5
	// DefaultDailyCap is how many records a form creates per day (UTC).
	DefaultDailyCap = 1000
	// HoneypotField is the hidden input people leave empty and robots
	// fill; a submission that fills it is accepted and discarded.
	HoneypotField = "_website"
)

// WebForm is one document of web_forms: a public form (GET/POST
// /f/{name}) that creates a record (a lead by default) without signing in.
type WebForm struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	// Object is the object created, lead when empty.
	Object string `json:"object,omitempty"`
	// Fields are the fields shown, in order.
	Fields []string `json:"fields"`
	// Values are fixed values every submission gets (source: web).
	Values map[string]any `json:"values,omitempty"`
	// ThankYou is shown after a submission; Redirect, if set, is where
	// the browser goes instead.
	ThankYou metadata.Label `json:"thank_you,omitempty"`
	Redirect string         `json:"redirect,omitempty"`
	// Origins lists the web sites (scheme://host[:port]) allowed to post
	// the form from their pages; empty allows any.
	Origins []string `json:"origins,omitempty"`
	// Owner is the username that owns records no assignment rule
	// assigns.
	Owner string `json:"owner,omitempty"`
	// RateLimit is the submissions per minute per client address
	// (DefaultRateLimit when 0); DailyCap the records per day
	// (DefaultDailyCap when 0).
	RateLimit int `json:"rate_limit,omitempty"`
	DailyCap  int `json:"daily_cap,omitempty"`
}

// ObjectName returns the object the form creates.
func (f *WebForm) ObjectName() string {
	if f.Object == "" {
		return "lead"
	}
	return f.Object
}

// Rate returns the form's rate limit per client address per minute.
func (f *WebForm) Rate() int { return cmpOr(f.RateLimit, DefaultRateLimit) }

// Cap returns the form's daily cap.
func (f *WebForm) Cap() int { return cmpOr(f.DailyCap, DefaultDailyCap) }

// cmpOr returns v, or def when v is zero.
func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

//go:embed schemas/web_form.json
var webFormSchema []byte

// WebForms reads the web forms of a schema.
var WebForms metadata.Docs[WebForm]

func init() {
	WebForms = metadata.RegisterKind(metadata.KindSpec[WebForm]{
		Name:   KindWebForms,
		Schema: webFormSchema,
		Check:  checkWebForm,
	})
}

// checkWebForm checks the object, the fields shown (plain inputs a
// visitor can fill) and the fixed values.
func checkWebForm(s *metadata.Schema, wf *WebForm) metadata.Problems {
	o, ok := s.Object(wf.ObjectName())
	if !ok {
		return metadata.Problems{{Path: "/object", Message: "unknown object " + wf.ObjectName()}}
	}
	var ps metadata.Problems
	for i, name := range wf.Fields {
		f, ok := o.Field(name)
		path := fmt.Sprintf("/fields/%d", i)
		switch {
		case !ok:
			ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("%s has no field %q", o.Name, name)})
		case metadata.Computed(f):
			ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("%s.%s is computed by the system", o.Name, name)})
		case !webInput(f):
			ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("%s.%s is %s: a web form shows text, numbers, dates, check boxes and picklists", o.Name, name, metadata.TypeOf(f).Kind())})
		case slices.Index(wf.Fields, name) != i:
			ps = append(ps, metadata.Problem{Path: path, Message: name + " is shown twice"})
		}
		if _, fixed := wf.Values[name]; fixed {
			ps = append(ps, metadata.Problem{Path: path, Message: name + " has a fixed value and cannot also be shown"})
		}
	}
	for _, name := range sortedMapKeys(wf.Values) {
		f, ok := o.Field(name)
		if !ok {
			ps = append(ps, metadata.Problem{Path: "/values/" + name, Message: fmt.Sprintf("%s has no field %q", o.Name, name)})
			continue
		}
		if _, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(wf.Values[name])); err != nil {
			ps = append(ps, metadata.Problem{Path: "/values/" + name, Message: err.Error()})
		}
	}
	return ps
}

// webInput reports whether a visitor can fill f in a plain form.
func webInput(f *metadata.Field) bool {
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindRef, metadata.KindRefList, metadata.KindFile, metadata.KindStringList:
		return false
	}
	return true
}
