package metadata

import (
	"fmt"
	"time"
)

// dateType stores a calendar day: DATE in PostgreSQL, "YYYY-MM-DD" text in
// SQLite (which sorts and compares correctly as text). The storage form is
// the "YYYY-MM-DD" string in both.
type dateType struct{}

// dateTimeType stores an instant in UTC: TIMESTAMPTZ in PostgreSQL,
// fixed-width RFC 3339 text in SQLite. The storage form is a time.Time in
// UTC; the store formats it for SQLite.
type dateTimeType struct{}

func init() {
	RegisterFieldType(dateType{})
	RegisterFieldType(dateTimeType{})
}

// Name implements FieldType.
func (dateType) Name() string { return "date" }

// Kind implements FieldType.
func (dateType) Kind() Kind { return KindDate }

// Column implements FieldType.
func (dateType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "TEXT", "DATE")
}

// Check implements FieldType.
func (dateType) Check(f *Field) []Problem { return nil }

// Normalize implements FieldType.
func (dateType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t, ok := v.(time.Time); ok {
		return t.Format(DateLayout), nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return nil, fmt.Errorf("expected a date as YYYY-MM-DD, got %q", s)
	}
	return t.Format(DateLayout), nil
}

// Output implements FieldType.
func (dateType) Output(f *Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.Format(DateLayout), nil
	case string:
		if len(x) == len(DateLayout) {
			return v, nil // stored as it is answered: not boxed again
		}
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if len(s) > len(DateLayout) {
		s = s[:len(DateLayout)]
	}
	return s, nil
}

// Name implements FieldType.
func (dateTimeType) Name() string { return "datetime" }

// Kind implements FieldType.
func (dateTimeType) Kind() Kind { return KindDateTime }

// Column implements FieldType.
func (dateTimeType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "TEXT", "TIMESTAMPTZ")
}

// Check implements FieldType.
func (dateTimeType) Check(f *Field) []Problem { return nil }

// Normalize implements FieldType.
func (dateTimeType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, nil
	}
	t, err := asTime(v)
	if err != nil {
		return nil, err
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// Output implements FieldType.
func (dateTimeType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && isDateTimeUTC(s) {
		return v, nil // SQLite keeps the instant as it is answered
	}
	t, err := asTime(v)
	if err != nil {
		return nil, err
	}
	return formatDateTime(t), nil
}

// isDateTimeUTC tells whether s is an instant written in DateTimeLayout in
// UTC ("2026-01-31T23:59:59.999Z"), the form SQLite stores: its output is
// itself, without parsing and formatting it again.
func isDateTimeUTC(s string) bool {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	two := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	month, day := two(5), two(8)
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(11) < 24 && two(14) < 60 && two(17) < 60
}

// formatDateTime is t.UTC().Format(DateTimeLayout), written by hand for
// the years 0 to 9999 (a list formats two instants per record).
func formatDateTime(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(DateTimeLayout)
	}
	hour, minute, second := t.Clock()
	var b [24]byte
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, second, 2)
	b[19] = '.'
	put(20, t.Nanosecond()/1e6, 3)
	b[23] = 'Z'
	return string(b[:])
}

// dateBuckets are the report buckets of dates and datetimes.
var dateBuckets = []Bucket{BucketDay, BucketWeek, BucketMonth, BucketQuarter, BucketYear}

// Buckets implements Grouper.
func (dateType) Buckets(f *Field) []Bucket { return dateBuckets }

// GroupSQL implements Grouper. A calendar day has no time zone: offset is
// not used.
func (dateType) GroupSQL(dialect string, f *Field, col string, b Bucket, offset time.Duration) (string, error) {
	if dialect == DialectPostgres {
		return bucketSQL(dialect, "("+col+")::timestamp", "", b)
	}
	return bucketSQL(dialect, col, "", b)
}

// Buckets implements Grouper.
func (dateTimeType) Buckets(f *Field) []Bucket { return dateBuckets }

// GroupSQL implements Grouper: the instant is moved by offset (whole
// minutes) before it is bucketed.
func (dateTimeType) GroupSQL(dialect string, f *Field, col string, b Bucket, offset time.Duration) (string, error) {
	mins := int64(offset / time.Minute)
	if dialect == DialectPostgres {
		return bucketSQL(dialect, fmt.Sprintf("((%s AT TIME ZONE 'UTC') + INTERVAL '%d minutes')", col, mins), "", b)
	}
	return bucketSQL(dialect, col, fmt.Sprintf(", '%+d minutes'", mins), b)
}

// bucketSQL returns the text key of bucket b of the time expression x. In
// PostgreSQL x is a timestamp without time zone; in SQLite it is a time
// value and mods are the modifiers that take it to local time.
func bucketSQL(dialect, x, mods string, b Bucket) (string, error) {
	var pattern string
	if dialect == DialectPostgres {
		pattern = map[Bucket]string{
			BucketDay:     `to_char(%[1]s, 'YYYY-MM-DD')`,
			BucketWeek:    `to_char(date_trunc('week', %[1]s), 'YYYY-MM-DD')`,
			BucketMonth:   `to_char(%[1]s, 'YYYY-MM')`,
			BucketQuarter: `to_char(%[1]s, 'YYYY-"Q"Q')`,
			BucketYear:    `to_char(%[1]s, 'YYYY')`,
		}[b]
	} else {
		pattern = map[Bucket]string{
			BucketDay:     `strftime('%%Y-%%m-%%d', %[1]s%[2]s)`,
			BucketWeek:    `date(%[1]s%[2]s, '-6 days', 'weekday 1')`,
			BucketMonth:   `strftime('%%Y-%%m', %[1]s%[2]s)`,
			BucketQuarter: `(strftime('%%Y', %[1]s%[2]s) || '-Q' || ((CAST(strftime('%%m', %[1]s%[2]s) AS INTEGER) + 2) / 3))`,
			BucketYear:    `strftime('%%Y', %[1]s%[2]s)`,
		}[b]
	}
	if pattern == "" {
		return "", fmt.Errorf("%w: unknown date bucket %q", ErrUnsupported, b)
	}
	if dialect == DialectPostgres {
		return fmt.Sprintf(pattern, x), nil
	}
	return fmt.Sprintf(pattern, x, mods), nil
}

// Compile-time checks that the types implement FieldType and their
// optional abilities.
var (
	_ FieldType = dateType{}
	_ Grouper   = dateType{}
	_ FieldType = dateTimeType{}
	_ Grouper   = dateTimeType{}
)
