package ui

import "sort"

// diffLine is one line of a line diff: Op is ' ' (kept), '-' (removed)
// or '+' (added).
type diffLine struct {
	Op   string
	Text string
}

// maxDiffContext is how many kept lines are shown around a change.
const maxDiffContext = 3

// lineDiff returns the shortest edit turning a into b (longest common
// subsequence), with kept lines far from any change left out.
func lineDiff(a, b []string) []diffLine {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []diffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			all = append(all, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			all = append(all, diffLine{"-", a[i]})
			i++
		default:
			all = append(all, diffLine{"+", b[j]})
			j++
		}
	}
	keep := make([]bool, len(all))
	changed := false
	for k, l := range all {
		if l.Op == " " {
			continue
		}
		changed = true
		for c := max(0, k-maxDiffContext); c <= min(len(all)-1, k+maxDiffContext); c++ {
			keep[c] = true
		}
	}
	if !changed {
		return nil
	}
	var out []diffLine
	for k, l := range all {
		if keep[k] {
			out = append(out, l)
		} else if len(out) == 0 || out[len(out)-1].Op != "…" {
			out = append(out, diffLine{"…", ""})
		}
	}
	return out
}

// sortStrings sorts names.
func sortStrings(s []string) { sort.Strings(s) }
