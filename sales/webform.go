package sales

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/sales/rules"
	"github.com/gofiber/fiber/v2"
)

// MaxFormBody is the largest web form submission accepted (413 above).
const MaxFormBody = 16 << 10

// formRoutes mounts the web forms: GET /f/{name} (the page), POST
// /f/{name} (a submission, anonymous) and GET
// /api/meta/web_forms/{name}/snippet (the HTML to paste, administrators).
func (s *Sales) formRoutes(r fiber.Router, srv *api.Server) {
	r.Get("/f/:name", s.formPage)
	r.Options("/f/:name", s.formPreflight)
	r.Post("/f/:name", s.formSubmit)
	r.Get("/api/meta/web_forms/:name/snippet", srv.Authenticate, srv.RequireAdmin, s.formSnippet)
}

// fail answers with an error body of the API.
func fail(c *fiber.Ctx, status int, code, msg string, details ...api.Detail) error {
	var b api.ErrorBody
	b.Error.Code, b.Error.Message, b.Error.Details = code, msg, details
	return c.Status(status).JSON(b)
}

// webForm returns the form named in the path.
func (s *Sales) webForm(c *fiber.Ctx) (*rules.WebForm, *metadata.Object, error) {
	return s.webFormNamed(c.Params("name"))
}

// webFormNamed returns the web form name and its object.
func (s *Sales) webFormNamed(name string) (*rules.WebForm, *metadata.Object, error) {
	sc := s.eng.Snapshot().Schema
	wf, ok := rules.WebForms.Get(sc, name)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no web form %q", engine.ErrNotFound, name)
	}
	o, ok := sc.Object(wf.ObjectName())
	if !ok {
		return nil, nil, fmt.Errorf("%w: no object %q", engine.ErrNotFound, wf.ObjectName())
	}
	return wf, o, nil
}

// lang is the visitor's language: ?lang=, else Accept-Language; zh or en.
func lang(c *fiber.Ctx) string {
	l := c.Query("lang")
	if l == "" {
		l = engine.Language(c.UserContext())
	}
	if strings.HasPrefix(l, "zh") {
		return "zh"
	}
	return "en"
}

// formView is what the form template shows.
type formView struct {
	Lang, Title, Action, Submit, Honeypot string
	Fields                                []fieldView
	Page                                  bool
	Message                               string
}

// fieldView is one input of a form.
type fieldView struct {
	Name, Label, Kind, Step string
	Required                bool
	MaxLength               int
	Options                 []optionView
}

// optionView is one choice of a select.
type optionView struct{ Value, Label string }

// formTemplate renders a form page, its snippet and the thank-you page;
// html/template escapes every value.
var formTemplate = template.Must(template.New("form").Parse(`{{define "form"}}<form method="post" action="{{.Action}}" accept-charset="utf-8">
{{range .Fields}}<p><label for="crm-{{.Name}}">{{.Label}}{{if .Required}} *{{end}}</label><br>
{{if eq .Kind "select"}}<select id="crm-{{.Name}}" name="{{.Name}}"{{if .Required}} required{{end}}><option value=""></option>{{range .Options}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select>
{{else if eq .Kind "textarea"}}<textarea id="crm-{{.Name}}" name="{{.Name}}"{{if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}{{if .Required}} required{{end}}></textarea>
{{else if eq .Kind "checkbox"}}<input type="checkbox" id="crm-{{.Name}}" name="{{.Name}}" value="true">
{{else}}<input type="{{.Kind}}" id="crm-{{.Name}}" name="{{.Name}}"{{if .Step}} step="{{.Step}}"{{end}}{{if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}{{if .Required}} required{{end}}>
{{end}}</p>
{{end}}<div style="position:absolute;left:-10000px" aria-hidden="true"><input type="text" name="{{.Honeypot}}" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">{{.Submit}}</button></p>
</form>{{end}}{{define "page"}}<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{else}}{{template "form" .}}{{end}}
</body></html>{{end}}`))

