package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// accessRoutes registers the administration of users, tokens, roles,
// permissions, manual shares and the permission explainer.
func (s *Server) accessRoutes(api fiber.Router) {
	u := api.Group("/users")
	u.Get("/", s.requireAdminister, s.listUsers)
	u.Post("/", s.requireAdminister, s.createUser)
	u.Get("/:id", s.requireSelfOrAdmin, s.getUser)
	u.Patch("/:id", s.requireAdminister, s.updateUser)
	u.Delete("/:id", s.requireAdminister, s.deactivateUser)
	u.Put("/:id/password", s.requireSelfOrAdmin, s.setPassword)
	u.Get("/:id/tokens", s.requireSelfOrAdmin, s.listTokens)
	u.Post("/:id/tokens", s.requireSelfOrAdmin, s.createToken)
	api.Delete("/tokens/:id", s.revokeToken)

	r := api.Group("/roles", s.requireAdminister)
	r.Get("/", s.listRoles)
	r.Post("/", s.createRole)
	r.Get("/:role", s.getRole)
	r.Put("/:role", s.replaceRole)
	r.Delete("/:role", s.deleteRole)
	r.Get("/:role/permissions", s.getPermissions)
	r.Put("/:role/permissions", s.replacePermissions)

	api.Get("/records/:object/:id/shares", s.listShares)
	api.Post("/records/:object/:id/shares", s.shareRecord)
	api.Delete("/records/:object/:id/shares/:user", s.unshareRecord)

	api.Get("/access/explain", s.requireAdminister, s.explain)
}

// decider returns the access decision for the current metadata.
func (s *Server) decider(c *fiber.Ctx) (*access.Decider, error) {
	return s.access.Decide(c.UserContext(), s.eng.Snapshot().Schema)
}

// requireAdminister lets through only principals whose roles hold every
// right on every object (access.Decider.CanAdminister).
func (s *Server) requireAdminister(c *fiber.Ctx) error {
	d, err := s.decider(c)
	if err != nil {
		return err
	}
	if err := d.CanAdminister(principal(c)); err != nil {
		return &apiError{status: fiber.StatusForbidden, code: "forbidden", message: "only an administrator may manage users, roles and permissions"}
	}
	return c.Next()
}

// requireSelfOrAdmin lets a user reach their own account (by id or
// username in :id) and administrators reach any.
func (s *Server) requireSelfOrAdmin(c *fiber.Ctx) error {
	if p := principal(c); p != nil && (c.Params("id") == p.UserID || c.Params("id") == p.Username) {
		return c.Next()
	}
	return s.requireAdminister(c)
}

// isAdmin reports whether the request's principal may administer; the
// error is a failure to decide (the database), never a refusal.
func (s *Server) isAdmin(c *fiber.Ctx) (bool, error) {
	d, err := s.decider(c)
	if err != nil {
		return false, err
	}
	return d.CanAdminister(principal(c)) == nil, nil
}

// listUsers returns every user.
func (s *Server) listUsers(c *fiber.Ctx) error {
	us, err := s.access.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": us})
}

