package acctest

// SetState replaces the resource's state with v (Go values, as State
// returns them): a state as an older release of the provider wrote it.
func (r *Resource) SetState(v map[string]any) {
	r.eng.T.Helper()
	s, err := FromGo(r.typ, v)
	if err != nil {
		r.eng.T.Fatalf("state: %v", err)
	}
	r.state = s
}
