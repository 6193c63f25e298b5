package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// RequireJSON is the middleware of every route that takes a JSON body: a
// request with a body must say Content-Type: application/json (UTF-8, not
// compressed; 415 otherwise), hold at most MaxJSONBody bytes (413) and be
// JSON that means one thing: valid UTF-8, no key twice in an object, no
// NUL character in a key or a text (400 naming the path). A request
// without a body passes. Registrars put it in front of their JSON routes.
func (s *Server) RequireJSON(c *fiber.Ctx) error {
	if !hasBody(c) {
		return c.Next()
	}
	if err := checkMediaType(c); err != nil {
		return err
	}
	body, err := readBody(c, MaxJSONBody)
	if err != nil {
		return err
	}
	if err := checkJSON(body); err != nil {
		return err
	}
	return c.Next()
}

// limitBody refuses at once a request whose declared body is larger than
// any route takes (413, and the connection closes). When a route answered
// without reading its body to the end (refused before reading it, or cut
// off at a limit), the rest is read and discarded, up to MaxUploadBody
// bytes, so the client receives the answer rather than a reset connection
// and the connection stays usable; a body longer than that closes it.
func limitBody(c *fiber.Ctx) error {
	if n := c.Request().Header.ContentLength(); n > MaxUploadBody {
		c.Context().SetConnectionClose()
		return tooLarge(n, MaxUploadBody)
	}
	err := c.Next()
	if c.Request().IsBodyStream() && hasBody(c) {
		n, derr := io.Copy(io.Discard, io.LimitReader(c.Context().RequestBodyStream(), MaxUploadBody+1))
		if derr != nil || n > MaxUploadBody {
			c.Context().SetConnectionClose()
		} else {
			c.Request().ResetBody()
		}
	}
	return err
}

// hasBody reports whether the request has a body: a Content-Length above
// zero, or chunks.
func hasBody(c *fiber.Ctx) bool {
	n := c.Request().Header.ContentLength()
	return n > 0 || n == -1
}

// readBody reads the request's body into memory, at most limit bytes
// (413 above), whether it came with a Content-Length or in chunks.
func readBody(c *fiber.Ctx, limit int) ([]byte, error) {
	req := c.Request()
	if n := req.Header.ContentLength(); n > limit {
		return nil, tooLarge(n, limit)
	}
	if req.IsBodyStream() {
		data, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(limit)+1))
		if err != nil {
			return nil, badRequest("malformed_body", "the body broke off before its end")
		}
		if len(data) > limit {
			return nil, tooLarge(-1, limit)
		}
		req.SetBody(data) // the stream is read to its end and released
	}
	return req.Body(), nil // raw: never decompressed
}

// tooLarge is the 413 answer for a body of n bytes (-1: unknown).
func tooLarge(n, limit int) error {
	msg := fmt.Sprintf("the body is over %d bytes", limit)
	if n >= 0 {
		msg = fmt.Sprintf("the body has %d bytes; at most %d are accepted", n, limit)
	}
	return &apiError{status: fiber.StatusRequestEntityTooLarge, code: "too_large", message: msg}
}

// checkMediaType refuses a body that is not uncompressed UTF-8 JSON.
func checkMediaType(c *fiber.Ctx) error {
	unsupported := func(msg string) error {
		return &apiError{status: fiber.StatusUnsupportedMediaType, code: "unsupported_media_type", message: msg}
	}
	if enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
		return unsupported(fmt.Sprintf("bodies are not accepted compressed (Content-Encoding %q): send them as they are", enc))
	}
	ct := c.Get(fiber.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return unsupported(fmt.Sprintf("the body must be JSON sent with Content-Type: application/json, not %q", ct))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported(fmt.Sprintf("JSON bodies are UTF-8, not %q", cs))
	}
	return nil
}

// checkJSON refuses a JSON body that would not mean exactly what it says:
// bytes that are not UTF-8 or escapes of half a character (which decoders
// silently replace with U+FFFD), a key given twice in one object (decoders
// silently keep the last), and the NUL character in a key or a text (which
// PostgreSQL cannot store). Malformed JSON is left to the decoder, which
// says where it breaks.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return badRequest("malformed_body", "the body is not valid UTF-8")
	}
	if i := loneSurrogate(body); i >= 0 {
		return badRequest("malformed_body", fmt.Sprintf("the body escapes half of a character (a lone UTF-16 surrogate) at byte %d", i))
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var stack []*jsonFrame
	for {
		tok, err := d.Token()
		if err != nil {
			return nil // the end, or malformed JSON the decoder reports
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, &jsonFrame{object: t == '{', keys: map[string]bool{}, index: -1})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if top != nil && top.object && !top.valueDue {
				if p := pointer(stack, t); top.keys[t] {
					return badRequest("malformed_body", fmt.Sprintf("the key %s is given twice", p), jsonDetail(stack, t, "duplicate_key", "given twice"))
				} else if msg := metadata.TextProblem(t); msg != "" {
					return badRequest("malformed_body", fmt.Sprintf("the key %s %s", strconv.Quote(t), msg), jsonDetail(stack, t, "nul_character", "the key "+msg))
				}
				top.keys[t], top.key, top.valueDue = true, t, true
				continue
			}
			if msg := metadata.TextProblem(t); msg != "" {
				return badRequest("malformed_body", fmt.Sprintf("the text at %s %s", pointer(stack, ""), msg), jsonDetail(stack, "", "nul_character", "the text "+msg))
			}
		}
		// A value is complete: the enclosing object waits for its next
		// key, the enclosing list moves on.
		if len(stack) > 0 {
			top = stack[len(stack)-1]
			top.key, top.valueDue = "", false
			top.index++
		}
	}
}

