package engine

import (
	"context"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// AccessGuard makes the access service the engine's Guard.
type AccessGuard struct{ Service *access.Service }

// Decide returns the access decision for schema s.
func (g AccessGuard) Decide(ctx context.Context, s *metadata.Schema) (Decision, error) {
	return g.Service.Decide(ctx, s)
}
