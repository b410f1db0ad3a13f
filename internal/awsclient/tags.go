package awsclient

import "sort"

// tagChanges returns what turns the tags have into want: the keys to remove
// and the tags to add or change, both sorted by key.
func tagChanges(have, want map[string]string) (drop []string, set []string) {
	for k := range have {
		if _, ok := want[k]; !ok {
			drop = append(drop, k)
		}
	}
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			set = append(set, k)
		}
	}
	sort.Strings(drop)
	sort.Strings(set)
	return drop, set
}
