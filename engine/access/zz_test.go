package access_test

import (
	"context"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
)

func TestZZPrint(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db)
	d, _ := w.svc.Decide(context.Background(), w.sc)
	for _, u := range []string{"rep1", "boss", "tl"} {
		s, a, err := d.RecordFilter(context.Background(), w.principal(u), "account", "read")
		t.Log(s, a, err)
	}
}