// view builds the form's view in a language.
func view(wf *rules.WebForm, o *metadata.Object, lang, action string) formView {
	v := formView{Lang: lang, Title: wf.Label.Get(lang), Action: action, Honeypot: rules.HoneypotField, Submit: map[string]string{"en": "Send", "zh": "提交"}[lang]}
	if v.Title == "" {
		v.Title = o.Title(lang)
	}
	for _, name := range wf.Fields {
		f, _ := o.Field(name)
		in := metadata.FormInput(f)
		fv := fieldView{Name: f.Name, Label: f.Title(lang), Required: f.Required, MaxLength: in.MaxLength, Step: in.Step}
		switch in.Kind {
		case metadata.InputSelect:
			fv.Kind = "select"
			for _, opt := range f.Options {
				label := opt.Label.Get(lang)
				if label == "" {
					label = opt.Value
				}
				fv.Options = append(fv.Options, optionView{Value: opt.Value, Label: label})
			}
		case metadata.InputCheckbox:
			fv.Kind = "checkbox"
		case metadata.InputNumber, metadata.InputCurrency:
			fv.Kind = "number"
		case metadata.InputDate:
			fv.Kind = "date"
		case metadata.InputDateTime:
			fv.Kind = "datetime-local"
		default:
			fv.Kind = htmlInputKind(string(in.Kind))
		}
		v.Fields = append(v.Fields, fv)
	}
	return v
}

// htmlInputKind maps the other input kinds to HTML input types.
func htmlInputKind(k string) string {
	switch k {
	case "email", "url", "textarea":
		return k
	case "phone":
		return "tel"
	}
	return "text"
}

// render writes a template as HTML with headers that keep the page inert
// in other sites' frames and scripts out.
func render(c *fiber.Ctx, name string, v formView) error {
	var b bytes.Buffer
	if err := formTemplate.ExecuteTemplate(&b, name, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *")
	return c.Send(b.Bytes())
}

// formPage answers GET /f/{name}: the form as a plain HTML page in the
// visitor's language.
func (s *Sales) formPage(c *fiber.Ctx) error {
	wf, o, err := s.webForm(c)
	if err != nil {
		return err
	}
	l := lang(c)
	v := view(wf, o, l, "/f/"+url.PathEscape(wf.Name)+"?lang="+l)
	v.Page = true
	return render(c, "page", v)
}

// formSnippet answers GET /api/meta/web_forms/{name}/snippet with the
// form's HTML for a web site: {"name", "lang", "html"}.
func (s *Sales) formSnippet(c *fiber.Ctx) error {
	l := lang(c)
	html, err := s.FormSnippet(c.Params("name"), l, c.BaseURL())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"name": c.Params("name"), "lang": l, "html": html})
}

// FormSnippet returns the HTML of web form name in lang (en or zh) for a
// web site, posting to the form's address under base (the server's
// scheme and host).
func (s *Sales) FormSnippet(name, lang, base string) (string, error) {
	wf, o, err := s.webFormNamed(name)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := formTemplate.ExecuteTemplate(&b, "form", view(wf, o, lang, base+"/f/"+url.PathEscape(wf.Name)+"?lang="+lang)); err != nil {
		return "", fmt.Errorf("sales: web form %s: %w", name, err)
	}
	return b.String(), nil
}

// allowedOrigin checks the Origin of a request against the form's list
// and sets the CORS answer header; a request without Origin (a plain
// form post from a page that sends none, a server) passes.
func allowedOrigin(c *fiber.Ctx, wf *rules.WebForm) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true
	}
	if len(wf.Origins) > 0 && !slices.Contains(wf.Origins, origin) {
		return false
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderVary, fiber.HeaderOrigin)
	return true
}

