package pipeline

import (
	"testing"
	"time"
)

// The pace of an apply's wait on a detached rollout: 250 ms first, twice
// as long each time up to the poll interval (at most 5 s, at least
// 250 ms), and 250 ms again once the run is seen to move.
func TestDetachedPace(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		poll  time.Duration
		moved []bool
		want  []time.Duration
	}{
		{time.Minute, make([]bool, 8), []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{2 * time.Second, make([]bool, 5), []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 2 * time.Second}},
		{0, make([]bool, 3), []time.Duration{250 * ms, 250 * ms, 250 * ms}},
		{time.Minute, []bool{false, false, false, true, false}, []time.Duration{250 * ms, 500 * ms, time.Second, 250 * ms, 500 * ms}},
	} {
		p := newDetachedPace(c.poll)
		for i, moved := range c.moved {
			if got := p.wait(moved); got != c.want[i] {
				t.Errorf("poll %s, wait %d (moved %v) = %s, want %s", c.poll, i+1, moved, got, c.want[i])
			}
		}
	}
}
