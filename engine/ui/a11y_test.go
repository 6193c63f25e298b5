package ui_test

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// a11yScript checks the page as rendered: every input labelled, every
// link and button named, ids unique, a language, a title, one h1, a main
// landmark, no positive tabindex, no inline style or script, and the
// contrast of every visible text against its background (WCAG AA: 4.5:1,
// 3:1 for large text). It returns the problems found.
const a11yScript = `(() => {
  const problems = [];
  const visible = el => el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : !!el.offsetParent;
  for (const el of document.querySelectorAll("input, select, textarea, output")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) problems.push("unlabelled input: " + el.outerHTML.slice(0, 100));
  }
  for (const el of document.querySelectorAll("a[href], button, summary")) {
    if (!(el.textContent.trim() || el.getAttribute("aria-label") || el.querySelector("img[alt]:not([alt=''])"))) problems.push("nameless control: " + el.outerHTML.slice(0, 100));
  }
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    if (ids[el.id]) problems.push("duplicate id " + el.id);
    ids[el.id] = true;
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (el.tabIndex > 0) problems.push("positive tabindex: " + el.outerHTML.slice(0, 80));
  }
  if (document.querySelector("[style], script:not([src])")) problems.push("inline style or script");
  if (!document.documentElement.lang) problems.push("no lang on html");
  if (!document.title.trim()) problems.push("no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push(document.querySelectorAll("h1").length + " h1 elements");
  if (!document.querySelector("main")) problems.push("no main landmark");
  const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest(".skip")) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const cs = getComputedStyle(el);
    const fg = rgba(cs.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    if (ratio < need) problems.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + el.tagName + " " + el.textContent.trim().slice(0, 40));
  }
  return problems;
})()`

// focusablesScript marks the elements keyboard users can reach, in
// document order, puts the walk's start just before the element the
// selector %q finds (the top of the page when it is empty), and returns
// how many there are and the order of the first after the start.
const focusablesScript = `(() => {
  const all = [...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]")]
    .filter(e => e.type !== "hidden" && !e.disabled && e.tabIndex >= 0 && e.checkVisibility({visibilityProperty: true}))
    .filter(e => { // Tab enters a group of radio buttons once: at the checked one, else the first
      if (e.type !== "radio" || !e.name) return true;
      const group = [...document.getElementsByName(e.name)].filter(r => r.type === "radio" && r.form === e.form);
      const checked = group.find(r => r.checked);
      return e === (checked || group[0]);
    });
  all.forEach((e, i) => e.setAttribute("data-focus-order", i));
  const start = document.createElement("span");
  start.tabIndex = -1;
  start.id = "focus-walk-start";
  const from = %q ? document.querySelector(%q) : null;
  if (from) from.before(start); else document.body.prepend(start);
  start.focus();
  const first = all.findIndex(e => start.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);
  return [all.length, first < 0 ? all.length : first];
})()`

// checkA11y runs the page checks and walks the focus order with the Tab
// key: each press must reach the next element in document order (the
// visual reading order of these pages) and show a focus outline.
func (b *tab) checkA11y(where string) {
	b.t.Helper()
	b.checkA11yFrom(where, "")
}

// checkA11yFrom runs the page checks and walks the focus order, as
// checkA11y, from the element the selector from finds: the part of a long
// page the test is about, beyond the first 25 stops.
func (b *tab) checkA11yFrom(where, from string) {
	b.t.Helper()
	if probs := eval[[]string](b, a11yScript); len(probs) > 0 {
		b.t.Errorf("%s: accessibility problems on %s:\n%s", b.name, where, strings.Join(probs, "\n"))
	}
	got := eval[[]int](b, fmt.Sprintf(focusablesScript, from, from))
	n, first := got[0], got[1]
	if n == first {
		b.t.Errorf("%s: nothing to focus on %s", b.name, where)
		return
	}
	steps := first + min(n-first, 25)
	last := first - 1
	for i := first; i < steps+4 && last < steps-1; i++ {
		b.do(chromedp.KeyEvent("\t"))
		got := eval[[]string](b, `(() => { const a = document.activeElement; const s = getComputedStyle(a);
		  return [a.getAttribute("data-focus-order") || "none", s.outlineStyle, s.outlineWidth, a.outerHTML.slice(0, 80)]; })()`)
		if got[0] == "none" {
			b.t.Errorf("%s: on %s, Tab reached an unexpected element: %s", b.name, where, got[3])
			return
		}
		var idx int
		fmt.Sscan(got[0], &idx)
		if idx != last && idx != last+1 {
			b.t.Errorf("%s: on %s, focus went from element %d to %d (%s)", b.name, where, last, idx, got[3])
			return
		}
		if got[1] == "none" || got[2] == "0px" {
			b.t.Errorf("%s: on %s, element %d shows no focus outline: %s", b.name, where, idx, got[3])
		}
		last = idx
	}
	eval[bool](b, `(() => { document.getElementById("focus-walk-start").remove(); return true })()`)
	if last < steps-1 {
		b.t.Errorf("%s: on %s, Tab reached only %d of %d elements", b.name, where, last+1-first, steps-first)
	}
}

// scrollRegionsScript finds the elements that scroll sideways but which
// a keyboard cannot scroll: each must take the focus itself (tabindex
// 0) and be named, as the pages' table regions are (role="region" with
// a label), so that arrow keys scroll it and a screen reader says what
// it holds.
const scrollRegionsScript = `[...document.querySelectorAll("body *")].filter(e => {
  const o = getComputedStyle(e).overflowX;
  return (o === "auto" || o === "scroll") && e.scrollWidth > e.clientWidth + 1;
}).filter(e => e.tabIndex < 0 || !(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby"))).map(e => e.outerHTML.slice(0, 100))`

// checkNarrow shows the page 390 px wide (a phone): nothing may stick out
// sideways (tables scroll inside their own region, which the keyboard
// reaches); it saves a screenshot.
func (b *tab) checkNarrow(where, shot string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(390, 844))
	if over := eval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		wide := eval[[]string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !(e.parentElement && e.parentElement.closest(".table-wrap, .board, pre"))).slice(0, 5).map(e => e.outerHTML.slice(0, 80))`)
		b.t.Errorf("%s: %s is %d px wider than a 390 px screen: %s", b.name, where, over, strings.Join(wide, " | "))
	}
	if regions := eval[[]string](b, scrollRegionsScript); len(regions) > 0 {
		b.t.Errorf("%s: on %s at 390 px, regions scroll sideways without a keyboard focus and a name:\n%s", b.name, where, strings.Join(regions, "\n"))
	}
	b.shot(shot + "-390")
	b.do(chromedp.EmulateViewport(1280, 900))
}

// checkPage runs every check on the page: the accessibility checks, then
// no browser errors, and the page at 390 px; it saves screenshots at both
// widths as shot.
func (b *tab) checkPage(where, shot string) {
	b.t.Helper()
	b.checkA11y(where)
	b.shot(shot)
	b.checkNarrow(where, shot)
	b.noErrors(where)
}
