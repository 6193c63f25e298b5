package access

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Table names of the access system tables.
const (
	TableUsers   = "crm_users"
	TableTokens  = "crm_tokens"
	TableRules   = "crm_casbin_rule"
	TableShares  = "crm_shares"
	TableRoles   = "crm_roles"
	TableVersion = "crm_access_version"
)

// userRow is a row of crm_users. Roles holds a JSON list of role names.
type userRow struct {
	bun.BaseModel `bun:"table:crm_users"`

	ID           string    `bun:"id,pk,type:varchar(36)"`
	Username     string    `bun:"username,notnull,unique,type:varchar(64)"`
	DisplayName  string    `bun:"display_name,notnull"`
	Email        string    `bun:"email,notnull,default:''"`
	PasswordHash string    `bun:"password_hash,notnull"`
	Active       bool      `bun:"active,notnull"`
	ManagerID    string    `bun:"manager_id,nullzero,type:varchar(36)"`
	Department   string    `bun:"department,notnull"`
	Language     string    `bun:"language,notnull,default:''"`
	Phone        string    `bun:"phone,notnull,default:''"`
	Roles        string    `bun:"roles,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

// tokenRow is a row of crm_tokens. Hash is the hex SHA-256 of the token;
// the token itself is never stored.
type tokenRow struct {
	bun.BaseModel `bun:"table:crm_tokens"`

	ID         string    `bun:"id,pk,type:varchar(36)"`
	UserID     string    `bun:"user_id,notnull,type:varchar(36)"`
	Hash       string    `bun:"hash,notnull,unique,type:varchar(64)"`
	Kind       string    `bun:"kind,notnull,type:varchar(16)"`
	Name       string    `bun:"name,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

// ruleRow is a row of crm_casbin_rule: one Casbin policy or grouping rule.
type ruleRow struct {
	bun.BaseModel `bun:"table:crm_casbin_rule"`

	ID    int64  `bun:"id,pk,autoincrement"`
	Ptype string `bun:"ptype,notnull,type:varchar(8)"`
	V0    string `bun:"v0,notnull"`
	V1    string `bun:"v1,notnull"`
	V2    string `bun:"v2,notnull"`
	V3    string `bun:"v3,notnull"`
	V4    string `bun:"v4,notnull"`
	V5    string `bun:"v5,notnull"`
}

// shareRow is a row of crm_shares: one record shared with one user.
type shareRow struct {
	bun.BaseModel `bun:"table:crm_shares"`

	Object    string    `bun:"object,pk,type:varchar(64)"`
	RecordID  string    `bun:"record_id,pk,type:varchar(64)"`
	UserID    string    `bun:"user_id,pk,type:varchar(36)"`
	Access    string    `bun:"access,notnull,type:varchar(8)"`
	CreatedBy string    `bun:"created_by,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// roleRow is a row of crm_roles: the roles the last SyncRoles declared, so
// users can be checked against them without the metadata at hand.
type roleRow struct {
	bun.BaseModel `bun:"table:crm_roles"`

	Name        string `bun:"name,pk,type:varchar(64)"`
	Label       string `bun:"label,notnull"`
	Parent      string `bun:"parent,notnull"`
	Description string `bun:"description,notnull"`
}

// versionRow is the single row of crm_access_version; every change of
// policies, roles or users bumps Version so every server sharing the
// database rebuilds its decisions on its next request.
type versionRow struct {
	bun.BaseModel `bun:"table:crm_access_version"`

	ID      int   `bun:"id,pk"`
	Version int64 `bun:"version,notnull"`
}

// Migrate creates the access system tables and indexes if they do not
// exist. It is idempotent and safe to run on every start.
func (s *Service) Migrate(ctx context.Context) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range []any{(*userRow)(nil), (*tokenRow)(nil), (*ruleRow)(nil), (*shareRow)(nil), (*roleRow)(nil), (*versionRow)(nil)} {
			if _, err := tx.NewCreateTable().Model(m).IfNotExists().Exec(ctx); err != nil {
				return fmt.Errorf("access: migrate: %w", err)
			}
		}
		// Columns added after the table's first version.
		cols, err := s.db.Columns(ctx, tx.Tx, TableUsers)
		if err != nil {
			return fmt.Errorf("access: migrate: %w", err)
		}
		for _, col := range []string{"language", "phone"} {
			if !slices.Contains(cols, col) {
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+TableUsers+" ADD COLUMN "+col+" TEXT NOT NULL DEFAULT ''"); err != nil {
					return fmt.Errorf("access: migrate %s.%s: %w", TableUsers, col, err)
				}
			}
		}
		indexes := []struct {
			model   any
			name    string
			columns []string
		}{
			{(*userRow)(nil), "crm_users_manager_idx", []string{"manager_id"}},
			{(*userRow)(nil), "crm_users_department_idx", []string{"department"}},
			{(*tokenRow)(nil), "crm_tokens_user_idx", []string{"user_id"}},
			{(*shareRow)(nil), "crm_shares_user_object_idx", []string{"user_id", "object", "record_id"}},
			{(*ruleRow)(nil), "crm_casbin_rule_ptype_idx", []string{"ptype", "v0"}},
		}
		for _, ix := range indexes {
			if _, err := tx.NewCreateIndex().Model(ix.model).Index(ix.name).Column(ix.columns...).IfNotExists().Exec(ctx); err != nil {
				return fmt.Errorf("access: migrate index %s: %w", ix.name, err)
			}
		}
		if _, err := tx.NewInsert().Model(&versionRow{ID: 1, Version: 1}).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("access: migrate version row: %w", err)
		}
		return nil
	})
}

// bumpVersion increments the policy version on conn (a transaction, or
// db when nil).
func bumpVersion(ctx context.Context, db *bun.DB, conn bun.IConn) error {
	if _, err := db.NewUpdate().Conn(conn).Model((*versionRow)(nil)).Set("version = version + 1").Where("id = 1").Exec(ctx); err != nil {
		return fmt.Errorf("access: bump policy version: %w", err)
	}
	return nil
}

// PolicyVersion returns the current policy version: a number that grows on
// every change of policies, roles or users.
func (s *Service) PolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.NewSelect().Model((*versionRow)(nil)).Column("version").Where("id = 1").Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("access: read policy version: %w", err)
	}
	return v, nil
}
