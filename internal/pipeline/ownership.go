package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/problem"
	"github.com/rolloutdev/terraform-provider-rollout/internal/rollout"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Ownership: one owner per subject. Each owner keeps a lease (an owner tag
// with a token kept in state) where the subject lives; the pipeline claims
// it before the first write, and gives it up on destroy. The same rules hold
// for every subject: a listener or rule, an alias, a flag.

// Owned is a subject as ownership sees it: where its lease is kept, and its
// name in messages.
type Owned interface {
	Kind() string
	ID() string
	Lease() awsclient.LeaseStore
}

// Lease is a claimed lease: the token now held, and the owner there was
// before (to put back when the change is refused before anything moved).
type Lease struct {
	Token, previous string
	taken           bool
}

// Claim checks and takes the lease of s before the first write. mine is
// the token in state ("" on create and after an import). Another owner is
// refused unless adopt. On create, a change that a destroyed predecessor did
// not ship (LastTag, left when a tainted create is replaced) is refused
// until rollout.attempt changes.
func Claim(ctx context.Context, base problem.Path, s Owned, resourceType, mine string, adopt bool, to weights.Split, attempt string, diags Report) (Lease, bool) {
	store := s.Lease()
	l, err := store.ReadLease(ctx)
	if err != nil {
		AddLeaseReadError(diags, s, err)
		return Lease{}, false
	}
	if l.Owner != "" && l.Owner != mine && !adopt {
		what := fmt.Sprintf("The %s %s is owned by another rollout resource (tag %s = %q).", s.Kind(), s.ID(), awsclient.OwnerTag, l.Owner)
		if mine != "" {
			what = fmt.Sprintf("The %s %s was taken over by another rollout resource (tag %s = %q) since this one last applied.", s.Kind(), s.ID(), awsclient.OwnerTag, l.Owner)
		}
		diags.AddAttributeError(problem.At("adopt"), fmt.Sprintf("%s Has Another Owner", Title(s.Kind())), Detail(nil, what+" Two owners of one subject overwrite each other's changes, and each would confirm its own.",
			"Nothing was moved. Keep one owner: remove the other resource (terraform state rm, or destroy with on_destroy = \"keep\"), or set adopt = true on the one that should own it."))
		return Lease{}, false
	}
	if mine == "" && l.Last != "" && to != nil && lastTagMatches(l.Last, to, attempt) {
		status := strings.SplitN(l.Last, " ", 2)[0]
		RefuseRetry(base, Record{Presence: Known, Status: status,
			Gate: gateOfLastTag(status), Reason: "recorded on the " + s.Kind() + " when the resource whose change did not ship was replaced",
			Rollback: rollbackOfLastTag(status), Target: to.Canonical(), Attempt: attempt}.WithPromote(""), to, attempt, diags, AtApply)
		return Lease{}, false
	}
	out := Lease{Token: mine, previous: l.Owner}
	if out.Token == "" || l.Owner != mine {
		if out.Token == "" {
			out.Token = awsclient.NewOwnerToken(resourceType)
		}
		if err := store.TakeLease(ctx, out.Token, l); err != nil {
			reportError(diags, nil, fmt.Sprintf("Cannot Tag %s", Title(s.Kind())), err, fmt.Sprintf("Tagging %s with its owner failed.", s.ID()), LeasePermissions(s.Kind()))
			return Lease{}, false
		}
		out.taken = true
	}
	return out, true
}

// GiveBack undoes a claim whose change was then refused before anything
// moved: the lease goes back to the owner it had (none, or the one adopt
// took it from).
func GiveBack(ctx context.Context, s Owned, l Lease, diags Report) {
	if !l.taken {
		return
	}
	if err := s.Lease().SetOwner(ctx, l.previous); err != nil && !errors.Is(err, awsclient.ErrNotFound) {
		diags.AddWarning("Owner Tag Not Restored", Detail(err, fmt.Sprintf("Putting the %s tag of %s back to %q failed.", awsclient.OwnerTag, s.ID(), l.previous),
			"Set the tag by hand, or the previous owner will need adopt = true."))
	}
}

// Statuses kept in LastTag: the status, and for a held or stopped change
// what made it so.
const (
	lastHeld    = "held"
	lastStopped = "stopped"
)

// lastTagStatus is the LastTag status of a change that did not ship, or "".
func lastTagStatus(last Record) (status, target, attempt string) {
	if _, _, ok := unshipped(last.Status, last.Gate, last.Rollback); !ok || last.Target == "" {
		return "", "", ""
	}
	status = last.Status
	switch {
	case last.Gate == string(rollout.GateChanged):
		status = lastStopped
	case last.Rollback == string(rollout.None):
		status = lastHeld
	}
	return status, last.Target, last.Attempt
}

func gateOfLastTag(status string) string {
	if status == lastStopped {
		return string(rollout.GateChanged)
	}
	return "recorded"
}

func rollbackOfLastTag(status string) string {
	if status == lastHeld {
		return string(rollout.None)
	}
	return ""
}

// lastTagMatches reports whether a LastTag records the change to `to` with
// attempt.
func lastTagMatches(tag string, to weights.Split, attempt string) bool {
	status, fp, ok := strings.Cut(tag, " ")
	if !ok || fp != awsclient.ChangeFingerprint(to.Canonical(), attempt) {
		return false
	}
	switch status {
	case string(rollout.RolledBack):
		return true
	case lastHeld, lastStopped:
		return true
	}
	return false
}

// ReleaseLease gives the lease of s up on destroy. When the resource's last
// Change did not ship (a tainted create being replaced, say), it leaves that
// Outcome in LastTag, so the replacement does not run it again silently. A
// Subject that is gone needs nothing.
func ReleaseLease(ctx context.Context, s Owned, token string, last Record, diags Report) {
	tag := ""
	if status, target, attempt := lastTagStatus(last); status != "" {
		tag = status + " " + awsclient.ChangeFingerprint(target, attempt)
	}
	if token == "" && tag == "" {
		return
	}
	if err := s.Lease().ReleaseLease(ctx, token, tag); err != nil && !errors.Is(err, awsclient.ErrNotFound) {
		diags.AddWarning("Owner Tag Not Removed", Detail(err, fmt.Sprintf("Removing the %s tag from %s failed.", awsclient.OwnerTag, s.ID()),
			"Remove the tag by hand, or a new rollout resource on it will need adopt = true."))
	}
}

// StillOwned reports whether the resource holding token still owns s, for
// a destroy that would write to it. A subject with no owner tag is owned by
// a resource that has none (made before leases, or imported).
func StillOwned(ctx context.Context, s Owned, token string, diags Report) (owner string, ok bool) {
	l, err := s.Lease().ReadLease(ctx)
	if err != nil {
		if !errors.Is(err, awsclient.ErrNotFound) {
			AddLeaseReadError(diags, s, err)
		}
		return "", false
	}
	return l.Owner, l.Owner == token || l.Owner == ""
}

// takenBy says why a run under token may write no more to s: another owner
// took its lease, or it is gone; "" when it is still the run's (or the
// Lease could not be read: the guard's read before the write decides
// whether AWS can be reached).
func takenBy(ctx context.Context, s Owned, token string) string {
	l, err := s.Lease().ReadLease(ctx)
	return awsclient.TakenFrom(l, err, token, s.Kind(), s.ID())
}
