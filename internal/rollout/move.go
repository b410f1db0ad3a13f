package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Router reads and writes what a subject serves: a listener's forward
// action, a Lambda alias's routing, a flag's percentage. It knows nothing of
// rollouts. Every write of a run goes through Runner.move, which owns the
// promises around it: the subject must serve what the last step left before
// anything is written (the mid-rollout guard), every write is read back, and
// a write whose answer was lost is never taken for "nothing moved".
type Router interface {
	// Read returns what the subject serves now.
	Read(ctx context.Context) (Reading, error)
	// Write makes the subject serve want, built on base (a Reading just
	// taken: a listener's other actions, a parameter's version). An error
	// wrapping ErrUnknownWeights means the write may have landed; one
	// wrapping ErrConflict means another writer wrote between base and this
	// write; any other error means it was refused and nothing changed.
	Write(ctx context.Context, base Reading, want weights.Split) error
}

// Reserver is a Router whose writes wait for their turn (the API budget).
// Reserve waits for the turn of the next write and returns the context to
// make it with, which waits no more: the write starts from a reading taken
// after that wait, and no wait comes between the guard's read and its
// write, where a person's change would be written over unseen. waited
// reports whether the turn came after a wait: a reading taken before it
// (a primed one) is not one to start the write from.
type Reserver interface {
	Reserve(ctx context.Context) (wctx context.Context, waited bool, err error)
}

// reserve is Reserve when the Router has one. After a wait, the primed
// reading is dropped.
func (r *Runner) reserve(ctx context.Context) (context.Context, error) {
	rs, ok := r.Router.(Reserver)
	if !ok {
		return ctx, nil
	}
	wctx, waited, err := rs.Reserve(ctx)
	if waited {
		r.Primed = nil
	}
	return wctx, err
}

// Matcher is a Router whose writes carry more than the split (a
// listener's stickiness): Matches says whether a reading already serves
// want in full. Without it, serving want's split is enough.
type Matcher interface {
	Matches(rd Reading, want weights.Split) bool
}

// done reports whether rd serves want in full.
func (r *Runner) done(rd Reading, want weights.Split) bool {
	if !rd.Split.Equal(want) {
		return false
	}
	m, ok := r.Router.(Matcher)
	return !ok || m.Matches(rd, want)
}

// Normalizer is a Router that serves splits at a resolution of its own (a
// flag: whole percents). Normalize is the split the subject serves when
// asked for s; the guard and the read-back compare in those terms.
type Normalizer interface {
	Normalize(s weights.Split) weights.Split
}

// normalize is s as the Router serves it.
func (r *Runner) normalize(s weights.Split) weights.Split {
	if n, ok := r.Router.(Normalizer); ok && s != nil {
		return n.Normalize(s)
	}
	return s
}

// Reading is what a Router read.
type Reading struct {
	// Split is what the subject serves.
	Split weights.Split
	// Rest stands for everything else of the subject that a rollout must
	// not overwrite (the rest of a flag's document); "" when the Router
	// writes only the split. A change of Rest during a run is a change by
	// someone else, as a change of Split is.
	Rest string
	// Base is the Router's own: what a Write builds on.
	Base any
	// At is when it was read, by the Runner's clock (set by the Runner).
	At time.Time
}

// ErrConflict marks a write that found another writer's change between
// the reading it was built on and itself (a parameter's version skipped).
var ErrConflict = errors.New("another writer changed it between the read and the write")

// ChangedError says the subject no longer serves what the rollout last
// left it at: someone or something else changed it. Nothing more is written.
type ChangedError struct {
	// Expected is what the rollout last left (or, after a write whose
	// outcome was unknown, the first of what it may have left).
	Expected weights.Split
	// Found is what the subject serves now.
	Found weights.Split
	// RestChanged is true when what changed is not the split but the rest
	// of the subject (a flag's other settings).
	RestChanged bool
	// AfterWrite is true when the change came between this write and its
	// read-back: the rollout's write landed and was changed again.
	AfterWrite bool
	// Overwritten is true when the other change came between this step's
	// read and its write, which overwrote it (no compare-and-swap exists).
	Overwritten bool
}

func (e *ChangedError) Error() string {
	what := fmt.Sprintf("it serves %s, not the %s the rollout last left", e.Found.Short(), e.Expected.Short())
	if e.RestChanged {
		what = "its other settings changed since the rollout started"
	}
	switch {
	case e.Overwritten:
		return "another writer changed it between this step's read and its write, and the write overwrote that change; " + what
	case e.AfterWrite:
		return "it was changed again right after this step's write: " + what
	}
	return what
}

// NotConfirmedError says the subject still serves what it did before, after
// every write.
type NotConfirmedError struct {
	Want, Got weights.Split
	Attempts  int
}

func (e *NotConfirmedError) Error() string {
	return fmt.Sprintf("after %d writes it still serves %s, not the %s that was written", e.Attempts, e.Got.Short(), e.Want.Short())
}

// Confirmation: how many times a write is made while the read-back still
// shows the old split (a write not visible yet), with waits doubling from
// ConfirmBackoff. PrimedMaxAge is how old a reading taken before the run may
// be for the first write to start from it instead of reading again.
const (
	ConfirmAttempts = 4
	ConfirmBackoff  = 500 * time.Millisecond
	PrimedMaxAge    = time.Second
)

// unknown wraps err as an outcome that is not known.
func unknown(err error) error {
	if errors.Is(err, ErrUnknownWeights) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnknownWeights, err)
}