// formPreflight answers the CORS preflight of a JSON submission.
func (s *Sales) formPreflight(c *fiber.Ctx) error {
	wf, _, err := s.webForm(c)
	if err != nil {
		return err
	}
	if !allowedOrigin(c, wf) {
		return fail(c, fiber.StatusForbidden, "forbidden", "this web site may not post the form")
	}
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
	c.Set(fiber.HeaderAccessControlAllowHeaders, fiber.HeaderContentType)
	return c.SendStatus(fiber.StatusNoContent)
}

// errCapped means a form reached its daily cap.
var errCapped = errors.New("sales: the form's daily cap is reached")

// formSubmit answers POST /f/{name}: a visitor's submission, form-encoded
// or JSON, without signing in. The record is created by the system on
// behalf of no user, assigned by the assignment rules (or to the form's
// owner); the answer never holds its id.
func (s *Sales) formSubmit(c *fiber.Ctx) error {
	wf, o, err := s.webForm(c)
	if err != nil {
		return err
	}
	if !allowedOrigin(c, wf) {
		return fail(c, fiber.StatusForbidden, "forbidden", "this web site may not post the form")
	}
	if ok, retry := s.forms.allow(wf.Name+"|"+c.IP(), wf.Rate(), time.Now()); !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retry.Seconds())+1))
		return fail(c, fiber.StatusTooManyRequests, "throttled", fmt.Sprintf("at most %d submissions a minute from one address", wf.Rate()))
	}
	body := c.Request().Body()
	if len(body) > MaxFormBody {
		return fail(c, fiber.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a submission holds at most %d bytes", MaxFormBody))
	}
	vals, isJSON, err := parseSubmission(c.Get(fiber.HeaderContentType), body)
	var us *unsupported
	if errors.As(err, &us) {
		return fail(c, fiber.StatusUnsupportedMediaType, "unsupported_media_type", us.Error())
	}
	if err != nil {
		return err
	}
	var unknown []api.Detail
	for k := range vals {
		if k != rules.HoneypotField && !slices.Contains(wf.Fields, k) {
			unknown = append(unknown, api.Detail{Field: k, Code: "unknown_field", Message: fmt.Sprintf("the form has no field %q", k)})
		}
	}
	if len(unknown) > 0 {
		return fail(c, fiber.StatusBadRequest, "bad_request", "the submission has fields the form does not show", unknown...)
	}
	l := lang(c)
	if hp, _ := vals[rules.HoneypotField].(string); hp != "" {
		return s.thanks(c, wf, isJSON, l) // a robot: accepted, and dropped
	}
	data := map[string]any{}
	for _, name := range wf.Fields {
		if v, ok := vals[name]; ok && v != "" {
			f, _ := o.Field(name)
			data[name] = formValue(f, v, isJSON)
		}
	}
	for k, v := range wf.Values {
		data[k] = v
	}
	ctx := WithAllowDuplicates(c.UserContext())
	if wf.Owner != "" {
		if u, err := s.access.GetUser(ctx, wf.Owner); err == nil && u.Active {
			ctx = withFallbackOwner(ctx, u.ID)
		}
	}
	err = s.eng.Tx(ctx, access.System(nil), func(w *engine.Writer) error {
		if err := s.countSubmission(ctx, w, wf); err != nil {
			return err
		}
		_, err := w.Create(ctx, o.Name, data)
		return err
	})
	var de *engine.DuplicateError
	switch {
	case errors.Is(err, errCapped):
		c.Set(fiber.HeaderRetryAfter, "3600")
		return fail(c, fiber.StatusTooManyRequests, "throttled", "the form takes no more submissions today")
	case errors.As(err, &de):
		// A rule that blocks duplicates: the visitor learns nothing of the
		// records there.
		return s.thanks(c, wf, isJSON, l)
	case err != nil:
		return err
	}
	return s.thanks(c, wf, isJSON, l)
}

