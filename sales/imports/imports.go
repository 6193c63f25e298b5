package imports

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/internal/csvcell"
	"github.com/crmplatform/crm/metadata"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Defaults and bounds of an import.
const (
	// DefaultBatch is how many rows one transaction writes.
	DefaultBatch = 500
	// MaxErrors is how many row errors a result lists; rows past it are
	// still counted as skipped.
	MaxErrors = 1000
	// sniff is how many bytes are looked at to tell UTF-8 from GB18030.
	sniff = 64 << 10
)

// Options say what to import and how.
type Options struct {
	// Object is the object the rows become.
	Object string `json:"object"`
	// Mapping maps column headers to fields; other columns map by a
	// field's name or label (English or Chinese).
	Mapping map[string]string `json:"mapping,omitempty"`
	// Key is a field that identifies an existing record: a row whose key
	// value a record has updates that record instead of creating one.
	Key string `json:"key,omitempty"`
	// DryRun checks every row and writes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Batch is the number of rows per transaction (DefaultBatch when 0).
	Batch int `json:"batch,omitempty"`
	// TimeZone is the IANA time zone that dates and times without an
	// offset are read in, as the list export writes them; the engine's
	// time zone for the request (its X-Timezone) when empty.
	TimeZone string `json:"time_zone,omitempty"`
	// Progress, when set, is called after each batch with the rows done.
	Progress func(rows int64) `json:"-"`
}

// Result is the summary of an import.
type Result struct {
	Created int        `json:"created"`
	Updated int        `json:"updated"`
	Skipped int        `json:"skipped"`
	Errors  []RowError `json:"errors"`
}

// RowError is one problem with one row: its line in the file, the field
// (or column) and why.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ErrBadFile means the file cannot be read as CSV.
var ErrBadFile = errors.New("imports: not a CSV file")

// row is one data row waiting for its batch.
type row struct {
	line int
	data map[string]any
}

// Run imports the CSV file r as principal p (create rights, the import
// right, and update rights with a key, on opt.Object; only fields p may
// edit), in batches of rows each written in one unit of work.
func Run(ctx context.Context, eng *engine.Engine, p *access.Principal, r io.Reader, opt Options) (*Result, error) {
	scope, err := authorize(ctx, eng, p, opt)
	if err != nil {
		return nil, err
	}
	loc, err := opt.location(ctx, eng)
	if err != nil {
		return nil, err
	}
	cr := newCSV(decode(r))
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the header: %v", ErrBadFile, err)
	}
	res := &Result{Errors: []RowError{}}
	cols, err := columns(scope, header, opt, res)
	if err != nil {
		return nil, err
	}
	rr := &rowReader{cr: cr, obj: scope.Object(), cols: cols, loc: loc, base: 1}
	var done int64
	for {
		batch, eof, err := rr.read(batchSize(opt), res)
		if err != nil {
			return nil, err
		}
		if len(batch) > 0 {
			if err := writeBatch(ctx, eng, p, opt, batch, res, nil); err != nil {
				return nil, err
			}
			done += int64(len(batch))
			if opt.Progress != nil {
				opt.Progress(done)
			}
		}
		if eof {
			return res, nil
		}
	}
}

// location returns the time zone opt reads dates and times in (TimeZone,
// else the engine's for ctx) and records its name in opt.
func (opt *Options) location(ctx context.Context, eng *engine.Engine) (*time.Location, error) {
	if opt.TimeZone == "" {
		loc := eng.Location(ctx)
		opt.TimeZone = loc.String()
		return loc, nil
	}
	loc, err := time.LoadLocation(opt.TimeZone)
	if err != nil || opt.TimeZone == "Local" {
		return nil, &engine.RequestError{Message: "the time zone must be an IANA name such as Asia/Shanghai", Details: []engine.FieldError{{Field: "time_zone", Code: "invalid", Message: opt.TimeZone}}}
	}
	return loc, nil
}

