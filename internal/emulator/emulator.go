// Package emulator runs the kumo AWS API emulator in-process behind a thin
// front that counts the requests it receives per action, for tests, the demo
// and the benchmarks.
//
// The front is also the one place where emulator gaps are filled for the
// operations the provider's tests need (gaps.go, docs/design/emulator-gaps.md);
// every other request is forwarded unchanged.
package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sivchari/kumo"
)

var mapType = reflect.TypeOf(map[string]any(nil))

// Emulator is a running kumo behind a counting front.
type Emulator struct {
	// URL is the base URL to give every SDK client as its endpoint.
	URL string

	kumo   *kumo.Server
	server *http.Server
	ln     net.Listener

	mu     sync.Mutex
	counts map[string]int
	hooks  []func(action string, form url.Values)
	// actions by the User-Agent's product token of the client that sent
	// them ("orchestrator": the orchestrator Lambda)
	agents map[string]map[string]int
	// Step Functions' calls of Lambda, and how many answered a wait
	statesCalls, statesWaits int
	requests                 map[string][]map[string]any
	alarms                   map[string]map[string]any
	// health-check settings set with ModifyTargetGroup, by target group ARN
	healthChecks map[string]url.Values
	// injected faults by service, and how many of each were injected
	faults  map[string]*faultState
	faulted map[Fault]int
	// buckets throttle requests by class (throttle.go); throttled counts
	// the requests answered Throttling.
	buckets   map[string]*tokenBucket
	throttled map[string]int
	targeted  []*targetedFault
	// slowWait, when set, acts out a slow answer on a test's clock (SlowWith).
	slowWait func(action string, d time.Duration) bool
	// authenticate-oidc configs by listener or rule ARN
	oidc map[string]*oidcConfig
	// Lambda versions and aliases
	lambda *lambdaLayer
	// states is set while the emulator's Step Functions reach its Lambda
	// through the bridge on StatesPort (states.go).
	states bool
	// ECS service deployments and CodeDeploy (deployments.go)
	depsOnce    sync.Once
	deployments *deployments
	// executions of the state machines a test holds (executions.go)
	executions *heldExecutions
}

