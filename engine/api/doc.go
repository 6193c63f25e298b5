// Package api is the HTTP face of the engine on github.com/gofiber/fiber/v2:
// routes, authentication middleware, JSON decoding, and the one mapping of
// engine errors to HTTP statuses. It holds no business rules: every
// handler decodes, calls the engine or the access service, and encodes.
package api
