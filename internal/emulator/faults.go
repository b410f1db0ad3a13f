package emulator

import (
	"math/rand"
	"net"
	"net/http"
	"strings"
	"time"
)

// Faults is what the front does to a share of one service's requests, so
// tests can prove that the provider survives what AWS and networks do:
// throttling, server errors, reset connections, answers lost after the
// request took effect, and slow answers. Faults are drawn from a seeded
// source, so a test sees the same sequence on every run.
type Faults struct {
	// Rate is the share of requests that get a fault, from 0 to 1.
	Rate float64
	// Kinds are drawn from in equal shares; empty means all of them.
	Kinds []Fault
	// SlowBy is how long a slow answer is held back (default 200ms).
	SlowBy time.Duration
	Seed   int64
}

// Fault is one kind of fault.
type Fault string

// The faults the front can inject.
const (
	// Throttle answers 400 Throttling (ELB's query protocol) or, for other
	// protocols, 503: the request does not take effect.
	Throttle Fault = "throttle"
	// ServerError answers 503 without forwarding.
	ServerError Fault = "server_error"
	// Reset closes the connection with a TCP reset before forwarding.
	Reset Fault = "reset"
	// LostAnswer forwards the request (it takes effect) and then resets the
	// connection, so the caller never sees the answer.
	LostAnswer Fault = "lost_answer"
	// Slow holds the answer back by SlowBy, then answers normally.
	Slow Fault = "slow"
	// Denied answers AccessDenied in the protocol of the action's service
	// (a request AWS refuses, not retried): the request does not take
	// effect. Only FaultNext injects it.
	Denied Fault = "denied"
)

var allFaults = []Fault{Throttle, ServerError, Reset, LostAnswer, Slow}

type faultState struct {
	Faults
	rng *rand.Rand
}

// InjectFaults makes the front fault a share of the requests of a service
// ("elasticloadbalancing", "monitoring", "lambda"); a zero Rate stops it.
func (e *Emulator) InjectFaults(service string, f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f.Rate <= 0 {
		delete(e.faults, service)
		return
	}
	if len(f.Kinds) == 0 {
		f.Kinds = allFaults
	}
	if f.SlowBy <= 0 {
		f.SlowBy = 200 * time.Millisecond
	}
	e.faults[service] = &faultState{Faults: f, rng: rand.New(rand.NewSource(f.Seed))}
}

// Faulted counts the faults injected so far, by kind.
func (e *Emulator) Faulted() map[Fault]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[Fault]int{}
	for k, v := range e.faulted {
		out[k] = v
	}
	return out
}

// targetedFault faults the next Times requests of one action.
type targetedFault struct {
	action string
	kind   Fault
	times  int
}

// FaultNext makes the front answer the next n requests of action (such as
// "elasticloadbalancing:ModifyListener") with fault kind, whatever the
// seeded faults do: a test can lose exactly the answers it means to.
func (e *Emulator) FaultNext(action string, kind Fault, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.targeted = append(e.targeted, &targetedFault{action: action, kind: kind, times: n})
}

// ClearFaults forgets every fault FaultNext armed and every injected rate.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.targeted = nil
	e.faults = map[string]*faultState{}
}

// drawFault picks the fault for a request of action, or "" for none.
func (e *Emulator) drawFault(action string) Fault {
	service, _, _ := strings.Cut(action, ":")
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.throttle(action) {
		return Throttle
	}
	for i, tf := range e.targeted {
		if tf.action == action && tf.times > 0 {
			tf.times--
			if tf.times == 0 {
				e.targeted = append(e.targeted[:i], e.targeted[i+1:]...)
			}
			e.faulted[tf.kind]++
			return tf.kind
		}
	}
	fs := e.faults[service]
	if fs == nil || fs.rng.Float64() >= fs.Rate {
		return ""
	}
	f := fs.Kinds[fs.rng.Intn(len(fs.Kinds))]
	e.faulted[f]++
	return f
}

func (e *Emulator) slowBy(action string) time.Duration {
	service, _, _ := strings.Cut(action, ":")
	e.mu.Lock()
	defer e.mu.Unlock()
	if fs := e.faults[service]; fs != nil {
		return fs.SlowBy
	}
	return 0
}

// injectFault acts out f before the request is forwarded (LostAnswer is
// acted out by the front around the forwarding). It returns true when the
// request is answered.
func (e *Emulator) injectFault(f Fault, action string, w http.ResponseWriter, r *http.Request) bool {
	switch f {
	case Throttle:
		throttled(w, action)
		return true
	case ServerError:
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	case Denied:
		denied(w, action)
		return true
	case Reset:
		resetConn(w)
		return true
	case Slow:
		e.mu.Lock()
		wait := e.slowWait
		e.mu.Unlock()
		if wait == nil {
			time.Sleep(e.slowBy(action)) // a real server's latency: the client's own process waits for it
			return false
		}
		if !wait(action, e.slowBy(action)) {
			return false // answered within the caller's bound
		}
		// The caller's bound has passed: it gives up, and the request
		// takes no effect. A caller still waiting after clientGone (its
		// bound is longer than the test says) is answered, late.
		select {
		case <-r.Context().Done():
			return true
		case <-time.After(clientGone):
			return false
		}
	}
	return false
}

// clientGone is how long, in real time, the front waits for a caller whose
// bound a slow answer passed to go away.
const clientGone = 3 * time.Second

// SlowWith makes a slow answer take d on a test's clock instead of real
// time: wait moves that clock by d (for a caller bounded by it) and says
// whether the caller's bound passed, in which case the front waits for the
// caller to give up and does not forward the request. nil sleeps in real
// time again.
func (e *Emulator) SlowWith(wait func(action string, d time.Duration) (late bool)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.slowWait = wait
}

// resetConn closes the client's connection with a TCP reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// throttled answers Throttling in the protocol of action's service, as AWS
// does: ELB's query XML, CloudWatch's CBOR, Lambda's 429, SSM's JSON.
func throttled(w http.ResponseWriter, action string) {
	const msg = "Rate exceeded"
	switch service, _, _ := strings.Cut(action, ":"); service {
	case "elasticloadbalancing":
		queryError(w, http.StatusBadRequest, "Throttling", msg)
	case "monitoring":
		cborError(w, http.StatusBadRequest, "Throttling", msg)
	case "lambda":
		lambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException", msg)
	case "ssm":
		jsonError(w, http.StatusBadRequest, "ThrottlingException", msg)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// denied answers AccessDenied in the protocol of action's service, as AWS
// does when a policy does not allow the call.
func denied(w http.ResponseWriter, action string) {
	msg := "User: arn:aws:sts::000000000000:assumed-role/deploy/ci is not authorized to perform: " + action
	switch service, _, _ := strings.Cut(action, ":"); service {
	case "elasticloadbalancing":
		queryError(w, http.StatusForbidden, "AccessDenied", msg)
	case "monitoring":
		cborError(w, http.StatusForbidden, "AccessDenied", msg)
	case "lambda":
		lambdaError(w, http.StatusForbidden, "AccessDeniedException", msg)
	default: // ssm and the other JSON protocols
		jsonError(w, http.StatusBadRequest, "AccessDeniedException", msg)
	}
}

// queryError answers an error in ELB's query protocol (XML).
func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>` + code + `</Code><Message>` + msg + `</Message></Error><RequestId>rollout-emulator-fault</RequestId></ErrorResponse>`))
}

// cborError answers an error in CloudWatch's rpc-v2-cbor protocol.
func cborError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := encodeCBOR(map[string]any{"__type": "com.amazonaws.cloudwatch#" + code, "message": msg})
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
