package templates

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// table records every template installed or upgraded: one row per
// metadata version a template made, with the template's own schema (as
// shipped, without the administrators' changes): the base of the next
// upgrade's three-way merge.
const table = "crm_templates"

// ErrNotInstalled means no template is known to be installed, so there is
// nothing to upgrade or export the manifest of.
var ErrNotInstalled = errors.New("templates: no template is installed")

// Service installs, upgrades and exports templates on one engine.
type Service struct {
	eng *engine.Engine
}

// Installed is a template installed or upgraded in the database.
type Installed struct {
	Manifest
	// MetadataVersion is the metadata version it made.
	MetadataVersion int64     `json:"metadata_version"`
	InstalledAt     time.Time `json:"installed_at"`
	// schema is the template's own schema.
	schema *metadata.Schema
}

// pending is the template a metadata change installs, passed to the schema
// hook through the context.
type pending struct {
	m Manifest
	s *metadata.Schema
	// done is set by the first hook that recorded it (two services on one
	// engine record it once).
	done bool
}

// pendingKey is the context key of a pending install.
type pendingKey struct{}

// New creates the service's table and attaches its schema hook to eng
// (call it at wiring time, before metadata changes).
func New(ctx context.Context, eng *engine.Engine) (*Service, error) {
	ts := "TEXT"
	if eng.DB().Dialect == metadata.DialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	if _, err := eng.DB().SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		metadata_version BIGINT PRIMARY KEY,
		name VARCHAR(64) NOT NULL,
		version VARCHAR(64) NOT NULL,
		manifest TEXT NOT NULL,
		installed_at `+ts+` NOT NULL,
		schema TEXT NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("templates: create %s: %w", table, err)
	}
	sv := &Service{eng: eng}
	eng.OnSchemaApplied(sv.record)
	return sv, nil
}

// record writes the crm_templates row of a metadata change that installs
// or upgrades a template, in the change's transaction.
func (sv *Service) record(ctx context.Context, tx bun.Tx, _ *metadata.Schema) error {
	p, ok := ctx.Value(pendingKey{}).(*pending)
	if !ok || p.done {
		return nil
	}
	p.done = true
	var version int64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM crm_meta_versions").Scan(&version); err != nil {
		return fmt.Errorf("templates: record %s: %w", p.m.Name, err)
	}
	man, err := json.Marshal(p.m)
	if err != nil {
		return err
	}
	sch, err := json.Marshal(p.s)
	if err != nil {
		return err
	}
	// bun formats the ? placeholders itself, for either database.
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (metadata_version, name, version, manifest, installed_at, schema) VALUES (?, ?, ?, ?, ?, ?)",
		version, p.m.Name, p.m.Version, string(man), time.Now().UTC().Format(time.RFC3339Nano), string(sch)); err != nil {
		return fmt.Errorf("templates: record %s: %w", p.m.Name, err)
	}
	return nil
}

// Current returns the template installed last (ErrNotInstalled when none
// is known). A database installed before this table existed (crm serve's
// first start) is recognised by its first metadata version's comment,
// "install template NAME VERSION", whose schema is the template's.
func (sv *Service) Current(ctx context.Context) (*Installed, error) {
	db := sv.eng.DB()
	var man, sch, at string
	var in Installed
	err := db.SQL().QueryRowContext(ctx, "SELECT metadata_version, manifest, schema, "+textOf(db.Dialect, "installed_at")+" FROM "+table+" ORDER BY metadata_version DESC LIMIT 1").Scan(&in.MetadataVersion, &man, &sch, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sv.firstInstall(ctx)
	case err != nil:
		return nil, fmt.Errorf("templates: read %s: %w", table, err)
	}
	if err := json.Unmarshal([]byte(man), &in.Manifest); err != nil {
		return nil, fmt.Errorf("templates: read %s: %w", table, err)
	}
	in.schema = &metadata.Schema{}
	if err := json.Unmarshal([]byte(sch), in.schema); err != nil {
		return nil, fmt.Errorf("templates: read %s: %w", table, err)
	}
	in.InstalledAt, _ = parseTime(at)
	return &in, nil
}

// textOf reads a timestamp column as text on both databases.
func textOf(dialect, col string) string {
	if dialect == metadata.DialectPostgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
	}
	return col
}

// parseTime reads a timestamp as textOf gives it.
func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// installComment is the comment of the metadata version that installed a
// template (engine.InstallTemplate and Install write it).
var installComment = regexp.MustCompile(`^install template (\S+) (\S*)$`)

// firstInstall recognises a template installed by engine.InstallTemplate.
func (sv *Service) firstInstall(ctx context.Context) (*Installed, error) {
	db := sv.eng.DB()
	v, err := db.LoadVersion(ctx, db.SQL(), 1)
	if err != nil || v == nil {
		return nil, ErrNotInstalled
	}
	m := installComment.FindStringSubmatch(v.Comment)
	if m == nil {
		return nil, ErrNotInstalled
	}
	return &Installed{Manifest: Manifest{Name: m[1], Version: m[2]}, MetadataVersion: 1, InstalledAt: v.CreatedAt, schema: v.Schema}, nil
}

// Load reads and checks a template folder (its base included).
func Load(fsys fs.FS) (Manifest, *metadata.Schema, error) {
	tpl, s, ps := metadata.LoadFS(fsys)
	if len(ps) > 0 {
		return Manifest{}, nil, ps
	}
	return *tpl, s, nil
}

