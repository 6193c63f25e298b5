package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBuilder: an administrator builds a custom object in the
// builder (a cascading picklist, a computed amount, a validation rule;
// a formula error shown at its line and column before saving; every
// change's plan reviewed before it applies) and grants a role; a sales
// rep then fills the generated form: the cascade narrows, the rule's
// error appears next to its field, the computed value shows after save.
func TestBrowserBuilder(t *testing.T) {
	_, base := liveServer(t)
	a := newTab(t, base, "admin")
	a.login("admin")
	a.open("/ui/admin/")
	a.checkA11y("builder")
	a.shot("builder")
	a.noErrors("builder")

	a.do(chromedp.SendKeys(chromedp.ID("b_name"), "machine"), chromedp.SendKeys(chromedp.ID("b_label_en"), "Machine"),
		chromedp.SendKeys(chromedp.ID("b_label_zh"), "机床"), chromedp.SendKeys(chromedp.ID("b_plural_en"), "Machines"))
	a.submit(`form[action="/ui/admin/objects"] button[type=submit]`)
	a.checkA11y("plan")
	a.shot("builder-plan")
	a.apply("new object", "add_object machine", "CREATE TABLE")

	// addField opens the editor of a new field of typ and fills it.
	addField := func(typ string, fill func()) {
		t.Helper()
		a.open("/ui/admin/objects/machine")
		a.setSelect("#new-type", typ)
		a.submit(`form[action="/ui/admin/objects/machine/fields/new"] button[type=submit]`)
		fill()
		a.submit(`form.field-form button[type=submit]`)
	}
	addField("picklist", func() {
		a.do(chromedp.SendKeys(chromedp.ID("b_name"), "country"), chromedp.SendKeys(chromedp.ID("b_label_en"), "Country"),
			chromedp.SetValue(chromedp.ID("b_options"), "cn | China | 中国\nus | United States | 美国"))
	})
	a.apply("country", "add_field machine.country")
	addField("picklist", func() {
		a.do(chromedp.SendKeys(chromedp.ID("b_name"), "region"), chromedp.SendKeys(chromedp.ID("b_label_en"), "Region"),
			chromedp.SetValue(chromedp.ID("b_options"), "east | East China | 华东 | cn\nwest | West Coast | 美国西部 | us"))
		a.setSelect("#b_depends_on", "country")
		a.checkA11y("field editor")
		a.shot("builder-field")
	})
	a.apply("region", "add_field machine.region")
	addField("currency", func() {
		a.do(chromedp.SendKeys(chromedp.ID("b_name"), "price"), chromedp.SendKeys(chromedp.ID("b_label_en"), "Price"), chromedp.SendKeys(chromedp.ID("b_scale"), "2"))
	})
	a.apply("price", "add_field machine.price")
	addField("currency", func() {
		a.do(chromedp.SendKeys(chromedp.ID("b_name"), "tax"), chromedp.SendKeys(chromedp.ID("b_label_en"), "Tax"), chromedp.SetValue(chromedp.ID("b_formula"), "price *"))
	})
	if msg := a.text("#b_formula_error"); !strings.Contains(msg, "line 1, column") {
		t.Fatalf("the formula's error: %q", msg)
	}
	a.shot("builder-formula-error")
	a.forgetErrors() // the refused form answers 422
	a.do(chromedp.SetValue(chromedp.ID("b_formula"), "price * 0.1"))
	a.submit(`form.field-form button[type=submit]`)
	a.apply("tax", "add_field machine.tax")

	// A validation rule.
	a.open("/ui/admin/objects/machine")
	a.do(chromedp.SendKeys(chromedp.ID("b_rule0_name"), "price_positive"), chromedp.SetValue(chromedp.ID("b_rule0_condition"), "price > 0"),
		chromedp.SendKeys(chromedp.ID("b_rule0_msg_en"), "The price must be positive"))
	a.setSelect("#b_rule0_field", "price")
	a.checkA11y("object page")
	a.shot("builder-object")
	a.submit(`form[action="/ui/admin/objects/machine"] button[type=submit]`)
	a.apply("rule", "alter_object machine")

	// Grant the sales reps their own machines in the grid.
	a.open("/ui/admin/roles/sales_rep")
	for _, act := range []string{"create", "read", "update"} {
		eval[bool](a, `(() => { const c = document.getElementById("perm.machine.`+act+`"); c.focus(); c.click(); return c.checked })()`)
	}
	a.checkA11y("role page")
	a.shot("builder-role")
	a.submit(`form[action="/ui/admin/roles/sales_rep"] button[type=submit]`)
	a.apply("role", "change_roles")
	a.open("/ui/admin/versions")
	if body := a.text("main"); !strings.Contains(body, "update role sales_rep") || !strings.Contains(body, "add field machine.tax") {
		t.Errorf("versions: %s", body)
	}
	a.checkA11y("versions")
	a.shot("builder-versions")
	a.noErrors("versions")

	// The rep fills the generated form.
	r := newTab(t, base, "rep1")
	r.login("rep1")
	r.open("/ui/o/machine/new")
	r.setSelect("#f_country", "us")
	r.do(chromedp.WaitReady(chromedp.CSS(`#f_region option[value="west"]`)))
	if r.has(`#f_region option[value="east"]`) {
		t.Error("the region still offers East China for the United States")
	}
	r.setSelect("#f_country", "cn")
	r.do(chromedp.WaitReady(chromedp.CSS(`#f_region option[value="east"]`)))
	r.setSelect("#f_region", "east")
	r.do(chromedp.SendKeys(chromedp.ID("f_name"), "Lathe"), chromedp.SendKeys(chromedp.ID("f_price"), "-5"))
	r.submit(`form.record-form button[type=submit]`)
	if msg := r.text("#f_price_error"); !strings.Contains(msg, "The price must be positive") {
		t.Fatalf("the rule's error next to the price: %q", msg)
	}
	r.shot("machine-form-error")
	r.forgetErrors()
	r.do(chromedp.SetValue(chromedp.ID("f_price"), "1234.5"))
	r.submit(`form.record-form button[type=submit]`)
	body := r.text("main")
	if !strings.Contains(body, "123.45") || !strings.Contains(body, "East China") {
		t.Fatalf("the saved machine lacks its computed tax: %s", body)
	}
	r.checkA11y("machine detail")
	r.shot("machine-detail")
	r.noErrors("machine detail")
}
