package api

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"

	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// maxUploadParts bounds the parts of an upload read before the one named
// "file".
const maxUploadParts = 8

// upload answers POST /api/files/{object}/{field} with a multipart/form-data
// body whose part "file" holds the file. The body is streamed: the engine
// checks the rights before reading it and stops at the field's max_size
// (413; limitBody discards the rest), so an upload never sits in memory
// while it arrives.
func (s *Server) upload(c *fiber.Ctx) error {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return &apiError{status: fiber.StatusUnsupportedMediaType, code: "unsupported_media_type", message: "send the file as multipart/form-data in a part named \"file\""}
	}
	var body io.Reader
	if c.Request().IsBodyStream() {
		body = c.Context().RequestBodyStream()
	} else {
		body = bytes.NewReader(c.Request().Body())
	}
	body = io.LimitReader(body, MaxUploadBody) // chunked bodies too
	mr := multipart.NewReader(body, params["boundary"])
	part, err := filePart(mr)
	if err != nil {
		return err
	}
	name := part.FileName()
	if msg := metadata.TextProblem(name); msg != "" {
		return badRequest("bad_request", "the file name "+msg, Detail{Field: "file", Message: "the file name " + msg})
	}
	ref, err := s.eng.Upload(c.UserContext(), c.Params("object"), c.Params("field"), name, part)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(ref)
}

// filePart returns the part named "file", skipping a few others.
func filePart(mr *multipart.Reader) (*multipart.Part, error) {
	for range maxUploadParts {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FormName() == "file" {
			return p, nil
		}
	}
	return nil, badRequest("malformed_body", "send the file as multipart/form-data in a part named \"file\"")
}
