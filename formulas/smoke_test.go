package formulas

import (
	"context"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	s := loadSchema(t)
	c := mustCompile(t, s)
	t.Log(c.Object("opportunity").ComputedFields())
	t.Log(c.Object("account").ComputedFields())
	for _, d := range c.LookupDependents("account") {
		t.Logf("%+v", d)
	}
	for _, r := range c.Rollups() {
		t.Logf("%+v", *r)
	}
	r := newMemResolver(s)
	r.put("account", map[string]any{"id": idParent, "name": "Parent Co"})
	r.put("account", map[string]any{"id": idAcc1, "name": "Acme", "industry": "retail", "parent": idParent, "credit_limit": int64(500000000)})
	r.put("user", map[string]any{"id": idUser1, "name": "Rep", "manager": idUser2})
	r.put("user", map[string]any{"id": idUser2, "name": "Boss"})
	rec := map[string]any{"id": idOpp1, "name": "big deal", "account": idAcc1, "stage": "proposal", "amount": int64(123456789), "discount": 10.0,
		"created_at": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "owner_id": idUser1, "tags": `["a","b"]`}
	ctx := WithNow(context.Background(), time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	op := c.Object("opportunity")
	if err := op.Defaults(rec, time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := op.Compute(ctx, rec, r); err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", rec)
	t.Log(r.calls)
	fs, err := op.Validate(ctx, rec, r)
	t.Log(fs, err)
	r.put("opportunity", rec)
	acc := r.records["account"][idAcc1]
	if err := c.Object("account").Compute(ctx, acc, r); err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", acc)
}
