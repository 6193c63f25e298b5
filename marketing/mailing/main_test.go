package mailing_test

import (
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestMain removes the databases of the seeds the tests copy.
func TestMain(m *testing.M) { storetest.Main(m) }
