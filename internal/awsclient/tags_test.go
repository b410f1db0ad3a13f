package awsclient

import (
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
