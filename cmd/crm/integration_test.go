package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWebhooksAndLinksInATemplate: a template's webhooks/ and links/
// folders are checked by crm validate (a link that is not http or https
// is reported with its file), and crm migrate refuses a webhook whose host
// the operator did not allow (CRM_WEBHOOK_ALLOW), then applies it once the
// host is listed.
func TestWebhooksAndLinksInATemplate(t *testing.T) {
	dir := t.TempDir()
	must := func(name, body string) { writeFile(t, dir, name, body) }
	must("template.yaml", "name: erp\nextends: standard\n")
	must("webhooks/erp_accounts.yaml", `name: erp_accounts
url: https://erp.example.com/hooks/crm
secret: 9f4c2e71b8d54a0f8e6b3c1d
events:
  - {event: record.created, object: account}
  - {event: approval.approved, object: opportunity}
`)
	must("links/account_erp.yaml", "name: account_erp\nobject: account\nlabel: {en: Open in ERP, zh: 在 ERP 中打开}\nurl: \"javascript:alert({{name}})\"\n")
	code, out := runCmd(t, "validate", dir)
	if code != 1 || !strings.Contains(out, "links/account_erp.yaml") || !strings.Contains(out, "/url") {
		t.Fatalf("a javascript: link: exit %d\n%s", code, out)
	}
	must("links/account_erp.yaml", "name: account_erp\nobject: account\nlabel: {en: Open in ERP, zh: 在 ERP 中打开}\nurl: \"https://erp.example.com/customer/{{id}}\"\n")
	if code, out = runCmd(t, "validate", dir); code != 0 {
		t.Fatalf("a sound template: exit %d\n%s", code, out)
	}
	db := filepath.Join(t.TempDir(), "crm.db")
	t.Setenv("CRM_WEBHOOK_ALLOW", "")
	code, out = runCmd(t, "migrate", "--db", db, "--dir", dir)
	if code == 0 || !strings.Contains(out, "erp.example.com") || !strings.Contains(out, "allow-list") {
		t.Fatalf("a host not on the allow-list: exit %d\n%s", code, out)
	}
	t.Setenv("CRM_WEBHOOK_ALLOW", "erp.example.com")
	if code, out = runCmd(t, "migrate", "--db", db, "--dir", dir); code != 0 || !strings.Contains(out, "applied as metadata version 1") {
		t.Fatalf("with the host listed: exit %d\n%s", code, out)
	}
}