// createUser creates a user from access.NewUser.
func (s *Server) createUser(c *fiber.Ctx) error {
	var nu access.NewUser
	if err := decodeStrict(c, &nu); err != nil {
		return err
	}
	u, err := s.access.CreateUser(c.UserContext(), nu)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

// getUser returns one user.
func (s *Server) getUser(c *fiber.Ctx) error {
	u, err := s.access.GetUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// updateUser applies an access.UserUpdate.
func (s *Server) updateUser(c *fiber.Ctx) error {
	var up access.UserUpdate
	if err := decodeStrict(c, &up); err != nil {
		return err
	}
	// The stored formulas reading the user (owner.manager.name) are
	// recomputed in the update's transaction (access.OnUserChange).
	u, err := s.access.UpdateUser(c.UserContext(), c.Params("id"), up)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// deactivateUser deactivates a user and revokes its tokens; users are
// never deleted, their records keep their owner.
func (s *Server) deactivateUser(c *fiber.Ctx) error {
	if p := principal(c); c.Params("id") == p.UserID || c.Params("id") == p.Username {
		return &apiError{status: fiber.StatusConflict, code: "conflict", message: "you cannot deactivate your own account"}
	}
	if err := s.access.DeactivateUser(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type passwordBody struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password,omitempty"`
}

// setPassword changes a password: administrators set any, a user changes
// their own with the current one.
func (s *Server) setPassword(c *fiber.Ctx) error {
	var b passwordBody
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	ctx := c.UserContext()
	admin, err := s.isAdmin(c)
	if err != nil {
		return err
	}
	if !admin {
		p := principal(c)
		err := s.throttledCheck(c, p.Username, func() error { return s.access.VerifyPassword(ctx, p.UserID, b.CurrentPassword) })
		if errors.Is(err, access.ErrInvalidCredentials) {
			return &apiError{status: fiber.StatusForbidden, code: "forbidden", message: "current_password is wrong",
				details: []Detail{{Field: "current_password", Message: "wrong password"}}}
		} else if err != nil {
			return err
		}
	}
	if err := s.access.SetPassword(ctx, c.Params("id"), b.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listTokens lists a user's tokens (never their secrets).
func (s *Server) listTokens(c *fiber.Ctx) error {
	ts, err := s.access.ListTokens(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ts})
}

type tokenBody struct {
	Name       string `json:"name"`
	TTLSeconds int64  `json:"ttl_seconds,omitempty"`
}

// createToken issues an API token; its secret is in this answer only.
func (s *Server) createToken(c *fiber.Ctx) error {
	var b tokenBody
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	if maxTTL := int64(access.MaxTokenTTL / time.Second); b.TTLSeconds < 0 || b.TTLSeconds > maxTTL {
		return badRequest("bad_request", fmt.Sprintf("ttl_seconds must be 0 (no expiry) or between 1 and %d (ten years)", maxTTL),
			Detail{Field: "ttl_seconds", Message: fmt.Sprintf("must be between 0 and %d", maxTTL)})
	}
	tok, info, err := s.access.CreateAPIToken(c.UserContext(), c.Params("id"), b.Name, time.Duration(b.TTLSeconds)*time.Second)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": tok, "info": info})
}

// revokeToken revokes a token of the principal, or any token for an
// administrator.
func (s *Server) revokeToken(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, err := s.access.GetToken(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if t.UserID != principal(c).UserID {
		admin, err := s.isAdmin(c)
		if err != nil {
			return err
		}
		if !admin {
			return &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no token " + c.Params("id")}
		}
	}
	if err := s.access.RevokeToken(ctx, t.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listRoles returns the role definitions of the current metadata.
func (s *Server) listRoles(c *fiber.Ctx) error {
	snap := s.eng.Snapshot()
	roles := snap.Schema.Roles
	if roles == nil {
		roles = []*metadata.Role{}
	}
	return c.JSON(fiber.Map{"version": snap.Version, "items": roles})
}

// findRole returns a role of the current metadata or a 404.
func findRole(sc *metadata.Schema, name string) (int, *metadata.Role, error) {
	for i, r := range sc.Roles {
		if r.Name == name {
			return i, r, nil
		}
	}
	return -1, nil, &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no role " + name}
}

// getRole returns one role definition.
func (s *Server) getRole(c *fiber.Ctx) error {
	_, r, err := findRole(s.eng.Snapshot().Schema, c.Params("role"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// parseRole reads a role definition through the same JSON Schema as
// template files.
func parseRole(body []byte) (*metadata.Role, error) {
	k, _ := metadata.LookupKind(metadata.DocRole)
	d, err := parseDocument(body, k)
	if err != nil {
		return nil, err
	}
	return d.Value.(*metadata.Role), nil
}

// createRole adds a role; its policies are written in the same
// transaction as the new metadata version.
func (s *Server) createRole(c *fiber.Ctx) error {
	r, err := parseRole(c.Body())
	if err != nil {
		return err
	}
	return s.change(c, fiber.StatusCreated, "create role "+r.Name, func(sc *metadata.Schema) error {
		if _, _, err := findRole(sc, r.Name); err == nil {
			return &apiError{status: fiber.StatusConflict, code: "conflict", message: fmt.Sprintf("role %q exists; use PUT to change it", r.Name)}
		}
		sc.Roles = append(sc.Roles, r)
		return nil
	})
}

// replaceRole replaces a role's definition.
func (s *Server) replaceRole(c *fiber.Ctx) error {
	r, err := parseRole(c.Body())
	if err != nil {
		return err
	}
	name := c.Params("role")
	if err := sameName("roles", r.Name, name); err != nil {
		return err
	}
	return s.change(c, fiber.StatusOK, "update role "+name, func(sc *metadata.Schema) error {
		i, _, err := findRole(sc, name)
		if err != nil {
			return err
		}
		sc.Roles[i] = r
		return nil
	})
}

// deleteRole removes a role no role names as parent; access.SyncRoles
// refuses, in the same transaction, to remove a role a user holds.
func (s *Server) deleteRole(c *fiber.Ctx) error {
	name := c.Params("role")
	return s.change(c, fiber.StatusOK, "delete role "+name, func(sc *metadata.Schema) error {
		i, _, err := findRole(sc, name)
		if err != nil {
			return err
		}
		for _, r := range sc.Roles {
			if r.Parent == name {
				return &apiError{status: fiber.StatusConflict, code: "conflict", message: fmt.Sprintf("role %q has %q as parent; change it first", r.Name, name)}
			}
		}
		sc.Roles = append(sc.Roles[:i], sc.Roles[i+1:]...)
		return nil
	})
}

// getPermissions returns a role's permissions and sharing rules as
// defined, the roles it inherits from, and the Casbin rules stored for it.
func (s *Server) getPermissions(c *fiber.Ctx) error {
	name := c.Params("role")
	sc := s.eng.Snapshot().Schema
	_, r, err := findRole(sc, name)
	if err != nil {
		return err
	}
	d, err := s.decider(c)
	if err != nil {
		return err
	}
	rules, err := s.access.StoredRules(c.UserContext(), name)
	if err != nil {
		return err
	}
	perms, shares := r.Permissions, r.SharingRules
	if perms == nil {
		perms = []metadata.ObjectPermission{}
	}
	if shares == nil {
		shares = []metadata.SharingRule{}
	}
	return c.JSON(fiber.Map{
		"role":            name,
		"permissions":     perms,
		"sharing_rules":   shares,
		"effective_roles": d.EffectiveRoles(&access.Principal{Roles: []string{name}}),
		"policies":        rules,
	})
}

// replacePermissions replaces a role's permissions and, when the body has
// them, its sharing rules: {"permissions": […], "sharing_rules": […]}.
func (s *Server) replacePermissions(c *fiber.Ctx) error {
	name := c.Params("role")
	var body map[string]json.RawMessage
	if err := decodeStrict(c, &body); err != nil {
		return err
	}
	for k := range body {
		if k != "permissions" && k != "sharing_rules" {
			return badRequest("malformed_body", fmt.Sprintf("unknown key %q: send permissions and sharing_rules", k), Detail{Path: "/" + k, Message: "unknown key"})
		}
	}
	if body["permissions"] == nil {
		return badRequest("malformed_body", "permissions is required", Detail{Path: "/permissions", Message: "required"})
	}
	return s.change(c, fiber.StatusOK, "update permissions of role "+name, func(sc *metadata.Schema) error {
		i, cur, err := findRole(sc, name)
		if err != nil {
			return err
		}
		doc := map[string]any{"name": cur.Name, "permissions": body["permissions"]}
		if cur.Label != nil {
			doc["label"] = cur.Label
		}
		if cur.Parent != "" {
			doc["parent"] = cur.Parent
		}
		if cur.Description != "" {
			doc["description"] = cur.Description
		}
		if sr, ok := body["sharing_rules"]; ok {
			doc["sharing_rules"] = sr
		} else if len(cur.SharingRules) > 0 {
			doc["sharing_rules"] = cur.SharingRules
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		r, err := parseRole(raw)
		if err != nil {
			return err
		}
		sc.Roles[i] = r
		return nil
	})
}

// listShares lists who a record is shared with, for those who may
// transfer the record (engine.Shares).
func (s *Server) listShares(c *fiber.Ctx) error {
	sh, err := s.eng.Shares(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": sh})
}

type shareBody struct {
	User   string `json:"user"`
	Access string `json:"access"`
}

// shareRecord shares a record with a user ({"user", "access": read|edit});
// the principal must be able to transfer the record.
func (s *Server) shareRecord(c *fiber.Ctx) error {
	var b shareBody
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	if b.User == "" {
		return &apiError{status: fiber.StatusUnprocessableEntity, code: "invalid", message: "user is required", details: []Detail{{Field: "user", Message: "required"}}}
	}
	if b.Access == "" {
		b.Access = access.ShareRead
	}
	sh, err := s.eng.Share(c.UserContext(), c.Params("object"), c.Params("id"), b.User, b.Access)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sh)
}

// unshareRecord removes a share; the principal must be able to transfer
// the record.
func (s *Server) unshareRecord(c *fiber.Ctx) error {
	if err := s.eng.Unshare(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("user")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// explain answers GET /api/access/explain?user=&object=&record=&field=.
func (s *Server) explain(c *fiber.Ctx) error {
	user, object := c.Query("user"), c.Query("object")
	if user == "" || object == "" {
		return badRequest("bad_request", "user and object are required", Detail{Field: "user", Message: "required"}, Detail{Field: "object", Message: "required"})
	}
	ex, err := s.eng.Explain(c.UserContext(), user, object, c.Query("record"), c.Query("field"))
	if err != nil {
		return err
	}
	return c.JSON(ex)
}
