package api

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// documentedCodes reads the error codes listed in the error table of
// docs/api.md: the codes every error answer must use.
var documentedCodes = sync.OnceValues(func() (map[string]bool, error) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		return nil, err
	}
	_, table, _ := strings.Cut(string(doc), "| status | code | when |")
	codes := map[string]bool{}
	code := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(table, "\n")[1:] {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 4 {
			break
		}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			codes[m[1]] = true
		}
	}
	return codes, nil
})

// checkDocumentedError fails t unless raw is an error body whose code
// docs/api.md lists.
func checkDocumentedError(t *testing.T, raw []byte) {
	t.Helper()
	codes, err := documentedCodes()
	if err != nil {
		t.Fatal(err)
	}
	var eb ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Message == "" {
		t.Fatalf("an error answer must be an error body with a message: %s", raw)
	}
	if !codes[eb.Error.Code] {
		t.Errorf("error code %q is not listed in docs/api.md: %s", eb.Error.Code, raw)
	}
}

func TestEveryStatusHasADocumentedCode(t *testing.T) {
	t.Parallel()
	codes, err := documentedCodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) < 10 {
		t.Fatalf("the error table of docs/api.md was not found: %v", codes)
	}
	for status := 400; status < 600; status++ {
		if c := statusCode(status); !codes[c] {
			t.Errorf("status %d answers code %q, which docs/api.md does not list", status, c)
		}
	}
}
