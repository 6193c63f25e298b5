package engine

import (
	"context"
	"strings"
	"time"
)

// DefaultLanguage is the language of messages when a request names none.
const DefaultLanguage = "en"

type languageKey struct{}

type locationKey struct{}

// WithLanguage returns a context whose user-facing messages (validation
// rule messages, labels) are in lang, a language code such as "zh".
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

// Language returns the language of ctx's messages.
func Language(ctx context.Context) string {
	if l, ok := ctx.Value(languageKey{}).(string); ok && l != "" {
		return l
	}
	return DefaultLanguage
}

// WithLocation returns a context whose calendar (today, this week, last
// month in filters) is that of loc.
func WithLocation(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, locationKey{}, loc)
}

// Location returns the time zone of ctx's calendar (WithLocation), or the
// engine's default (Config.Location): reports bucket dates in it.
func (e *Engine) Location(ctx context.Context) *time.Location { return e.location(ctx) }

// location returns the time zone of ctx, or the engine's.
func (e *Engine) location(ctx context.Context) *time.Location {
	if l, ok := ctx.Value(locationKey{}).(*time.Location); ok && l != nil {
		return l
	}
	return e.loc
}

// ParseAcceptLanguage picks the first language of an Accept-Language
// header among those labels are written in ("en", "zh"), or "".
func ParseAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		switch base {
		case "en", "zh":
			return base
		}
	}
	return ""
}