// countSubmission counts a record the form creates today (UTC) in the
// database, in the unit of work, so the cap holds across servers.
func (s *Sales) countSubmission(ctx context.Context, w *engine.Writer, wf *rules.WebForm) error {
	day := s.eng.Now().UTC().Format(time.DateOnly)
	tx := w.SQL()
	if _, err := tx.ExecContext(ctx, store.Rebind(s.db.Dialect, `INSERT INTO crm_sales_form_days ("form", "day", "count") VALUES (?, ?, 0) ON CONFLICT ("form", "day") DO NOTHING`), wf.Name, day); err != nil {
		return fmt.Errorf("sales: count submission: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, store.Rebind(s.db.Dialect, `UPDATE crm_sales_form_days SET "count" = "count" + 1 WHERE "form" = ? AND "day" = ? RETURNING "count"`), wf.Name, day).Scan(&n); err != nil {
		return fmt.Errorf("sales: count submission: %w", err)
	}
	if n > wf.Cap() {
		return errCapped
	}
	return nil
}

// thanks answers an accepted submission: JSON {"ok": true, "message"}, a
// redirect, or the thank-you page.
func (s *Sales) thanks(c *fiber.Ctx, wf *rules.WebForm, isJSON bool, l string) error {
	msg := wf.ThankYou.Get(l)
	if msg == "" {
		msg = map[string]string{"en": "Thank you.", "zh": "谢谢。"}[l]
	}
	switch {
	case isJSON:
		return c.JSON(fiber.Map{"ok": true, "message": msg})
	case wf.Redirect != "":
		return c.Redirect(wf.Redirect, fiber.StatusSeeOther)
	}
	return render(c, "page", formView{Lang: l, Title: wf.Label.Get(l), Message: msg, Page: true})
}

// parseSubmission reads a form-encoded or JSON body into values by name:
// strings for a form, JSON values for JSON.
func parseSubmission(contentType string, body []byte) (map[string]any, bool, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	bad := func(msg string) error { return &engine.RequestError{Message: msg} }
	switch {
	case err == nil && mt == fiber.MIMEApplicationForm:
		if !utf8.Valid(body) {
			return nil, false, bad("the submission is not valid UTF-8")
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, bad("the submission is not form-encoded: " + err.Error())
		}
		out := make(map[string]any, len(q))
		for k, vs := range q {
			if len(vs) > 1 {
				return nil, false, &engine.RequestError{Message: "a field is sent twice", Details: []engine.FieldError{{Field: k, Code: "invalid", Message: "sent more than once"}}}
			}
			if strings.ContainsRune(vs[0], 0) {
				return nil, false, bad("the submission holds a NUL character")
			}
			out[k] = vs[0]
		}
		return out, false, nil
	case err == nil && mt == fiber.MIMEApplicationJSON:
		if !utf8.Valid(body) || bytes.ContainsRune(body, 0) {
			return nil, true, bad("the submission is not valid UTF-8 JSON")
		}
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var out map[string]any
		if err := d.Decode(&out); err != nil {
			return nil, true, bad("the submission is not a JSON object: " + err.Error())
		}
		return out, true, nil
	}
	return nil, false, &unsupported{contentType}
}

// unsupported is a submission of another content type (415).
type unsupported struct{ contentType string }

// Error names the content type.
func (u *unsupported) Error() string {
	return fmt.Sprintf("send the form as application/x-www-form-urlencoded or application/json, not %q", u.contentType)
}

// formValue turns a form's text into the JSON form of a field's value
// (numbers and check boxes); JSON values stay as sent.
func formValue(f *metadata.Field, v any, isJSON bool) any {
	s, ok := v.(string)
	if isJSON || !ok {
		return v
	}
	switch k := metadata.TypeOf(f).Kind(); {
	case k.Numeric():
		return json.Number(strings.TrimSpace(s))
	case k == metadata.KindBool:
		return s == "true" || s == "on" || s == "1"
	}
	return s
}