// Start starts kumo and a front listening on addr ("127.0.0.1:0" for any
// free port).
func Start(addr string) (*Emulator, error) {
	k := kumo.NewServer()
	target, err := url.Parse(k.URL)
	if err != nil {
		k.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		k.Close()
		return nil, err
	}
	e := &Emulator{URL: "http://" + ln.Addr().String(), kumo: k, ln: ln, counts: map[string]int{},
		requests: map[string][]map[string]any{}, alarms: map[string]map[string]any{}, healthChecks: map[string]url.Values{},
		faults: map[string]*faultState{}, faulted: map[Fault]int{}, throttled: map[string]int{}, oidc: map[string]*oidcConfig{},
		lambda: &lambdaLayer{functions: map[string]*lambdaFunction{}, kumoURL: k.URL}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// A client that went away (a killed orchestrator's long poll) is
		// no emulator fault: answer quietly.
		w.WriteHeader(http.StatusBadGateway)
	}
	e.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		action, form := classify(r, body)
		switch f := e.drawFault(action); f {
		case "":
		case LostAnswer:
			// Handled as usual (it takes effect), the answer thrown away
			// and the connection reset.
			orig := w
			defer resetConn(orig)
			w = httptest.NewRecorder()
		default:
			if e.injectFault(f, action, w, r) {
				return
			}
		}
		body = fixRequest(r, action, body)
		var decoded map[string]any
		if strings.HasPrefix(action, "monitoring:") {
			decoded, _ = decodeCBOR(body)
		}
		if (strings.HasPrefix(action, "lambda:") && strings.Contains(action, "Alias") || action == "ssm:PutParameter" || action == "events:PutEvents") && len(body) > 0 {
			_ = json.Unmarshal(body, &decoded)
		}
		switch action {
		case "monitoring:PutMetricAlarm":
			if decoded != nil {
				if fwd := e.putMetricAlarm(decoded); fwd != nil {
					body = fwd
				}
			}
		case "monitoring:DeleteAlarms":
			if decoded != nil {
				e.deleteAlarms(decoded)
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if action == "elasticloadbalancing:ModifyListener" || action == "elasticloadbalancing:ModifyRule" {
			// Refused before the request hooks: a refused write is not one
			// the listener received.
			if refused := e.oidcWrite(action, form); refused != nil {
				e.mu.Lock()
				e.counts[action]++
				e.mu.Unlock()
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(refused)
				return
			}
		}
		e.mu.Lock()
		e.counts[action]++
		ua := r.Header.Get("User-Agent")
		for _, agent := range []string{"orchestrator", "terraform-provider-rollout"} {
			if !strings.Contains(ua, agent) || agent == "terraform-provider-rollout" && strings.Contains(ua, "orchestrator") {
				continue
			}
			if e.agents == nil {
				e.agents = map[string]map[string]int{}
			}
			if e.agents[agent] == nil {
				e.agents[agent] = map[string]int{}
			}
			e.agents[agent][action]++
		}
		if decoded != nil {
			e.requests[action] = append(e.requests[action], decoded)
		}
		hooks := append([]func(string, url.Values){}, e.hooks...)
		e.mu.Unlock()
		for _, h := range hooks {
			h(action, form)
		}
		switch {
		case action == "lambda:Invoke" && kumoInternal(r):
			e.failFunctionErrors(w, r, proxy)
			return
		case action == "lambda:CreateFunction":
			e.routeFunction(body)
		case action == "sqs:CreateQueue":
			e.routeQueue(body)
		case action == "states:UpdateStateMachine":
			updateStateMachine(w, r, body, proxy)
			return
		}
		if strings.HasPrefix(action, "lambda:") && e.lambda.serve(w, r, body) {
			return
		}
		if e.serveDeployments(w, action, body) {
			return
		}
		if e.serveExecutions(w, action, body) {
			return
		}
		if strings.HasPrefix(action, "ssm:") {
			if e.ssmBefore(w, r, action, body) {
				return
			}
			if action == "ssm:PutParameter" || action == "ssm:DeleteParameter" {
				rec := httptest.NewRecorder()
				proxy.ServeHTTP(rec, r)
				e.ssmAfter(r, action, body, rec.Code)
				copyRecorded(w, rec, rec.Body.Bytes())
				return
			}
		}
		if answer := e.answerDirectly(action, form); answer != nil {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write(answer)
			return
		}
		patch := map[string]func([]byte) []byte{
			"monitoring:DescribeAlarms":                 e.describeAlarms,
			"elasticloadbalancing:DescribeTargetGroups": e.describeTargetGroups,
			"elasticloadbalancing:DescribeListeners":    e.oidcAnswer,
			"elasticloadbalancing:DescribeRules":        e.oidcAnswer,
		}[action]
		if patch == nil {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			out = patch(out)
		}
		copyRecorded(w, rec, out)
	})}
	go func() { _ = e.server.Serve(ln) }()
	return e, nil
}

// copyRecorded writes a recorded answer, with body out.
func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, out []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// Close stops the front and kumo.
func (e *Emulator) Close() {
	_ = e.server.Close()
	e.kumo.Close()
}

// OnRequest registers a function called with every request's action (and
// form, for query-protocol services) before it is forwarded.
func (e *Emulator) OnRequest(h func(action string, form url.Values)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks = append(e.hooks, h)
}

// CountsOf counts the requests received from a client whose User-Agent
// names it ("orchestrator": the orchestrator Lambda; "terraform-provider-rollout":
// the provider), by action.
func (e *Emulator) CountsOf(client string) map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for a, n := range e.agents[client] {
		out[a] = n
	}
	return out
}

// StatesCalls is how many times Step Functions called a Lambda function,
// and how many of the answers asked for a wait (a "wait_seconds" above 0:
// the orchestrator's).
func (e *Emulator) StatesCalls() (calls, waits int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statesCalls, e.statesWaits
}

