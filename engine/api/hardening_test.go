package api

import (
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// goInternals are fragments of Go error texts that must never reach a
// client: the server says what is wrong in the client's terms.
var goInternals = []string{"strconv.", "json: ", "Go struct", "int64", "reflect", "regexp"}

func TestAPILastAdministrator(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.run(t, []scenario{
			{name: "the last admin cannot drop their admin role", method: "PATCH", path: "/api/users/admin", user: "admin", body: `{"roles": ["sales_manager"]}`, status: 409, code: "conflict", contains: []string{"last active administrator"}},
			{name: "nor deactivate themselves through PATCH", method: "PATCH", path: "/api/users/admin", user: "admin", body: `{"active": false}`, status: 409, code: "conflict"},
			{name: "nor empty their roles", method: "PATCH", path: "/api/users/admin", user: "admin", body: `{"roles": []}`, status: 409, code: "conflict"},
			{name: "the refused change changed nothing", method: "GET", path: "/api/users/admin", user: "admin", status: 200, contains: []string{`"roles":["admin"]`, `"active":true`}},
			{name: "other users' roles still change", method: "PATCH", path: "/api/users/rep2", user: "admin", body: `{"roles": ["marketing"]}`, status: 200, contains: []string{`"roles":["marketing"]`}},
			{name: "a second administrator", method: "PATCH", path: "/api/users/manager", user: "admin", body: `{"roles": ["admin"]}`, status: 200},
			{name: "now the first may step down", method: "PATCH", path: "/api/users/admin", user: "admin", body: `{"roles": ["sales_manager"]}`, status: 200, contains: []string{`"roles":["sales_manager"]`}},
		})
		f.tokens["manager"] = loginToken(t, f, "manager", "manager-password")
		f.run(t, []scenario{
			{name: "the new last admin is protected too", method: "PATCH", path: "/api/users/manager", user: "manager", body: `{"roles": ["sales_rep"]}`, status: 409, code: "conflict"},
		})
	})
}

func TestAPIPasswordLimit(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pw72 := strings.Repeat("a", 72)
		f.run(t, []scenario{
			{name: "a 72-byte password is accepted", method: "POST", path: "/api/users", user: "admin", body: `{"username": "long", "password": "` + pw72 + `", "roles": ["sales_rep"]}`, status: 201},
			{name: "it signs in", method: "POST", path: "/api/auth/login", body: `{"username": "long", "password": "` + pw72 + `"}`, status: 200, contains: []string{`"token"`}},
			{name: "one byte more does not sign in", method: "POST", path: "/api/auth/login", body: `{"username": "long", "password": "` + pw72 + `x"}`, status: 422, code: "invalid", contains: []string{"72"}, notContain: []string{`"token"`}},
			{name: "a 73-byte password is not set", method: "PUT", path: "/api/users/long/password", user: "admin", body: `{"password": "` + pw72 + `x"}`, status: 422, code: "invalid", contains: []string{"72"}},
			{name: "nor given to a new user", method: "POST", path: "/api/users", user: "admin", body: `{"username": "longer", "password": "` + pw72 + `x", "roles": ["sales_rep"]}`, status: 422, code: "invalid"},
			{name: "multi-byte characters count as bytes", method: "POST", path: "/api/users", user: "admin", body: `{"username": "wide", "password": "` + strings.Repeat("密", 25) + `", "roles": ["sales_rep"]}`, status: 422, code: "invalid"},
			{name: "current_password over the limit is refused, not compared", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-rep1-password", "current_password": "` + pw72 + `x"}`, status: 422, code: "invalid"},
		})
	})
}

