// Package stats has the order statistics the benchmarks report.
package stats

import (
	"sort"
	"time"
)

// Median is the middle of d.
func Median(d []time.Duration) time.Duration { return Percentile(d, 0.5) }

// Percentile is the value below which a fraction p of d lies (nearest rank).
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}