// ActionsOf lists the actions received from a client whose User-Agent
// names it ("orchestrator": the orchestrator Lambda), sorted.
func (e *Emulator) ActionsOf(client string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for a := range e.agents[client] {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Requests returns the decoded bodies of the CloudWatch (CBOR) requests and
// the Lambda alias (JSON) requests of an action received so far, such as
// "monitoring:PutMetricAlarm" or "lambda:UpdateAlias", as the client sent them.
func (e *Emulator) Requests(action string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]map[string]any(nil), e.requests[action]...)
}

// Count returns how many requests of an action were received, such as
// "elasticloadbalancing:DescribeListeners".
func (e *Emulator) Count(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[action]
}

// Counts returns a copy of every count.
func (e *Emulator) Counts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.counts))
	for k, v := range e.counts {
		out[k] = v
	}
	return out
}

// Total returns the number of requests received, optionally only those whose
// action starts with prefix.
func (e *Emulator) Total(prefix string) int {
	n := 0
	for k, v := range e.Counts() {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// ResetCounts forgets every count.
func (e *Emulator) ResetCounts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = map[string]int{}
}

// Actions lists the actions seen, sorted, for messages.
func (e *Emulator) Actions() []string {
	var out []string
	for k := range e.Counts() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// classify names a request "service:Action". The query protocol (ELBv2, STS)
// carries Action in the form; the CBOR protocol (CloudWatch) in the path
// /service/NAME/operation/ACTION; REST services (Lambda) by method and path.
func classify(r *http.Request, body []byte) (string, url.Values) {
	if i := strings.Index(r.URL.Path, "/operation/"); i >= 0 && strings.HasPrefix(r.URL.Path, "/service/") {
		return "monitoring:" + r.URL.Path[i+len("/operation/"):], nil
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err == nil && form.Get("Action") != "" {
			return serviceOf(r) + ":" + form.Get("Action"), form
		}
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return serviceOf(r) + ":" + t[strings.LastIndex(t, ".")+1:], nil
	}
	if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions") {
		p := strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions")
		switch {
		case strings.HasSuffix(p, "/invocations"):
			return "lambda:Invoke", nil
		case r.Method == http.MethodPost && (p == "" || p == "/"):
			return "lambda:CreateFunction", nil
		case lambdaVersionsPath.MatchString(r.URL.Path):
			return map[string]string{http.MethodPost: "lambda:PublishVersion", http.MethodGet: "lambda:ListVersionsByFunction"}[r.Method], nil
		case lambdaAliasesPath.MatchString(r.URL.Path):
			one := lambdaAliasesPath.FindStringSubmatch(r.URL.Path)[2] != ""
			switch {
			case !one && r.Method == http.MethodPost:
				return "lambda:CreateAlias", nil
			case !one:
				return "lambda:ListAliases", nil
			case r.Method == http.MethodPut:
				return "lambda:UpdateAlias", nil
			case r.Method == http.MethodDelete:
				return "lambda:DeleteAlias", nil
			}
			return "lambda:GetAlias", nil
		}
		if r.Method == http.MethodGet && strings.Count(strings.Trim(p, "/"), "/") == 0 {
			return "lambda:GetFunction", nil
		}
		return "lambda:" + r.Method + " " + r.URL.Path, nil
	}
	if strings.HasPrefix(r.URL.Path, "/2017-03-31/tags/") {
		return map[string]string{http.MethodGet: "lambda:ListTags", http.MethodPost: "lambda:TagResource", http.MethodDelete: "lambda:UntagResource"}[r.Method], nil
	}
	return serviceOf(r) + ":" + r.Method + " " + r.URL.Path, nil
}

// serviceOf reads the signing name from the SigV4 credential scope
// (…/REGION/SERVICE/aws4_request).
func serviceOf(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return "unknown"
	}
	scope := strings.SplitN(auth[i+len("Credential="):], ",", 2)[0]
	parts := strings.Split(scope, "/")
	if len(parts) >= 4 {
		return parts[3]
	}
	return "unknown"
}
