package ui_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// The browser tests drive Debian's Chromium headlessly through the
// DevTools protocol (chromedp) against the whole server on a real
// listener, on SQLite. Without Chromium they are skipped, except in CI
// (CI=true), where .ci/run installs it and they must run.

// browser is the one Chromium the package's tests share (each test opens
// its own browser context: cookies are not shared).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
	dir    string
}

// chromiumPath finds a Chromium: $CRM_CHROMIUM, else one on the PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CRM_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (apt-get install chromium, or set CRM_CHROMIUM)")
}

// startBrowser starts the shared Chromium with the flags that keep a
// machine without network from hanging, and a fresh profile.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests must run in CI: %v", err)
		}
		t.Skipf("skipping the browser tests: %v", err)
	}
	browser.once.Do(func() {
		browser.dir, browser.err = os.MkdirTemp("", "crm-ui-chromium-")
		if browser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-default-apps", true),
			chromedp.Flag("lang", "en-US"),
			chromedp.UserDataDir(browser.dir),
			chromedp.WindowSize(1280, 900),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.ctx, browser.cancel = ctx, func() { cancelCtx(); cancelAlloc() }
		browser.err = chromedp.Do(ctx) // start the browser
	})
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	return browser.ctx
}

// TestMain stops the shared browser after the tests and removes the
// seeds' databases.
func TestMain(m *testing.M) {
	code := storetest.Run(m)
	if browser.cancel != nil {
		browser.cancel()
		os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// liveServer runs the whole server on SQLite behind a real listener on
// 127.0.0.1 and returns it with its base URL.
func liveServer(t *testing.T) (*apitest.Server, string) {
	t.Helper()
	s := apitest.Seeded(t, storetest.SQLiteFrom(t, apitest.Standard), apitest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.App.Listener(ln) }()
	t.Cleanup(func() { _ = s.App.Shutdown() })
	return s, "http://" + ln.Addr().String()
}

// screenshotDir is where screenshots go: $CRM_UI_SCREENSHOTS, else
// testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CRM_UI_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one browser tab in its own browser context, as one user.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string

	mu   sync.Mutex
	errs []string
}

// newTab opens a tab for the test; it saves a screenshot when the test
// fails, and collects console errors, exceptions and failed loads.
func newTab(t *testing.T, base, name string) *tab {
	t.Helper()
	alloc := startBrowser(t)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithNewBrowserContext())
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	tb := &tab{t: t, ctx: ctx, base: base, name: name}
	t.Cleanup(func() {
		if t.Failed() {
			tb.shot("FAILED-" + sanitize(t.Name()))
		}
		cancelTime()
		cancel()
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				msg = "console." + string(e.Type)
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				msg = "log: " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			tb.mu.Lock()
			tb.errs = append(tb.errs, msg)
			tb.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
	return tb
}

// sanitize makes a test name a file name.
func sanitize(s string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(s, "_")
}

// do runs actions, failing the test on an error.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// eval evaluates JavaScript in the page and decodes the result.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("%s: eval %s: %v", b.name, js, err)
	}
	return v
}

// open navigates to a path of the UI and waits for its main landmark.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// submit clicks a submit button and waits for the next page.
func (b *tab) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("%s: submit %s: %v", b.name, sel, err)
	}
	b.do(chromedp.WaitReady(chromedp.CSS("main")))
}

// text returns the visible text of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.name, sel, err)
	}
	return s
}

// has reports whether an element matches sel now.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// setSelect chooses a value of a select and fires its change event, as a
// user choosing does.
func (b *tab) setSelect(sel, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, value))
}

// login signs in through the sign-in page.
func (b *tab) login(user string) {
	b.t.Helper()
	b.open("/ui/login")
	b.do(chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), user+"-password"))
	b.submit(`form[action="/ui/login"] button[type=submit]`)
	if !b.has(`form[action="/ui/logout"]`) {
		b.t.Fatalf("%s: not signed in as %s: %s", b.name, user, b.text("main"))
	}
}

// signedInTab opens a tab for the test and signs user in.
func signedInTab(t *testing.T, base, user string) *tab {
	t.Helper()
	b := newTab(t, base, user)
	b.login(user)
	return b
}

// shot saves a full-page screenshot as name.png.
func (b *tab) shot(name string) {
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(screenshotDir(b.t), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// noErrors fails the test if the browser reported errors since the last
// call, and forgets them.
func (b *tab) noErrors(where string) {
	b.t.Helper()
	b.mu.Lock()
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
	if len(errs) > 0 {
		b.t.Errorf("%s: browser errors at %s:\n%s", b.name, where, strings.Join(errs, "\n"))
	}
}

// forgetErrors drops the errors reported so far (after a page meant to
// answer 404).
func (b *tab) forgetErrors() {
	b.mu.Lock()
	b.errs = nil
	b.mu.Unlock()
}

// apply applies the builder's plan shown, after checking it holds want.
func (b *tab) apply(where string, want ...string) {
	b.t.Helper()
	body := b.text("main")
	for _, w := range want {
		if !strings.Contains(body, w) {
			b.t.Fatalf("the plan of %s lacks %q: %s", where, w, body)
		}
	}
	b.submit("#apply")
	if !strings.Contains(b.text("main"), "The change is applied.") {
		b.t.Fatalf("%s not applied: %s", where, b.text("main"))
	}
	b.noErrors(where)
}
