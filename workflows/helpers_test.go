package workflows_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/internal/apitest"
)

// version returns the version of a record as admin reads it.
func version(t *testing.T, s *apitest.Server, object, id string) string {
	t.Helper()
	status, m := s.Do("GET", "/api/records/"+object+"/"+id, "admin", "")
	if status != 200 {
		t.Fatalf("read %s %s: %d %v", object, id, status, m)
	}
	return m["version"].(json.Number).String()
}

// patch sends PATCH with the record's current version added to body (a
// JSON object) and returns the status and answer.
func patch(t *testing.T, s *apitest.Server, user, object, id, body string) (int, map[string]any) {
	t.Helper()
	v := version(t, s, object, id)
	body = strings.TrimSpace(body)
	body = fmt.Sprintf(`{"version": %s, %s`, v, strings.TrimPrefix(body, "{"))
	return s.Do("PATCH", "/api/records/"+object+"/"+id, user, body)
}

// mustPatch is patch that fails the test unless the answer is 200.
func mustPatch(t *testing.T, s *apitest.Server, user, object, id, body string) map[string]any {
	t.Helper()
	status, m := patch(t, s, user, object, id, body)
	if status != 200 {
		t.Fatalf("PATCH %s %s as %s with %s: %d %v", object, id, user, body, status, m)
	}
	return m
}

// wantError checks an error answer's status and that its JSON holds every
// part.
func wantError(t *testing.T, status int, m map[string]any, wantStatus int, parts ...string) {
	t.Helper()
	raw, _ := json.Marshal(m)
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, raw)
	}
	for _, p := range parts {
		if !strings.Contains(string(raw), p) {
			t.Errorf("the answer lacks %q: %s", p, raw)
		}
	}
}

// accessLanguage is a user update setting the language.
func accessLanguage(lang string) access.UserUpdate { return access.UserUpdate{Language: &lang} }
