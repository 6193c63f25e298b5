package mailing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"html"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Purposes of a tracking token.
const (
	purposeOpen        byte = 'o'
	purposeClick       byte = 'c'
	purposeUnsubscribe byte = 'u'
)

// macSize is the length of a token's signature (128 bits of
// HMAC-SHA256).
const macSize = 16

// token signs a recipient's id, a purpose and a link's index: nothing in
// it can be guessed or changed without the server's key.
func (m *Mailer) token(recipient string, purpose byte, link int) string {
	id := uuid.MustParse(recipient)
	payload := make([]byte, 0, 16+1+2+macSize)
	payload = append(payload, id[:]...)
	payload = append(payload, purpose)
	payload = binary.BigEndian.AppendUint16(payload, uint16(link))
	mac := hmac.New(sha256.New, m.key)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(payload)[:len(payload)+macSize])
}

// parseToken checks a token's signature and purpose and returns the
// recipient's id and the link's index.
func (m *Mailer) parseToken(tok string, purpose byte) (string, int, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != 16+1+2+macSize || raw[16] != purpose {
		return "", 0, false
	}
	payload, sig := raw[:19], raw[19:]
	mac := hmac.New(sha256.New, m.key)
	mac.Write(payload)
	if !hmac.Equal(mac.Sum(nil)[:macSize], sig) {
		return "", 0, false
	}
	id, err := uuid.FromBytes(payload[:16])
	if err != nil {
		return "", 0, false
	}
	return id.String(), int(binary.BigEndian.Uint16(payload[17:19])), true
}

// Paths of the public tracking routes.
const (
	pathOpen        = "/m/o/"
	pathClick       = "/m/c/"
	pathUnsubscribe = "/m/u/"
)

// link returns the public URL of a recipient's token.
func (m *Mailer) link(recipient string, purpose byte, n int) string {
	path := map[byte]string{purposeOpen: pathOpen, purposeClick: pathClick, purposeUnsubscribe: pathUnsubscribe}[purpose]
	return m.public + path + m.token(recipient, purpose, n)
}

// register mounts the routes.
func (m *Mailer) register(r fiber.Router, s *api.Server) {
	r.Get(pathOpen+":token", m.openRoute)
	r.Get(pathClick+":token", m.clickRoute)
	r.Get(pathUnsubscribe+":token", m.unsubscribePage)
	r.Post(pathUnsubscribe+":token", m.unsubscribeRoute)
	r.Get("/api/mailings", s.Authenticate, m.listRoute)
	r.Get("/api/mailings/:id", s.Authenticate, m.getRoute)
}

// pixel is a transparent GIF of one pixel.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// openRoute answers GET /m/o/{token}: the pixel, recording an open.
func (m *Mailer) openRoute(c *fiber.Ctx) error {
	if id, _, ok := m.parseToken(c.Params("token"), purposeOpen); ok {
		if err := m.record(c.UserContext(), id, MemberOpened, "opened_at", "opens"); err != nil {
			m.log.Warn("mailing: record an open", "err", err)
		}
	}
	c.Set("Cache-Control", "no-store")
	c.Set("Content-Type", "image/gif")
	return c.Send(pixel)
}

// clickRoute answers GET /m/c/{token}: a redirect to the link, recording
// the click (and an open, which a click implies).
func (m *Mailer) clickRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, n, ok := m.parseToken(c.Params("token"), purposeClick)
	if !ok {
		return fiber.ErrNotFound
	}
	var links string
	err := m.db.SQL().QueryRowContext(ctx, m.sql(`SELECT ml.links FROM `+TableRecipients+` r JOIN `+TableMailings+` ml ON ml.id = r.mailing_id WHERE r.id = ?`), id).Scan(&links)
	if errors.Is(err, sql.ErrNoRows) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	var list []string
	if err := json.Unmarshal([]byte(links), &list); err != nil || n >= len(list) {
		return fiber.ErrNotFound
	}
	if err := m.record(ctx, id, MemberClicked, "clicked_at", "clicks", "opened_at", ""); err != nil {
		return err
	}
	c.Set("Cache-Control", "no-store")
	return c.Redirect(list[n], fiber.StatusFound)
}

