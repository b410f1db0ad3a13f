package acctest

import (
	"net/url"
	"sync"
	"time"
)

// Write is one forward-action write the emulator received: the listener
// or rule ARN it went to, in arrival order.
type Write struct {
	Owner string
}

// writeOwner is the listener or rule ARN a forward-action write goes to;
// ok is false for any other request.
func writeOwner(action string, form url.Values) (string, bool) {
	switch action {
	case "elasticloadbalancing:ModifyListener":
		return form.Get("ListenerArn"), true
	case "elasticloadbalancing:ModifyRule":
		return form.Get("RuleArn"), true
	}
	return "", false
}

// RecordWrites records, from now on, which listener or rule each
// ModifyListener and ModifyRule went to, in the order the emulator received
// them.
func (e *Env) RecordWrites() func() []Write {
	var mu sync.Mutex
	var got []Write
	e.Emu.OnRequest(func(action string, form url.Values) {
		owner, ok := writeOwner(action, form)
		if !ok {
			return
		}
		mu.Lock()
		got = append(got, Write{Owner: owner})
		mu.Unlock()
	})
	return func() []Write {
		mu.Lock()
		defer mu.Unlock()
		return append([]Write(nil), got...)
	}
}

// Rendezvous holds the first forward-action write to each of owners (listener
// or rule ARNs) at the emulator until the first writes to all of them have
// arrived: a client that writes them one after the other never gets past the
// first. After wait (real time, the failure path only) it lets them go. The
// function returned reports whether all met: proof that the writes were in
// flight at the same time.
func (e *Env) Rendezvous(wait time.Duration, owners ...string) func() bool {
	var mu sync.Mutex
	arrived := map[string]bool{}
	all := make(chan struct{})
	met := false
	want := map[string]bool{}
	for _, o := range owners {
		want[o] = true
	}
	e.Emu.OnRequest(func(action string, form url.Values) {
		owner, ok := writeOwner(action, form)
		if !ok {
			return
		}
		mu.Lock()
		if !want[owner] || arrived[owner] {
			mu.Unlock()
			return
		}
		arrived[owner] = true
		if len(arrived) == len(want) {
			met = true
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(wait):
		}
	})
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		return met
	}
}
