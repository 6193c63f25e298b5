package templates

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// SampleFolder is the folder of a template holding its sample data: CSV
// files named NN_object.csv, loaded in name order.
const SampleFolder = metadata.SampleFolder

// sampleBatch is how many sample records one unit of work creates.
const sampleBatch = 500

// SampleResult counts the sample records created per object.
type SampleResult struct {
	Created map[string]int `json:"created"`
	Total   int            `json:"total"`
}

// LoadSample creates the sample records of a template folder (its own: a
// pack's sample data does not add its base's, whose objects it may
// replace) as principal p, through the engine's
// unit of work (rights, validation, formulas, workflows apply). In each
// CSV file the header names fields; the column _key names a row for later
// rows; a lookup's cell "@key" is the id of the row so named, and a
// many-to-many or multi-picklist cell holds values separated by "|". A
// date or datetime cell may be written relative to the day the sample is
// loaded (relativeDate), so that sample data is as fresh on every install.
func LoadSample(ctx context.Context, eng *engine.Engine, p *access.Principal, fsys fs.FS) (*SampleResult, error) {
	files, err := sampleFiles(fsys)
	if err != nil {
		return nil, err
	}
	res := &SampleResult{Created: map[string]int{}}
	ids := map[string]string{}
	now := eng.Now().In(eng.Location(ctx))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	for _, f := range files {
		if err := loadSampleFile(ctx, eng, p, f, sampleContext{ids: ids, today: today}, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sampleContext is what the cells of sample data are read against: the
// ids of the rows named so far (by _key) and the day of the load.
type sampleContext struct {
	ids   map[string]string
	today time.Time
}

// sampleFile is one CSV file of sample data.
type sampleFile struct {
	name   string
	object string
	data   []byte
}

// sampleFiles lists the sample files of a template, its own only.
func sampleFiles(fsys fs.FS) ([]sampleFile, error) {
	var out []sampleFile
	entries, err := fs.ReadDir(fsys, SampleFolder)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, fmt.Errorf("templates: sample data: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".csv") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, path.Join(SampleFolder, n))
		if err != nil {
			return nil, fmt.Errorf("templates: sample data: %w", err)
		}
		object := strings.TrimSuffix(n, ".csv")
		if i := strings.IndexByte(object, '_'); i > 0 && strings.Trim(object[:i], "0123456789") == "" {
			object = object[i+1:]
		}
		out = append(out, sampleFile{name: n, object: object, data: b})
	}
	return out, nil
}

// loadSampleFile creates the records of one file, sampleBatch per unit of
// work.
func loadSampleFile(ctx context.Context, eng *engine.Engine, p *access.Principal, f sampleFile, sc sampleContext, res *SampleResult) error {
	ids := sc.ids
	o, ok := eng.Snapshot().Schema.Object(f.object)
	if !ok {
		return fmt.Errorf("templates: sample %s: no object %s", f.name, f.object)
	}
	r := csv.NewReader(strings.NewReader(string(f.data)))
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("templates: sample %s: %w", f.name, err)
	}
	var keys []string
	var batch []map[string]any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := eng.Tx(ctx, p, func(w *engine.Writer) error {
			recs, err := w.CreateMany(ctx, o.Name, batch)
			if err != nil {
				return err
			}
			for i, rec := range recs {
				if keys[i] != "" {
					ids[keys[i]] = fmt.Sprint(rec["id"])
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("templates: sample %s: %w", f.name, err)
		}
		res.Created[o.Name] += len(batch)
		res.Total += len(batch)
		batch, keys = nil, nil
		return nil
	}
	for line := 2; ; line++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("templates: sample %s: %w", f.name, err)
		}
		// A row naming a row of the batch not yet written (a tree of
		// records of one object) writes the batch first.
		for _, cell := range row {
			for _, ref := range strings.Split(cell, "|") {
				if strings.HasPrefix(ref, "@") && slices.Contains(keys, ref[1:]) {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		rec := map[string]any{}
		key := ""
		for i, col := range header {
			if i >= len(row) || row[i] == "" {
				continue
			}
			if col == "_key" {
				key = row[i]
				continue
			}
			v, err := sampleValue(o, col, row[i], sc)
			if err != nil {
				return fmt.Errorf("templates: sample %s line %d: %w", f.name, line, err)
			}
			rec[col] = v
		}
		batch, keys = append(batch, rec), append(keys, key)
		if len(batch) == sampleBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// sampleValue converts a CSV cell to the JSON value of the field col.
func sampleValue(o *metadata.Object, col, cell string, sc sampleContext) (any, error) {
	ref := func(s string) (string, error) {
		if !strings.HasPrefix(s, "@") {
			return s, nil
		}
		id, ok := sc.ids[s[1:]]
		if !ok {
			return "", fmt.Errorf("%s: no earlier row with _key %s", col, s[1:])
		}
		return id, nil
	}
	f, ok := o.FieldOrSystem(col)
	if !ok {
		return nil, fmt.Errorf("no field %s in %s", col, o.Name)
	}
	t, ok := metadata.LookupFieldType(f.Type)
	if !ok {
		return cell, nil // a system field (owner_id): its id as written
	}
	switch t.Kind() {
	case metadata.KindRef:
		return ref(cell)
	case metadata.KindRefList, metadata.KindStringList:
		var out []any
		for _, s := range strings.Split(cell, "|") {
			v, err := ref(s)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case metadata.KindInt:
		return strconv.ParseInt(cell, 10, 64)
	case metadata.KindFloat:
		return strconv.ParseFloat(cell, 64)
	case metadata.KindBool:
		return strconv.ParseBool(cell)
	case metadata.KindDate, metadata.KindDateTime:
		if !strings.HasPrefix(cell, "today") {
			return cell, nil
		}
		d, err := relativeDate(cell, sc.today)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", col, err)
		}
		if t.Kind() == metadata.KindDate {
			return d.Format(metadata.DateLayout), nil
		}
		return d.UTC().Format(time.RFC3339), nil
	}
	return cell, nil
}

// relativePattern is a date relative to the day of the load: today, or
// today plus or minus a number of days, then, for a datetime, a time of
// day (HH:MM).
var relativePattern = regexp.MustCompile(`^today(?:([+-][0-9]+))?(?: ([0-9]{2}):([0-9]{2}))?$`)

// relativeDate reads a date written relative to today (midnight of the
// day of the load, in the server's time zone): "today", "today+30",
// "today-7", "today-1 14:30".
func relativeDate(cell string, today time.Time) (time.Time, error) {
	m := relativePattern.FindStringSubmatch(cell)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is neither a date nor today, today+N or today-N days, optionally with a time HH:MM", cell)
	}
	days, _ := strconv.Atoi(m[1])
	t := today.AddDate(0, 0, days)
	if m[2] != "" {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		if h > 23 || mi > 59 {
			return time.Time{}, fmt.Errorf("%q: no time of day %s:%s", cell, m[2], m[3])
		}
		t = t.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute)
	}
	return t, nil
}