// Plan is what an install or upgrade does (or did): the template, the
// template it replaces, the metadata changes, the conflicts where the
// administrators' value is kept and the statements the database runs.
type Plan struct {
	Template Manifest `json:"template"`
	// From is the template installed before ("NAME VERSION"), if any.
	From    string            `json:"from,omitempty"`
	Changes []metadata.Change `json:"changes"`
	// Described are the changes in words.
	Described []string   `json:"described"`
	Conflicts []Conflict `json:"conflicts"`
	SQL       string     `json:"sql"`
	// Version is the metadata version made (the one it would make for a
	// plan).
	Version int64 `json:"version"`
	Applied bool  `json:"applied"`
}

// Apply installs a template folder: on a database without metadata as
// its first version; otherwise it merges the template into the current
// metadata three ways (see Merge), the base being the template installed
// last (or nothing, when none is known: then every difference is a
// conflict and the current value is kept). With planOnly it changes
// nothing and says what it would do; otherwise it applies the result as
// one metadata version whose comment records the install or upgrade and
// the conflicts resolved for the current value, and records the template
// in crm_templates in the same transaction.
func (sv *Service) Apply(ctx context.Context, fsys fs.FS, author string, planOnly bool) (*Plan, error) {
	return sv.ApplyFrom(ctx, fsys, author, planOnly, AnyVersion)
}

// AnyVersion is the base of ApplyFrom for a plan not reviewed before: it
// applies on whatever version is current.
const AnyVersion = -1

// ApplyFrom is Apply of a plan reviewed on metadata version base (0 for
// empty metadata, AnyVersion for none): when metadata is no longer at
// base, or changes before the install is applied, it refuses with
// engine.ErrStale and changes nothing, so what applies is what was
// reviewed.
func (sv *Service) ApplyFrom(ctx context.Context, fsys fs.FS, author string, planOnly bool, base int64) (*Plan, error) {
	m, next, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	latest, err := sv.eng.DB().LatestVersion(ctx, sv.eng.DB().SQL())
	if err != nil {
		return nil, err
	}
	if base != AnyVersion && latest != base {
		return nil, stale(m, base, latest)
	}
	p := &Plan{Template: m}
	merged, comment := next, "install template "+m.Name+" "+m.Version
	var current *metadata.Schema
	opt := engine.ApplyOptions{Author: author, DryRun: planOnly, Base: max(base, 0)}
	if latest > 0 {
		snap := sv.eng.Snapshot()
		if base != AnyVersion && snap.Version != base {
			// This server has not loaded the version the database holds.
			if _, err := sv.eng.Reload(ctx); err != nil {
				return nil, err
			}
			if snap = sv.eng.Snapshot(); snap.Version != base {
				return nil, stale(m, base, snap.Version)
			}
		}
		current, opt.Base = snap.Schema, snap.Version
		var base *metadata.Schema
		switch in, err := sv.Current(ctx); {
		case err == nil:
			base, p.From = in.schema, in.Name+" "+in.Version
		case !errors.Is(err, ErrNotInstalled):
			return nil, err
		}
		if merged, p.Conflicts, err = Merge(base, current, next); err != nil {
			return nil, err
		}
		comment = fmt.Sprintf("upgrade template %s → %s %s", p.From, m.Name, m.Version)
		if len(p.Conflicts) > 0 {
			var paths []string
			for _, c := range p.Conflicts {
				paths = append(paths, c.Path)
			}
			comment += "; kept the current value of " + strings.Join(paths, ", ")
		}
	}
	p.Changes = metadata.Diff(current, merged)
	for _, c := range p.Changes {
		p.Described = append(p.Described, c.String())
	}
	opt.Comment = comment
	ctx = context.WithValue(ctx, pendingKey{}, &pending{m: m, s: next})
	plan, version, err := sv.eng.ApplySchema(ctx, merged, opt)
	if plan != nil {
		p.SQL = plan.SQL()
	}
	if err != nil {
		return p, fmt.Errorf("templates: install %s %s: %w", m.Name, m.Version, err)
	}
	p.Version, p.Applied = version, !planOnly
	return p, nil
}

// stale is the refusal of an install of m reviewed on version base when
// metadata is at version now.
func stale(m Manifest, base, now int64) error {
	return fmt.Errorf("templates: install %s %s: %w: reviewed on version %d, now at %d", m.Name, m.Version, engine.ErrStale, base, now)
}

// Export returns the current metadata as the files of a template folder
// under the manifest of the installed template (name, label, version and
// description; "exported" when none is known).
func (sv *Service) Export(ctx context.Context) (map[string][]byte, error) {
	snap := sv.eng.Snapshot()
	if snap == nil || snap.Schema == nil {
		return nil, ErrNotInstalled
	}
	m := Manifest{Name: "exported", Version: "1.0.0"}
	if in, err := sv.Current(ctx); err == nil {
		m = in.Manifest
	} else if !errors.Is(err, ErrNotInstalled) {
		return nil, err
	}
	return Export(m, snap.Schema)
}

// Diff lists the changes that would turn the current metadata into the
// template's (what installing it over the database would change, the
// administrators' changes included).
func (sv *Service) Diff(fsys fs.FS) ([]metadata.Change, error) {
	_, s, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	snap := sv.eng.Snapshot()
	var cur *metadata.Schema
	if snap != nil {
		cur = snap.Schema
	}
	return metadata.Diff(cur, s), nil
}
