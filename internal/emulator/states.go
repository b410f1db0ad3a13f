package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Step Functions gaps.
//
//  1. kumo's Step Functions sends its Lambda calls to http://localhost:4566,
//     whatever port kumo listens on. An emulator whose front is not on that
//     port (every test's) takes the port with ServeStates: a bridge on
//     localhost:4566 routes each call, by function name, to the front of
//     the emulator that created the function. One process holds the port
//     at a time, under an exclusive lock on a file: the two engines'
//     acceptance runs wait for each other there.
//  2. kumo's Step Functions takes a function error (X-Amz-Function-Error,
//     which kumo's Lambda sets for an error or a timeout) for the task's
//     result. AWS fails the task, and Retry and Catch apply. The front
//     answers kumo's own Invoke calls that carry a function error with
//     HTTP 500, which kumo's Step Functions does fail the task on
//     (States.TaskFailed, the payload in the cause).
//  3. kumo has no UpdateStateMachine. The front answers it, from the API
//     reference, as a delete and a create under the same name (so the
//     same ARN), with the definition and role given or kept; executions
//     already running keep the definition they started with, as on AWS.
//  4. kumo's EventBridge sends an SQS target's events (an unsigned
//     SendMessage) to http://localhost:4566 too. The same bridge routes
//     them, by queue name, to the emulator whose front created the queue.

// StatesPort is where kumo's Step Functions sends its Lambda calls.
const StatesPort = 4566

// kumoInternal reports whether a request is kumo's own (its Step Functions
// calling Lambda): kumo signs those with a fixed scope.
func kumoInternal(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	return strings.Contains(a, "Credential=kumo/19700101/") && strings.Contains(a, "Signature=internal")
}