// batchSize is the number of rows per transaction of opt.
func batchSize(opt Options) int {
	if opt.Batch <= 0 {
		return DefaultBatch
	}
	return opt.Batch
}

// authorize checks that p may import records of opt.Object: the import
// and create rights, and the update right with a key.
func authorize(ctx context.Context, eng *engine.Engine, p *access.Principal, opt Options) (*engine.Scope, error) {
	rights, err := eng.Rights(ctx, p)
	if err != nil {
		return nil, err
	}
	scope, err := rights.ScopeFor(opt.Object, metadata.ActionImport)
	if err != nil {
		return nil, err
	}
	if err := scope.Can(metadata.ActionCreate); err != nil {
		return nil, err
	}
	if opt.Key != "" {
		if err := scope.Can(metadata.ActionUpdate); err != nil {
			return nil, err
		}
	}
	return scope, nil
}

// newCSV returns a CSV reader over r that allows rows of any length.
func newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	return cr
}

// rowReader reads the data rows of a CSV file in batches, keeping count
// of where the next one starts (line and byte), so that an import can
// stop after a batch and resume there.
type rowReader struct {
	cr   *csv.Reader
	obj  *metadata.Object
	cols []column
	// loc is the time zone of dates and times without an offset.
	loc *time.Location
	// base is the file's line number of the reader's first line.
	base int
	// next is the file's line number where the next record starts.
	next int
	// records counts the records read (rows, blank or bad ones).
	records int64
}

// read returns up to n rows, and eof once the file is read to its end.
// Rows with problems are counted and reported in res.
func (rr *rowReader) read(n int, res *Result) (batch []row, eof bool, err error) {
	for len(batch) < n {
		rec, err := rr.cr.Read()
		if err == io.EOF {
			return batch, true, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, false, fmt.Errorf("imports: read line %d: %w", rr.next, err)
			}
			// The reader has consumed the line where the problem is.
			rr.records++
			rr.next = rr.base + pe.Line
			res.skip(RowError{Line: rr.base + pe.StartLine - 1, Message: pe.Err.Error()})
			continue
		}
		rr.records++
		line := rr.line(rec)
		data, errs := rowData(rr.cols, rec, line, rr.loc)
		if len(errs) > 0 {
			res.skip(errs...)
			continue
		}
		if len(data) == 0 {
			continue // a blank line
		}
		batch = append(batch, row{line: line, data: data})
	}
	return batch, false, nil
}

// line returns the file's line where rec, just read, starts, and notes
// where the record after it starts: after the last line of its last
// field (a quoted field may span lines).
func (rr *rowReader) line(rec []string) int {
	first, _ := rr.cr.FieldPos(0)
	last, _ := rr.cr.FieldPos(len(rec) - 1)
	rr.next = rr.base + last + strings.Count(rec[len(rec)-1], "\n")
	return rr.base + first - 1
}

// skip counts a skipped row with its problems.
func (res *Result) skip(errs ...RowError) {
	res.Skipped++
	for _, e := range errs {
		if len(res.Errors) < MaxErrors {
			res.Errors = append(res.Errors, e)
		}
	}
}

// decode reads r as UTF-8 (a byte-order mark dropped) when its first
// bytes are UTF-8, and as GB18030 (which includes GBK and GB2312)
// otherwise.
func decode(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, sniff)
	head, _ := br.Peek(sniff)
	if bom := []byte("\xef\xbb\xbf"); len(head) >= 3 && string(head[:3]) == string(bom) {
		br.Discard(3)
		return br
	}
	// A character cut at the end of the window is not a reason to doubt.
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if utf8.Valid(head) {
		return br
	}
	return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
}

// column is what one column of the file fills.
type column struct {
	field *metadata.Field
}

