package ui

import "github.com/gofiber/fiber/v2"

// builderRoutes mounts the administrators' builder.
func (u *UI) builderRoutes(g fiber.Router) {}
