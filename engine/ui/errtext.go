package ui

import (
	"regexp"
	"strings"

	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
)

// The engine writes its errors in English, for the API, which documents
// them so. What a page shows of them is said again in the user's
// language here, by the error's code (and, for a value that is not valid,
// the field's type): in English the engine's message stays as it is; in
// Chinese the UI's text for the code, or the engine's message where the
// UI has none (a validation rule's message already comes in the user's
// language).

// rangePattern finds the bound of a value out of its field's range in the
// messages of the JSON Schema check ("must be >= 0 but found -3").
var rangePattern = regexp.MustCompile(`must be (>=|<=|>|<) (-?[0-9.eE+]+)`)

// fieldErrorText says a field's problem (code and the engine's msg) in
// lang; f is the field (nil when unknown).
func fieldErrorText(lang string, f *metadata.Field, code, msg string) string {
	if lang == "en" || lang == "" {
		return msg
	}
	switch code {
	case "required":
		return tr(lang, "fe_required")
	case "unique":
		return tr(lang, "fe_unique")
	case "not_found":
		return tr(lang, "fe_not_found")
	case "read_only":
		return tr(lang, "fe_read_only")
	case "cascade":
		return tr(lang, "fe_cascade")
	case "too_large":
		return tr(lang, "fe_too_large")
	case "empty":
		return tr(lang, "fe_empty")
	case "content_type":
		return tr(lang, "fe_content_type")
	case "unknown_field":
		return tr(lang, "fe_unknown_field")
	case "invalid":
		return invalidText(lang, f, msg)
	}
	return msg
}

// invalidText says why a value is not valid for field f.
func invalidText(lang string, f *metadata.Field, msg string) string {
	if m := rangePattern.FindStringSubmatch(msg); m != nil {
		switch m[1] {
		case ">=", ">":
			return tr(lang, "fe_min", m[2])
		default:
			return tr(lang, "fe_max", m[2])
		}
	}
	if f == nil {
		return tr(lang, "fe_invalid")
	}
	switch {
	case strings.Contains(msg, "characters long"):
		if f.MaxLength > 0 {
			return tr(lang, "fe_too_long", f.MaxLength)
		}
		return tr(lang, "fe_too_long_any")
	case strings.Contains(msg, "the pattern"):
		return tr(lang, "fe_pattern")
	}
	switch f.Type {
	case "integer":
		return tr(lang, "fe_integer")
	case "decimal", "percent", "currency":
		return tr(lang, "fe_number")
	case "email":
		return tr(lang, "fe_email")
	case "phone":
		return tr(lang, "fe_phone")
	case "url":
		return tr(lang, "fe_url")
	case "date":
		return tr(lang, "fe_date")
	case "datetime":
		return tr(lang, "fe_datetime")
	case "picklist", "multi_picklist":
		return tr(lang, "fe_option")
	case "lookup", "many_to_many":
		return tr(lang, "fe_record")
	case "file", "image":
		return tr(lang, "fe_file")
	case "boolean":
		return tr(lang, "fe_boolean")
	}
	return tr(lang, "fe_invalid")
}

// detailText says one detail of a refused request (a field's problem on
// the error page) in lang.
func detailText(lang string, d api.Detail) string {
	return fieldErrorText(lang, nil, d.Code, d.Message)
}

// pageMessage is what the error page says of an error of code, whose
// message (the API's, in English) is msg: in Chinese a page that is not
// found or not allowed says so in Chinese (the UI's own refusals are
// written in the user's language where they are made); other messages
// stay as the engine wrote them.
func pageMessage(lang, code, msg string) string {
	msg = cleanMessage(msg)
	if lang == "en" || lang == "" || msg == "" {
		return msg
	}
	switch code {
	case "not_found":
		return tr(lang, "page_not_found_text")
	case "forbidden":
		return tr(lang, "page_forbidden_text")
	}
	return msg
}

// widgetError says why a dashboard's widget shows nothing, in lang.
func widgetError(lang string, w Widget) string {
	if lang == "en" || lang == "" {
		return cleanMessage(w.Error)
	}
	switch w.ErrorCode {
	case "not_found":
		return tr(lang, "widget_not_found")
	case "forbidden":
		return tr(lang, "widget_forbidden")
	case "invalid_report":
		return tr(lang, "widget_invalid", cleanMessage(w.Error))
	}
	return tr(lang, "widget_failed")
}