// record stamps a recipient's first event of each kind (a column of the
// time, and of the count when not empty, in pairs) and moves its campaign
// member to status, in one unit of work of the system.
func (m *Mailer) record(ctx context.Context, id, status string, pairs ...string) error {
	var campaign, object, recordID string
	err := m.db.SQL().QueryRowContext(ctx, m.sql(`SELECT ml.campaign_id, r.object, r.record_id FROM `+TableRecipients+` r JOIN `+TableMailings+` ml ON ml.id = r.mailing_id WHERE r.id = ?`), id).
		Scan(&campaign, &object, &recordID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mailing: recipient %s: %w", id, err)
	}
	return m.eng.Tx(ctx, access.System(nil), func(w *engine.Writer) error {
		for i := 0; i+1 < len(pairs); i += 2 {
			at, count := pairs[i], pairs[i+1]
			set := at + ` = CASE WHEN ` + at + ` = '' THEN ? ELSE ` + at + ` END`
			if count != "" {
				set += `, ` + count + ` = ` + count + ` + 1`
			}
			if _, err := w.SQL().ExecContext(ctx, m.sql(`UPDATE `+TableRecipients+` SET `+set+` WHERE id = ?`), stamp(m.eng.Now()), id); err != nil {
				return fmt.Errorf("mailing: record %s of %s: %w", at, id, err)
			}
		}
		return markMembers(ctx, w, campaign, object, map[string]string{recordID: status})
	})
}

// Texts of the unsubscribe pages, per language.
var (
	unsubscribeAsk  = metadata.Label{"en": "Stop receiving these messages?", "zh": "不再接收此类邮件？"}
	unsubscribeDo   = metadata.Label{"en": "Unsubscribe", "zh": "退订"}
	unsubscribeDone = metadata.Label{"en": "You are unsubscribed: you will receive no more of these messages.", "zh": "您已退订，今后不会再收到此类邮件。"}
	unsubscribeBad  = metadata.Label{"en": "This link is not valid.", "zh": "此链接无效。"}
)

// page answers a small HTML page in the request's language.
func page(c *fiber.Ctx, status int, body string) error {
	c.Set("Content-Type", "text/html; charset=utf-8")
	c.Set("Cache-Control", "no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	return c.Status(status).SendString(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>CRM</title></head><body style="font-family:sans-serif;max-width:32em;margin:3em auto">` + body + `</body></html>`)
}

// unsubscribePage answers GET /m/u/{token}: a button that confirms (a
// GET changes nothing, so mail scanners following links unsubscribe no
// one).
func (m *Mailer) unsubscribePage(c *fiber.Ctx) error {
	lang := engine.Language(c.UserContext())
	if _, _, ok := m.parseToken(c.Params("token"), purposeUnsubscribe); !ok {
		return page(c, fiber.StatusNotFound, "<p>"+html.EscapeString(unsubscribeBad.Get(lang))+"</p>")
	}
	return page(c, fiber.StatusOK, `<p>`+html.EscapeString(unsubscribeAsk.Get(lang))+`</p><form method="post"><button type="submit">`+html.EscapeString(unsubscribeDo.Get(lang))+`</button></form>`)
}

// unsubscribeRoute answers POST /m/u/{token} (the page's button, or a
// mail client's one-click unsubscribe, RFC 8058): the recipient is
// unsubscribed, the record's opt-out field set and the address
// suppressed for every later mailing of the channel.
func (m *Mailer) unsubscribeRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	lang := engine.Language(ctx)
	id, _, ok := m.parseToken(c.Params("token"), purposeUnsubscribe)
	if !ok {
		return page(c, fiber.StatusNotFound, "<p>"+html.EscapeString(unsubscribeBad.Get(lang))+"</p>")
	}
	if err := m.Unsubscribe(ctx, id); err != nil {
		return err
	}
	return page(c, fiber.StatusOK, "<p>"+html.EscapeString(unsubscribeDone.Get(lang))+"</p>")
}

