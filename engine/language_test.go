package engine

import "testing"

func TestParseAcceptLanguage(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"zh-CN,zh;q=0.9,en;q=0.8": "zh",
		"en-US,en;q=0.9":          "en",
		"fr-FR, zh-TW;q=0.5":      "zh",
		"fr":                      "",
		"":                        "",
	}
	for in, want := range cases {
		if got := ParseAcceptLanguage(in); got != want {
			t.Errorf("ParseAcceptLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}
