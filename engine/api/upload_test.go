package api

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestUploadMemory sends 16 uploads of 30 MB at once to a 1 MiB image
// field over a real connection: each is refused at the field's limit, so
// the server's memory grows by a few MiB per upload, not by the bodies.
func TestUploadMemory(t *testing.T) {
	t.Parallel()
	const uploads, size = 16, 30 << 20
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	base := f.listen(t)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the heap while the uploads run
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	statuses := make([]string, uploads)
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = bigUpload(base, f.tokens["rep1"], size)
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("%d concurrent uploads of %d MB to a 1 MiB field: the heap in use grew by %.1f MB at its peak; answers %v",
		uploads, size>>20, float64(grew)/(1<<20), statuses)
	for _, s := range statuses {
		if s != "413" {
			t.Errorf("an upload over the limit answered %s, want 413", s)
		}
	}
	if grew > 64<<20 {
		t.Errorf("the heap grew by %d MB: uploads are held in memory", grew>>20)
	}
}

// bigUpload streams a multipart upload of size bytes to the logo field and
// returns the status, or "closed: …" when the connection broke before an
// answer came.
func bigUpload(base, token string, size int) string {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.CreateFormFile("file", "big.png")
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	body := io.MultiReader(&head, strings.NewReader("\x89PNG\r\n\x1a\n"), io.LimitReader(zeros{}, int64(size-8)), strings.NewReader(tail))
	req, _ := http.NewRequest("POST", base+"/api/files/account/logo", body)
	req.ContentLength = int64(head.Len() + size + len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "closed: " + err.Error()
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return strconv.Itoa(resp.StatusCode)
}

// zeros reads zero bytes without end.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestAPIUploads(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
		form := func(part string, data []byte) (string, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("note", "a field before the file")
			w, _ := mw.CreateFormFile(part, "logo.png")
			w.Write(data)
			mw.Close()
			return buf.String(), mw.FormDataContentType()
		}
		ok, okType := form("file", png)
		big, bigType := form("file", append(png, make([]byte, 1<<20)...))
		other, otherType := form("picture", png)
		f.run(t, []scenario{
			{name: "an upload", method: "POST", path: "/api/files/account/logo", user: "rep1", body: ok, contentType: okType, status: 201, contains: []string{`"content_type":"image/png"`, `"size":72`}},
			{name: "one byte over max_size", method: "POST", path: "/api/files/account/logo", user: "rep1", body: big, contentType: bigType, status: 413, code: "too_large", contains: []string{"1048576"}},
			{name: "no part named file", method: "POST", path: "/api/files/account/logo", user: "rep1", body: other, contentType: otherType, status: 400, code: "malformed_body"},
			{name: "not multipart", method: "POST", path: "/api/files/account/logo", user: "rep1", body: `{"file": "x"}`, status: 415, code: "unsupported_media_type"},
			{name: "no token: not read", method: "POST", path: "/api/files/account/logo", body: ok, contentType: okType, status: 401, code: "unauthenticated"},
			{name: "no right on the object: not read", method: "POST", path: "/api/files/campaign/logo", user: "rep1", body: ok, contentType: okType, status: 403, code: "forbidden"},
			{name: "a declared body over the server's limit", method: "POST", path: "/api/files/account/logo", user: "rep1", body: ok, contentType: okType, header: map[string]string{"Content-Length": fmt.Sprint(MaxUploadBody + 1)}, status: 413, code: "too_large"},
			{name: "max_size above the server's limit", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "scan", "type": "file", "max_size": 33554433}`, status: 422, code: "invalid_metadata", contains: []string{`/max_size"`, "upload limit"}},
			{name: "max_size at the server's limit", method: "POST", path: "/api/meta/objects/account/fields", user: "admin", body: `{"name": "scan", "type": "file", "max_size": 33554432}`, status: 201},
		})
	})
}

// TestAPIBodiesOverTheConnection sends bodies as a client does, on one
// kept-alive connection: chunked JSON is read within its limit, and after
// an upload refused at its limit the connection still carries the next
// request.
func TestAPIBodiesOverTheConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	base := f.listen(t)
	client := &http.Client{}
	send := func(method, path, contentType string, body io.Reader, length int64) (int, string) {
		req, _ := http.NewRequest(method, base+path, body)
		req.ContentLength = length // -1: chunked
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+f.tokens["rep1"])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if status, raw := send("POST", "/api/records/account", "application/json", strings.NewReader(`{"name": "Chunked Ltd"}`), -1); status != 201 {
		t.Fatalf("chunked JSON: %d %s", status, raw)
	}
	huge := io.MultiReader(strings.NewReader(`{"name": "`), io.LimitReader(zeros{}, MaxJSONBody), strings.NewReader(`"}`))
	if status, raw := send("POST", "/api/records/account", "application/json", huge, -1); status != 413 || !strings.Contains(raw, "too_large") {
		t.Fatalf("chunked JSON over the limit: %d %s", status, raw)
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.CreateFormFile("file", "big.png")
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	upload := io.MultiReader(&head, strings.NewReader("\x89PNG\r\n\x1a\n"), io.LimitReader(zeros{}, 3<<20), strings.NewReader(tail))
	if status, raw := send("POST", "/api/files/account/logo", mw.FormDataContentType(), upload, int64(head.Len()+8+3<<20+len(tail))); status != 413 {
		t.Fatalf("upload over max_size: %d %s", status, raw)
	}
	if status, raw := send("GET", "/api/records/account?filter="+urlq(`name == "Chunked Ltd"`), "", nil, 0); status != 200 || !strings.Contains(raw, "Chunked Ltd") {
		t.Fatalf("the next request: %d %s", status, raw)
	}
}