// Unsubscribe records that a recipient unsubscribed: in one unit of work
// of the system, the recipient's row, the suppression of the address and
// the record's opt-out field (when the record still exists).
func (m *Mailer) Unsubscribe(ctx context.Context, recipient string) error {
	var campaign, object, recordID, addr, channel string
	err := m.db.SQL().QueryRowContext(ctx, m.sql(`SELECT ml.campaign_id, r.object, r.record_id, r.address, ml.channel FROM `+TableRecipients+` r JOIN `+TableMailings+` ml ON ml.id = r.mailing_id WHERE r.id = ?`), recipient).
		Scan(&campaign, &object, &recordID, &addr, &channel)
	if errors.Is(err, sql.ErrNoRows) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mailing: unsubscribe %s: %w", recipient, err)
	}
	field := marketing.OptOutEmail
	if channel == marketing.ChannelSMS {
		field = marketing.OptOutSMS
	}
	return m.eng.Tx(ctx, access.System(nil), func(w *engine.Writer) error {
		now := stamp(m.eng.Now())
		if _, err := w.SQL().ExecContext(ctx, m.sql(`UPDATE `+TableRecipients+` SET unsubscribed_at = CASE WHEN unsubscribed_at = '' THEN ? ELSE unsubscribed_at END, updated_at = ? WHERE id = ?`), now, now, recipient); err != nil {
			return fmt.Errorf("mailing: unsubscribe %s: %w", recipient, err)
		}
		if err := m.suppress(ctx, w.SQL(), channel, addr, "unsubscribed"); err != nil {
			return err
		}
		if err := markMembers(ctx, w, campaign, object, map[string]string{recordID: MemberUnsubscribed}); err != nil {
			return err
		}
		if obj, ok := w.Snapshot().Schema.Object(object); !ok || !hasField(obj, field) {
			return nil
		}
		_, err := w.Update(ctx, object, recordID, map[string]any{field: true})
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		return err
	})
}

// hasField reports whether obj has a field named name.
func hasField(obj *metadata.Object, name string) bool {
	_, ok := obj.Field(name)
	return ok
}

// listRoute answers GET /api/mailings?campaign={id}: the campaign's
// mailings, newest first, to a user who may read the campaign.
func (m *Mailer) listRoute(c *fiber.Ctx) error {
	campaign := c.Query("campaign")
	if campaign == "" {
		return &engine.RequestError{Message: "name the campaign: /api/mailings?campaign={id}", Details: []engine.FieldError{{Field: "campaign", Code: "required", Message: "a campaign id"}}}
	}
	items, err := m.list(c.UserContext(), campaign)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// list returns the newest 200 mailings of a campaign the principal of ctx
// may read (its engine error otherwise), newest first, with their counts.
func (m *Mailer) list(ctx context.Context, campaign string) ([]*Summary, error) {
	if _, err := m.eng.Get(ctx, "campaign", campaign); err != nil {
		return nil, err
	}
	rows, err := m.db.SQL().QueryContext(ctx, m.sql(`SELECT id FROM `+TableMailings+` WHERE campaign_id = ? ORDER BY created_at DESC, id DESC LIMIT 200`), campaign)
	if err != nil {
		return nil, fmt.Errorf("mailing: list: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("mailing: list: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailing: list: %w", err)
	}
	items := []*Summary{}
	for _, id := range ids {
		s, err := m.summary(ctx, m.db.SQL(), id)
		if err != nil {
			return nil, err
		}
		items = append(items, s)
	}
	return items, nil
}

// getRoute answers GET /api/mailings/{id} to a user who may read its
// campaign (404 otherwise).
func (m *Mailer) getRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var campaign string
	err := m.db.SQL().QueryRowContext(ctx, m.sql(`SELECT campaign_id FROM `+TableMailings+` WHERE id = ?`), c.Params("id")).Scan(&campaign)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: no mailing %s", engine.ErrNotFound, c.Params("id"))
	}
	if err != nil {
		return fmt.Errorf("mailing: read: %w", err)
	}
	if _, err := m.eng.Get(ctx, "campaign", campaign); err != nil {
		if errors.Is(err, engine.ErrForbidden) {
			return fmt.Errorf("%w: no mailing %s", engine.ErrNotFound, c.Params("id"))
		}
		return err
	}
	s, err := m.summary(ctx, m.db.SQL(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}