// columns maps the header to fields: the mapping first, then names and
// labels. A column that maps to nothing is reported at line 1 and
// ignored (one the mapping maps to "" is ignored silently); a field the principal may not write refuses the import.
func columns(scope *engine.Scope, header []string, opt Options, res *Result) ([]column, error) {
	obj := scope.Object()
	fields, err := match(obj, header, opt.Mapping)
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(header))
	seen := map[string]string{}
	for i, f := range fields {
		h := strings.TrimSpace(header[i])
		if f == nil {
			if name, ok := opt.Mapping[h]; ok && name == "" {
				continue // ignored on purpose
			}
			res.Errors = append(res.Errors, RowError{Line: 1, Field: h, Message: fmt.Sprintf("no field of %s matches column %q: it is ignored", obj.Name, h)})
			continue
		}
		if other, dup := seen[f.Name]; dup {
			return nil, &engine.RequestError{Message: "two columns fill one field", Details: []engine.FieldError{{Field: f.Name, Code: "invalid", Message: fmt.Sprintf("columns %q and %q both fill %s", other, h, f.Name)}}}
		}
		if metadata.Computed(f) {
			// The list export writes computed fields too: no one writes them.
			res.Errors = append(res.Errors, RowError{Line: 1, Field: h, Message: fmt.Sprintf("column %q is the computed field %s: it is ignored", h, f.Name)})
			continue
		}
		if !scope.Editable(f.Name) {
			return nil, &access.FieldError{Object: obj.Name, Field: f.Name, Level: scope.Level(f.Name), Op: "write"}
		}
		seen[f.Name] = h
		cols[i] = column{field: f}
	}
	if opt.Key != "" {
		if _, ok := seen[opt.Key]; !ok {
			return nil, &engine.RequestError{Message: "the key field is not in the file", Details: []engine.FieldError{{Field: opt.Key, Code: "invalid", Message: fmt.Sprintf("no column fills %s", opt.Key)}}}
		}
	}
	return cols, nil
}

// match finds the field each column of the header fills: the one the
// mapping names, else the field whose name or label (English or Chinese)
// the header is, ignoring case; nil for none. A mapping to an unknown
// field is an error.
func match(obj *metadata.Object, header []string, mapping map[string]string) ([]*metadata.Field, error) {
	byName := map[string]*metadata.Field{}
	for _, f := range obj.Fields {
		byName[strings.ToLower(f.Name)] = f
		for _, l := range f.Label {
			if _, taken := byName[strings.ToLower(l)]; !taken {
				byName[strings.ToLower(l)] = f
			}
		}
	}
	out := make([]*metadata.Field, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if name, ok := mapping[h]; ok {
			if name == "" {
				continue // mapped to nothing: ignored
			}
			mf, ok := obj.Field(name)
			if !ok {
				return nil, &engine.RequestError{Message: "the mapping names an unknown field", Details: []engine.FieldError{{Field: name, Code: "unknown_field", Message: fmt.Sprintf("%s has no field %q (column %q)", obj.Name, name, h)}}}
			}
			out[i] = mf
		} else if h != "" {
			out[i] = byName[strings.ToLower(h)]
		}
	}
	return out, nil
}

// Sample is the start of a file to import: its header, the field each
// column fills as Run would map it ("" for none), and its first rows.
type Sample struct {
	Header []string
	Fields []string
	Rows   [][]string
}

// Preview reads the header and the first n rows of the CSV file r (UTF-8
// or GB18030, as Run reads it) and maps the columns of object obj with
// mapping as Run would. It writes nothing and checks no rights.
func Preview(obj *metadata.Object, r io.Reader, mapping map[string]string, n int) (*Sample, error) {
	cr := csv.NewReader(decode(r))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the header: %v", ErrBadFile, err)
	}
	fields, err := match(obj, header, mapping)
	if err != nil {
		return nil, err
	}
	s := &Sample{Header: header, Fields: make([]string, len(header))}
	for i, f := range fields {
		if f != nil {
			s.Fields[i] = f.Name
		}
	}
	for len(s.Rows) < n {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue // Run reports it with its line
		}
		s.Rows = append(s.Rows, rec)
	}
	return s, nil
}

