package awsclient

import (
	"errors"
	"reflect"
	"testing"
)

func TestTagChanges(t *testing.T) {
	drop, set := tagChanges(map[string]string{"a": "1", "b": "2", "c": "3"}, map[string]string{"b": "2", "c": "4", "d": "5"})
	if !reflect.DeepEqual(drop, []string{"a"}) || !reflect.DeepEqual(set, []string{"c", "d"}) {
		t.Errorf("drop %v set %v, want [a] [c d]", drop, set)
	}
	if drop, set := tagChanges(map[string]string{"a": "1"}, map[string]string{"a": "1"}); drop != nil || set != nil {
		t.Errorf("no change: drop %v set %v", drop, set)
	}
}

// A run stops when its subject is gone or another owner holds the lease,
// and goes on while the lease is its own, unowned, or cannot be read.
func TestTakenFrom(t *testing.T) {
	for _, c := range []struct {
		l    Lease
		err  error
		want string
	}{
		{Lease{Owner: "rollout_traffic_split/a"}, nil, ""},
		{Lease{}, nil, ""},
		{Lease{}, errors.New("throttled"), ""},
		{Lease{}, ErrNotFound, "the listener L no longer exists"},
		{Lease{Owner: "rollout_traffic_split/b"}, nil, "another owner (rollout_traffic_split/b) took the listener's lease during the rollout; it wins, and nothing more is written"},
	} {
		if got := TakenFrom(c.l, c.err, "rollout_traffic_split/a", "listener", "L"); got != c.want {
			t.Errorf("TakenFrom(%+v, %v) = %q, want %q", c.l, c.err, got, c.want)
		}
	}
}
