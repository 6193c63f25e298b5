package imports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/sales/imports"
)

// rowsReader generates a CSV file of n leads as it is read, so the file
// itself takes no memory.
type rowsReader struct {
	n, i int
	buf  []byte
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf = append(r.buf, "person,company,email,phone,source,city,description\n"...)
		} else {
			r.buf = fmt.Appendf(r.buf, "Person %d,Company %d Ltd,p%d@example.com,+86 571 %08d,cold_call,Hangzhou,Imported in a test of bounded memory\n", r.i, r.i, r.i, r.i)
		}
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestImportBoundedMemory streams a large generated file through an
// import, in the CLI's way (Run) and as a job through the API, and
// samples the live heap after batches: it must stay under a bound that
// does not grow with the file (100,000 rows with CRM_IMPORT_ROWS=100000;
// 3,000 by default to keep the suite quick). The rate is logged
// (docs/performance.md); nothing here is timed.
func TestImportBoundedMemory(t *testing.T) {
	t.Parallel()
	rows := 3000
	if v, err := strconv.Atoi(os.Getenv("CRM_IMPORT_ROWS")); err == nil && v > 0 {
		rows = v
	}
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		u, err := s.Platform.Access.GetUser(context.Background(), "admin")
		if err != nil {
			t.Fatal(err)
		}
		bounded(t, "run", rows, func(progress func()) {
			res, err := imports.Run(context.Background(), s.Platform.Engine, u.Principal(), &rowsReader{n: rows}, imports.Options{Object: "lead", Progress: func(int64) { progress() }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Created != rows || res.Skipped != 0 {
				t.Fatalf("created %d, skipped %d: %v", res.Created, res.Skipped, res.Errors)
			}
		})
		// The same rows again through the API, as updates by e-mail: the
		// upload is stored in the request; the job reads it a piece at a
		// time.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, err := mw.CreateFormFile("file", "leads.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(fw, &rowsReader{n: rows}); err != nil {
			t.Fatal(err)
		}
		mw.WriteField("key", "email")
		mw.Close()
		status, raw := s.Raw("POST", "/api/import/lead", "admin", mw.FormDataContentType(), &body, nil)
		if status != 202 {
			t.Fatalf("upload: %d %s", status, raw)
		}
		body = bytes.Buffer{}
		var st imports.Status
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		bounded(t, "job", rows, func(progress func()) {
			if err := s.Platform.Engine.Jobs().Drain(context.Background(), jobs.DrainOptions{Kinds: []string{imports.Kind}, Progress: func(jobs.Job) { progress() }}); err != nil {
				t.Fatal(err)
			}
		})
		status, m := s.Do("GET", "/api/imports/"+st.ID, "admin", "")
		if status != 200 || m["state"] != "done" || m["updated"] != json.Number(strconv.Itoa(rows)) || m["created"] != json.Number("0") {
			t.Fatalf("import job: %d %v", status, m)
		}
	})
}

// bounded runs an import of rows, which calls progress after batches, and
// fails when the live heap grew by more than a fixed bound meanwhile.
func bounded(t *testing.T, name string, rows int, run func(progress func())) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	batches := 0
	start := time.Now()
	run(func() {
		if batches++; batches%2 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	elapsed := time.Since(start)
	const bound = 64 << 20
	if peak > base+bound {
		t.Fatalf("%s: the live heap grew by %d MiB during the import (bound %d MiB)", name, (peak-base)>>20, bound>>20)
	}
	t.Logf("%s: %d rows in %s (%.0f rows/s); live heap %d MiB at start, at most %d MiB during", name, rows, elapsed.Round(time.Millisecond),
		float64(rows)/elapsed.Seconds(), base>>20, peak>>20)
}
