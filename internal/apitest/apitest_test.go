package apitest_test

import (
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

func TestServerSignsEveryoneIn(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme & Co"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "each user is signed in", Method: "GET", Path: "/api/auth/me", User: "agent", Status: 200, Contains: []string{`"username":"agent"`}},
			{Name: "anonymous is not", Method: "GET", Path: "/api/auth/me", Status: 401, Code: "unauthenticated"},
			{Name: "the owner reads", Method: "GET", Path: "/api/records/account/" + acc, User: "rep1", Status: 200, Contains: []string{`"name":"Acme \u0026 Co"`}},
			{Name: "another rep does not", Method: "GET", Path: "/api/records/account/" + acc, User: "rep2", Status: 404, NotContain: []string{"Acme"}},
			{Name: "queries are escaped", Method: "GET", Path: "/api/records/account?total=true&filter=" + apitest.Query(`name == "Acme & Co"`), User: "manager", Status: 200, Contains: []string{`"total":1`}},
		})
	})
}