// jsonFrame is an open object or list while checkJSON walks a body.
type jsonFrame struct {
	object   bool
	keys     map[string]bool
	key      string // the key whose value is being read
	valueDue bool
	index    int // the list's current element
}

// pointerEscape escapes a key in a JSON pointer (built once: a Replacer
// builds its tables on first use, which cost more than a body's check).
var pointerEscape = strings.NewReplacer("~", "~0", "/", "~1")

// pointer is the JSON pointer of the value being read, with key appended
// when not empty.
func pointer(stack []*jsonFrame, key string) string {
	var b strings.Builder
	for _, f := range stack {
		if f.object && !f.valueDue {
			continue // between a value and the next key
		}
		b.WriteByte('/')
		if f.object {
			b.WriteString(pointerEscape.Replace(f.key))
		} else {
			b.WriteString(strconv.Itoa(f.index + 1))
		}
	}
	if key != "" {
		b.WriteByte('/')
		b.WriteString(pointerEscape.Replace(key))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// jsonDetail names the place of a problem: its JSON pointer and, in an
// object body, the top-level key (a record's field).
func jsonDetail(stack []*jsonFrame, key, code, msg string) Detail {
	d := Detail{Path: pointer(stack, key), Code: code, Message: msg}
	switch {
	case len(stack) > 0 && stack[0].object && stack[0].key != "":
		d.Field = stack[0].key
	case len(stack) == 1 && stack[0].object:
		d.Field = key
	}
	return d
}

// loneSurrogate returns the offset of a \u escape of a UTF-16 surrogate
// that is not part of a pair, or -1. body must be valid UTF-8.
func loneSurrogate(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(body) && body[i+1] == 'u':
			r, ok := hex4(body, i+2)
			switch {
			case !ok:
			case r >= 0xD800 && r < 0xDC00:
				low, ok := hex4(body, i+8)
				if !ok || body[i+6] != '\\' || body[i+7] != 'u' || low < 0xDC00 || low > 0xDFFF {
					return i
				}
				i += 11
				continue
			case r >= 0xDC00 && r <= 0xDFFF:
				return i
			}
			i += 5
		case c == '\\':
			i++ // the escaped character
		}
	}
	return -1
}

// hex4 reads four hex digits at body[i:].
func hex4(body []byte, i int) (rune, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(body[i:i+4]), 16, 32)
	return rune(n), err == nil
}

// checkURL refuses a query parameter holding text the databases cannot
// take alike (metadata.TextProblem), naming the parameter. (Path
// parameters are not unescaped: "%00" in a path stays three characters.)
func checkURL(c *fiber.Ctx) error {
	var bad error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad != nil {
			return
		}
		if msg := metadata.TextProblem(string(k)); msg != "" {
			bad = badRequest("bad_request", "a query parameter name "+msg, Detail{Field: "query", Message: msg})
		} else if msg := metadata.TextProblem(string(v)); msg != "" {
			bad = badRequest("bad_request", fmt.Sprintf("the query parameter %s %s", k, msg), Detail{Field: string(k), Message: msg})
		}
	})
	if bad != nil {
		return bad
	}
	return c.Next()
}

// decodeStrict decodes a JSON body (checked by RequireJSON) into out,
// refusing unknown keys and trailing data.
func decodeStrict(c *fiber.Ctx, out any) error {
	d := json.NewDecoder(bytes.NewReader(c.Body()))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		return decodeError(err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return badRequest("malformed_body", "the body has data after the JSON value")
	}
	return nil
}

// decodeError turns an error of encoding/json into an answer in the
// client's terms: the key and the kind of value expected, never Go types.
func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae // a value's own decoder said what is wrong
	case errors.As(err, &te) && te.Field != "":
		return badRequest("malformed_body", fmt.Sprintf("%s must be %s", te.Field, jsonKind(te.Type)),
			Detail{Field: te.Field, Message: "must be " + jsonKind(te.Type)})
	case errors.As(err, &te):
		return badRequest("malformed_body", "the body must be "+jsonKind(te.Type))
	case errors.As(err, &se):
		return badRequest("malformed_body", fmt.Sprintf("the body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset))
	case errors.Is(err, io.EOF):
		return badRequest("malformed_body", "the body is empty: send a JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed_body", "the body ends inside its JSON value")
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		key = strings.Trim(key, `"`)
		return badRequest("malformed_body", fmt.Sprintf("unknown key %q", key), Detail{Field: key, Code: "unknown_field", Message: "unknown key"})
	}
	return badRequest("malformed_body", "the body is not JSON of the expected shape")
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another kind of value"
}

// decodeRecord decodes a record body: a JSON object.
func decodeRecord(c *fiber.Ctx) (map[string]any, error) {
	var m map[string]any
	if err := decodeStrict(c, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest("malformed_body", "the body must be a JSON object")
	}
	return m, nil
}