// failFunctionErrors serves kumo's own Invoke through proxy, and answers
// a function error with HTTP 500 (gap 2).
func (e *Emulator) failFunctionErrors(w http.ResponseWriter, r *http.Request, proxy http.Handler) {
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, r)
	var answer struct {
		WaitSeconds int `json:"wait_seconds"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	e.mu.Lock()
	e.statesCalls++
	if answer.WaitSeconds > 0 {
		e.statesWaits++
	}
	e.mu.Unlock()
	if rec.Code == http.StatusOK && rec.Header().Get("X-Amz-Function-Error") != "" {
		rec.Code = http.StatusInternalServerError
	}
	copyRecorded(w, rec, rec.Body.Bytes())
}

// bridge is this process's hold on StatesPort.
var bridge struct {
	mu     sync.Mutex
	users  int
	lock   *os.File
	srv    *http.Server
	routes map[string]*Emulator
}

var invocationPath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)

// ServeStates routes the Lambda calls of this emulator's Step Functions
// executions to it (gap 1). It waits while another process holds the port,
// and returns the function that gives it up. An emulator whose front is
// itself on StatesPort (the demo's) needs no bridge.
func (e *Emulator) ServeStates() (release func(), err error) {
	if strings.HasSuffix(e.URL, fmt.Sprintf(":%d", StatesPort)) {
		return func() {}, nil
	}
	bridge.mu.Lock()
	defer bridge.mu.Unlock()
	if bridge.users == 0 {
		if err := takeStatesPort(); err != nil {
			return nil, err
		}
	}
	bridge.users++
	e.mu.Lock()
	e.states = true
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			bridge.mu.Lock()
			defer bridge.mu.Unlock()
			for fn, owner := range bridge.routes {
				if owner == e {
					delete(bridge.routes, fn)
				}
			}
			bridge.users--
			if bridge.users == 0 {
				_ = bridge.srv.Close()
				_ = unlockFile(bridge.lock)
				_ = bridge.lock.Close()
				bridge.srv, bridge.lock = nil, nil
			}
		})
	}, nil
}

// takeStatesPort locks the port's file, then listens on it (on IPv4 and,
// where the machine has it, IPv6 loopback: "localhost" may be either).
func takeStatesPort() error {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("rollout-emulator-states-%d.lock", StatesPort)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("locking the Step Functions port: %w", err)
	}
	ln4, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", StatesPort))
	if err != nil {
		_ = unlockFile(f)
		_ = f.Close()
		return fmt.Errorf("kumo's Step Functions calls Lambda on localhost:%d, which something else holds: %w", StatesPort, err)
	}
	if bridge.routes == nil {
		bridge.routes = map[string]*Emulator{}
	}
	srv := &http.Server{Handler: http.HandlerFunc(routeStates)}
	go func() { _ = srv.Serve(ln4) }()
	if ln6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", StatesPort)); err == nil {
		go func() { _ = srv.Serve(ln6) }()
	}
	bridge.lock, bridge.srv = f, srv
	return nil
}

// routeStates forwards one call to the emulator that holds the function
// (gap 1) or the queue (gap 4).
func routeStates(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	name := ""
	if m := invocationPath.FindStringSubmatch(r.URL.Path); m != nil {
		name = functionName(m[1])
	} else if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" {
		var req struct{ QueueUrl string }
		_ = json.Unmarshal(body, &req)
		name = queueRoute(req.QueueUrl[strings.LastIndex(req.QueueUrl, "/")+1:])
	}
	bridge.mu.Lock()
	e := bridge.routes[name]
	bridge.mu.Unlock()
	if e == nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Not found: "+name+" (no emulator of this process created it)")
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, e.URL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		lambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		lambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())
		return
	}
	defer func() { _ = resp.Body.Close() }()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// routeFunction records that e holds the function created by body (a
// CreateFunction request), when e serves Step Functions through the bridge.
func (e *Emulator) routeFunction(body []byte) {
	var req struct{ FunctionName string }
	if json.Unmarshal(body, &req) != nil || req.FunctionName == "" {
		return
	}
	e.route(functionName(req.FunctionName))
}

// queueRoute is a queue's key among the bridge's routes.
func queueRoute(name string) string { return "queue:" + name }

// routeQueue records that e holds the queue created by body (a JSON
// CreateQueue request), when e serves through the bridge (gap 4).
func (e *Emulator) routeQueue(body []byte) {
	var req struct{ QueueName string }
	if json.Unmarshal(body, &req) != nil || req.QueueName == "" {
		return
	}
	e.route(queueRoute(req.QueueName))
}

func (e *Emulator) route(key string) {
	e.mu.Lock()
	on := e.states
	e.mu.Unlock()
	if !on {
		return
	}
	bridge.mu.Lock()
	if bridge.routes != nil {
		bridge.routes[key] = e
	}
	bridge.mu.Unlock()
}

// updateStateMachine answers UpdateStateMachine (gap 3) through proxy.
func updateStateMachine(w http.ResponseWriter, r *http.Request, body []byte, proxy http.Handler) {
	var req struct {
		StateMachineArn string
		Definition      *string
		RoleArn         *string
	}
	if err := json.Unmarshal(body, &req); err != nil || req.StateMachineArn == "" {
		statesError(w, http.StatusBadRequest, "ValidationException", "stateMachineArn is required")
		return
	}
	call := func(action string, in any) (*httptest.ResponseRecorder, map[string]any) {
		b, _ := json.Marshal(in)
		sub := r.Clone(r.Context())
		sub.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
		sub.Body = io.NopCloser(bytes.NewReader(b))
		sub.ContentLength = int64(len(b))
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, sub)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec, out
	}
	rec, sm := call("DescribeStateMachine", map[string]any{"stateMachineArn": req.StateMachineArn})
	if rec.Code != http.StatusOK {
		copyRecorded(w, rec, rec.Body.Bytes())
		return
	}
	create := map[string]any{"name": sm["name"], "definition": sm["definition"], "roleArn": sm["roleArn"], "type": sm["type"]}
	if req.Definition != nil {
		create["definition"] = *req.Definition
	}
	if req.RoleArn != nil {
		create["roleArn"] = *req.RoleArn
	}
	// Refuse a definition kumo would refuse before deleting anything.
	if rec, _ := call("ValidateStateMachineDefinition", map[string]any{"definition": create["definition"], "type": create["type"]}); rec.Code == http.StatusOK {
		var v struct{ Result string }
		if json.Unmarshal(rec.Body.Bytes(), &v) == nil && v.Result == "FAIL" {
			statesError(w, http.StatusBadRequest, "InvalidDefinition", "Invalid State Machine Definition: "+rec.Body.String())
			return
		}
	}
	if rec, _ := call("DeleteStateMachine", map[string]any{"stateMachineArn": req.StateMachineArn}); rec.Code != http.StatusOK {
		copyRecorded(w, rec, rec.Body.Bytes())
		return
	}
	rec, out := call("CreateStateMachine", create)
	if rec.Code != http.StatusOK {
		copyRecorded(w, rec, rec.Body.Bytes())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	b, _ := json.Marshal(map[string]any{"updateDate": out["creationDate"], "revisionId": fmt.Sprint(out["creationDate"])})
	_, _ = w.Write(b)
}

func statesError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	_, _ = w.Write(b)
}
