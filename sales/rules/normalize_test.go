package rules

import "testing"

// TestNormalizers covers each normalisation with English and Chinese
// input: values that must match fold to the same key, values that must
// not stay apart.
func TestNormalizers(t *testing.T) {
	cases := []struct {
		how, a, b string
		same      bool
	}{
		{NormalizeExact, "Acme", "Acme", true},
		{NormalizeExact, "Acme", "acme", false},
		{NormalizeFold, "  ACME   Trading ", "acme trading", true},
		{NormalizeFold, "ＡＣＭＥ　Ｔｒａｄｉｎｇ", "acme trading", true}, // full-width letters and ideographic space
		{NormalizeFold, "杭州 科技", "杭州　科技", true},
		{NormalizeFold, "acme trading", "acme-trading", false},
		{NormalizePhone, "+86 (571) 8888-0000", "8657188880000", true},
		{NormalizePhone, "０５７１－８８８８００００", "057188880000", true}, // full-width digits
		{NormalizePhone, "138 0013 8000", "138 0013 8001", false},
		{NormalizeEmail, " Li.Lei@Example.COM ", "li.lei@example.com", true},
		{NormalizeEmail, "li.lei@example.com", "lilei@example.com", false},
		{NormalizeCompany, "ACME Trading Co., Ltd.", "Acme Trading", true},
		{NormalizeCompany, "Acme, Inc.", "acme", true},
		{NormalizeCompany, "Acme Corporation", "ACME LLC", true},
		{NormalizeCompany, "Acme GmbH", "Acme Trading GmbH", false},
		{NormalizeCompany, "杭州阿里巴巴网络技术有限公司", "杭州阿里巴巴网络技术", true},
		{NormalizeCompany, "华为技术股份有限公司", "华为技术有限公司", true},
		{NormalizeCompany, "阿里巴巴（中国）有限公司", "阿里巴巴(中国)", true}, // full-width parentheses
		{NormalizeCompany, "腾讯科技有限公司", "腾讯音乐有限公司", false},
		{NormalizeCompany, "Limited", "limited", true}, // a name that is only a suffix is kept
	}
	for _, c := range cases {
		n := Normalizers[c.how]
		ka, kb := n(c.a), n(c.b)
		if (ka == kb) != c.same || ka == "" {
			t.Errorf("%s(%q) = %q, %s(%q) = %q; same = %v, want %v", c.how, c.a, ka, c.how, c.b, kb, ka == kb, c.same)
		}
	}
}