// serves reports whether s is one of set. Splits are compared exactly
// (order aside): a forward action that lists a target group at weight 0 is
// not the one that does not list it.
func serves(s weights.Split, set []weights.Split) bool {
	for _, x := range set {
		if s.Equal(x) {
			return true
		}
	}
	return false
}

// move is the one place a run writes. It makes the subject serve want when
// it serves one of expect (what the last step left; after an unknown
// outcome, also what that write wanted) and its Rest is the run's, and
// confirms the write by reading it back. It returns what the subject serves
// after it, or:
//   - *ChangedError: someone else changed the subject; nothing more may be
//     written;
//   - an error wrapping ErrUnknownWeights: a write may have landed;
//   - *NotConfirmedError: the write never showed;
//   - any other error: refused or not read, nothing written.
func (r *Runner) move(ctx context.Context, expect []weights.Split, want weights.Split) (weights.Split, error) {
	want = r.normalize(want)
	for i := range expect {
		expect[i] = r.normalize(expect[i])
	}
	if r.Repeatable && expect != nil {
		expect = append(expect, want)
	}
	got, err := r.write(ctx, expect, want)
	if err == nil {
		r.wrote = true
	}
	return got, err
}

// write is move's work. Each write's turn is taken before the read it
// starts from (Reserver), so the guard's read is the last request before
// the write.
func (r *Runner) write(ctx context.Context, expect []weights.Split, want weights.Split) (weights.Split, error) {
	wctx, err := r.reserve(ctx)
	if err != nil {
		return nil, err
	}
	base, err := r.reading(ctx)
	if err != nil {
		return nil, err
	}
	if r.rest == nil {
		rest := base.Rest
		r.rest = &rest
	}
	if base.Rest != *r.rest || expect != nil && !serves(base.Split, expect) {
		var was weights.Split
		if len(expect) > 0 {
			was = expect[0]
		}
		return nil, &ChangedError{Expected: was, Found: base.Split, RestChanged: base.Rest != *r.rest}
	}
	if r.done(base, want) {
		// Already so (a write whose answer was lost, retried): no write.
		return base.Split, nil
	}
	wait := ConfirmBackoff
	for attempt := 1; ; attempt++ {
		err := r.Router.Write(wctx, base, want)
		if errors.Is(err, ErrConflict) {
			now, rerr := r.Router.Read(ctx)
			if rerr != nil {
				return nil, unknown(fmt.Errorf("%w; reading it again: %w", err, rerr))
			}
			return nil, &ChangedError{Expected: base.Split, Found: now.Split, Overwritten: true, RestChanged: now.Rest != base.Rest}
		}
		if err != nil {
			return nil, err
		}
		got, err := r.Router.Read(ctx)
		if err != nil {
			return nil, unknown(fmt.Errorf("reading it back: %w", err))
		}
		if r.done(got, want) && got.Rest == base.Rest {
			return got.Split, nil
		}
		if got.Rest != base.Rest || !got.Split.Equal(base.Split) {
			return nil, &ChangedError{Expected: want, Found: got.Split, AfterWrite: true, RestChanged: got.Rest != base.Rest}
		}
		// Still the old split: the write is not visible yet. Write again,
		// after a back-off and the next write's turn, from a new reading.
		if attempt == ConfirmAttempts {
			return nil, &NotConfirmedError{Want: want, Got: got.Split, Attempts: attempt}
		}
		if err := r.Clock.Sleep(ctx, wait); err != nil {
			return nil, unknown(err)
		}
		wait *= 2
		if wctx, err = r.reserve(ctx); err != nil {
			return nil, unknown(err)
		}
		now, err := r.Router.Read(ctx)
		if err != nil {
			return nil, unknown(fmt.Errorf("reading it again: %w", err))
		}
		if r.done(now, want) && now.Rest == base.Rest {
			return now.Split, nil // visible now
		}
		if now.Rest != base.Rest || !now.Split.Equal(base.Split) {
			return nil, &ChangedError{Expected: want, Found: now.Split, AfterWrite: true, RestChanged: now.Rest != base.Rest}
		}
		base = now
	}
}

// reading is the reading a write starts from: the primed one when it is
// fresh, else a new read.
func (r *Runner) reading(ctx context.Context) (Reading, error) {
	if p := r.Primed; p != nil {
		r.Primed = nil
		if age := r.Clock.Now().Sub(p.At); age >= 0 && age <= PrimedMaxAge {
			return *p, nil
		}
	}
	rd, err := r.Router.Read(ctx)
	if err != nil {
		return Reading{}, err
	}
	rd.At = r.Clock.Now()
	return rd, nil
}

// Set is one guarded write outside a schedule, on ctx: the subject must
// serve one of expect (nil: whatever it serves, a subject taken as it is
// found), and the write is read back. It is how a change that moves no
// traffic is written (a listener's stickiness, a new or replaced target
// group in place of one that serves nothing). It returns what the subject
// serves after it, or move's errors.
func (r *Runner) Set(ctx context.Context, expect []weights.Split, want weights.Split) (weights.Split, error) {
	return r.move(ctx, expect, want)
}

// Put is one guarded write outside a schedule (putting back what a
// subject served before its resource took it over, on destroy): on a live
// context, when the subject serves one of expect, confirmed by reading
// back. It returns what the subject serves after it, or move's errors.
func (r *Runner) Put(ctx context.Context, expect []weights.Split, want weights.Split) (weights.Split, error) {
	lctx, cancel := r.live(ctx)
	defer cancel()
	return r.move(lctx, expect, want)
}