// rowData turns one row into the JSON form of a record: empty cells are
// left out, the others read by cellValue.
func rowData(cols []column, rec []string, line int, loc *time.Location) (map[string]any, []RowError) {
	data := map[string]any{}
	var errs []RowError
	if len(rec) > len(cols) {
		errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("%d cells, but the header has %d columns", len(rec), len(cols))})
	}
	for i, cell := range rec {
		if i >= len(cols) || cols[i].field == nil {
			continue
		}
		cell = csvcell.Value(strings.TrimSpace(cell))
		if cell == "" {
			continue
		}
		f := cols[i].field
		v, err := cellValue(f, cell, loc)
		if err != nil {
			errs = append(errs, RowError{Line: line, Field: f.Name, Message: err.Error()})
			continue
		}
		data[f.Name] = v
	}
	return data, errs
}

// listSeparators split a cell of several values: the comma and semicolon
// the list export and spreadsheets write, and their Chinese forms.
var listSeparators = strings.NewReplacer("，", ",", "、", ",", ";", ",", "；", ",")

// cellValue reads a cell as the JSON form of a value of f, taking what
// the list export writes (metadata.Display): numbers with or without
// thousands separators, yes and no in either language, options by value
// or label, several values separated by commas, dates and times as
// displayed in loc (or in RFC 3339). A lookup's cell is kept as text: an
// id, or the name its row resolves (refs).
func cellValue(f *metadata.Field, cell string, loc *time.Location) (any, error) {
	in := metadata.FormInput(f)
	switch k := metadata.TypeOf(f).Kind(); {
	case k.Numeric():
		n := metadata.UngroupDigits(cell)
		if _, err := strconv.ParseFloat(n, 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", cell)
		}
		return json.Number(n), nil
	case k == metadata.KindBool:
		switch strings.ToLower(cell) {
		case "true", "yes", "y", "1", "是", "对":
			return true, nil
		case "false", "no", "n", "0", "否", "不":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not yes or no", cell)
	case in.Multiple:
		var out []any
		for _, part := range strings.Split(listSeparators.Replace(cell), ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, optionValue(f, part))
			}
		}
		return out, nil
	case in.Kind == metadata.InputSelect:
		return optionValue(f, cell), nil
	case in.Kind == metadata.InputDate:
		if t, ok := parseLocal(cell, dateLayouts, loc); ok {
			return t.Format(time.DateOnly), nil
		}
	case in.Kind == metadata.InputDateTime:
		if t, err := time.Parse(time.RFC3339Nano, cell); err == nil {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
		if t, ok := parseLocal(cell, dateTimeLayouts, loc); ok {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	}
	return cell, nil
}

// optionValue is the value of f's option whose value or label (in any
// language) cell is, ignoring case; cell itself when none is.
func optionValue(f *metadata.Field, cell string) string {
	for _, o := range f.Options {
		if strings.EqualFold(o.Value, cell) {
			return o.Value
		}
		for _, l := range o.Label {
			if strings.EqualFold(l, cell) {
				return o.Value
			}
		}
	}
	return cell
}

// The layouts a date or a date and time without an offset is read in: as
// the list export writes them (metadata.DisplayTime), with seconds, and
// with slashes as spreadsheets write them.
var (
	dateLayouts     = []string{time.DateOnly, "2006/1/2", "2006-1-2"}
	dateTimeLayouts = []string{metadata.DisplayTime, time.DateTime, "2006/1/2 15:04", "2006/1/2 15:04:05", time.DateOnly, "2006/1/2"}
)

// parseLocal reads cell in the first of layouts that fits it, in loc.
func parseLocal(cell string, layouts []string, loc *time.Location) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, cell, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