func TestAPITokenLifetime(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.run(t, []scenario{
			{name: "above ten years", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "a", "ttl_seconds": 9999999999}`, status: 400, code: "bad_request", contains: []string{`"field":"ttl_seconds"`, "315360000"}},
			{name: "would wrap around", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "b", "ttl_seconds": 100000000000000}`, status: 400, code: "bad_request", contains: []string{`"field":"ttl_seconds"`}},
			{name: "beyond 64 bits", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "c", "ttl_seconds": 99999999999999999999}`, status: 400, code: "malformed_body", contains: []string{`"field":"ttl_seconds"`, "whole number"}, notContain: goInternals},
			{name: "an exponent is not a whole number", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "d", "ttl_seconds": 1e14}`, status: 400, code: "malformed_body", contains: []string{`"field":"ttl_seconds"`}, notContain: goInternals},
			{name: "negative", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "e", "ttl_seconds": -1}`, status: 400, code: "bad_request"},
			{name: "exactly ten years", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "f", "ttl_seconds": 315360000}`, status: 201, contains: []string{`"expires_at"`}},
			{name: "no expiry", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": "g", "ttl_seconds": 0}`, status: 201, notContain: []string{`"expires_at"`}},
		})
	})
}

func TestAPIVersionMustBeAPositiveInteger(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		acc := f.create("rep1", "account", `{"name": "Acme"}`)
		path := "/api/records/account/" + acc
		var scs []scenario
		for _, v := range []string{"4.0", "1.0", "99999999999999999999", "-1", "0", "1e0", "true", `"one"`} {
			scs = append(scs, scenario{name: "version " + v, method: "PATCH", path: path, user: "rep1", body: `{"version": ` + v + `, "city": "Hangzhou"}`,
				status: 422, code: "invalid_record", contains: []string{`"field":"version"`, "positive whole number"}, notContain: append([]string{"you sent version"}, goInternals...)})
		}
		scs = append(scs,
			scenario{name: "nothing was written", method: "GET", path: path, user: "rep1", status: 200, contains: []string{`"version":1`}, notContain: []string{"Hangzhou"}},
			scenario{name: "a stale whole version is still a conflict", method: "PATCH", path: path, user: "rep1", body: `{"version": 4, "city": "Hangzhou"}`, status: 409, code: "conflict"},
			scenario{name: "the current version writes", method: "PATCH", path: path, user: "rep1", body: `{"version": 1, "city": "Hangzhou"}`, status: 200, contains: []string{`"version":2`}},
		)
		f.run(t, scs)
	})
}

func TestAPIMessagesHideGoInternals(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.run(t, []scenario{
			{name: "a huge whole number", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "x", "employees": 1e300}`, status: 422, code: "invalid_record", contains: []string{`"field":"employees"`, "whole number"}, notContain: goInternals},
			{name: "a whole number out of range", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "x", "employees": 99999999999999999999}`, status: 422, code: "invalid_record", contains: []string{"too large"}, notContain: goInternals},
			{name: "a number out of range", method: "POST", path: "/api/records/account", user: "rep1", body: `{"name": "x", "satisfaction": 1e400}`, status: 422, code: "invalid_record", notContain: goInternals},
			{name: "a wrong type in a known key", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": 5}`, status: 400, code: "malformed_body", contains: []string{`"field":"name"`, "must be text"}, notContain: goInternals},
			{name: "an unknown key", method: "POST", path: "/api/auth/login", body: `{"username": "a", "password": "b", "otp": 1}`, status: 400, code: "malformed_body", contains: []string{`"field":"otp"`}, notContain: goInternals},
			{name: "broken JSON", method: "POST", path: "/api/users/rep1/tokens", user: "rep1", body: `{"name": x}`, status: 400, code: "malformed_body", contains: []string{"byte"}, notContain: goInternals},
			{name: "a bad name in a definition", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "Bad Name", "type": "text"}`, status: 422, code: "invalid_metadata", contains: []string{`"path":"/name"`, "lowercase letter"}, notContain: append([]string{"^[", "pattern"}, goInternals...)},
			{name: "a bad language code", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "vip", "type": "boolean", "label": {"english": "VIP"}}`, status: 422, code: "invalid_metadata", contains: []string{"language code"}, notContain: []string{"^["}},
			{name: "a broken regular expression", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "code", "type": "text", "pattern": "("}`, status: 422, code: "invalid_metadata", contains: []string{"missing closing )"}, notContain: append([]string{"error parsing"}, goInternals[:4]...)},
			{name: "a filter integer out of range", method: "GET", path: "/api/records/account?filter=employees%20%3E%2099999999999999999999999", user: "rep1", status: 400, code: "bad_query", notContain: goInternals},
		})
	})
}
