package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func statesClient(e *Emulator) *sfn.Client {
	return sfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *sfn.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.RetryMaxAttempts = 1
	})
}

// createEndpointFunction creates a function whose invocations endpoint
// answers (kumo's InvokeEndpoint).
func createEndpointFunction(t *testing.T, e *Emulator, name, endpoint string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"FunctionName": name, "Runtime": "provided.al2023", "Role": "arn:aws:iam::000000000000:role/x",
		"Handler": "bootstrap", "Code": map[string]any{"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}, "InvokeEndpoint": endpoint})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/2015-03-31/functions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("CreateFunction: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var out struct{ FunctionArn string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.FunctionArn
}

func waitExecution(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for {
		out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning || time.Now().After(end) {
			return out
		}
		time.Sleep(20 * time.Millisecond) // kumo's executor is another goroutine: real time
	}
}

// Gaps 1 and 2: an execution reaches a function of this emulator through
// the bridge, and a function error fails the task, so Retry and Catch
// apply as on AWS (without the front, kumo takes the error payload for the
// task's result and the execution succeeds).
func TestStatesFunctionErrorFailsTheTask(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	release, err := e.ServeStates()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	calls := 0
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"fail":true`) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = io.WriteString(w, `{"errorMessage":"boom","errorType":"Boom"}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer fn.Close()
	arn := createEndpointFunction(t, e, "states-gap", fn.URL)
	def := `{"StartAt":"Call","States":{
	  "Call":{"Type":"Task","Resource":"` + arn + `","Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":1,"BackoffRate":1}],
	          "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`
	c := statesClient(e)
	sm, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String("gap"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/s")})
	if err != nil {
		t.Fatal(err)
	}
	run := func(input string) *sfn.DescribeExecutionOutput {
		x, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(input)})
		if err != nil {
			t.Fatal(err)
		}
		return waitExecution(t, c, aws.ToString(x.ExecutionArn))
	}
	if out := run(`{"fail":false}`); out.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"ok":true}` {
		t.Fatalf("a call that succeeds: %s %s", out.Status, aws.ToString(out.Output))
	}
	calls = 0
	out := run(`{"fail":true}`)
	if out.Status != sfntypes.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"error"`) || !strings.Contains(aws.ToString(out.Output), "boom") {
		t.Fatalf("a function error must be caught into $.error: %s %s", out.Status, aws.ToString(out.Output))
	}
	if calls != 2 {
		t.Fatalf("the function was called %d times; a function error is retried once here, so 2", calls)
	}
}

// Gap 3: UpdateStateMachine changes the definition and keeps the ARN.
func TestUpdateStateMachine(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := statesClient(e)
	ctx := context.Background()
	one := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	two := `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("u"), Definition: aws.String(one), RoleArn: aws.String("arn:aws:iam::000000000000:role/one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, Definition: aws.String(two)}); err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
	if err != nil || aws.ToString(d.Definition) != two || aws.ToString(d.RoleArn) != "arn:aws:iam::000000000000:role/one" {
		t.Fatalf("after UpdateStateMachine: %v %v", d, err)
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, RoleArn: aws.String("arn:aws:iam::000000000000:role/two")}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
	if aws.ToString(d.Definition) != two || aws.ToString(d.RoleArn) != "arn:aws:iam::000000000000:role/two" {
		t.Fatalf("a role change kept the definition? %s %s", aws.ToString(d.Definition), aws.ToString(d.RoleArn))
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, Definition: aws.String(`{"StartAt":"X","States":{}}`)}); err == nil {
		t.Fatal("an invalid definition was taken")
	}
	if d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn}); err != nil || aws.ToString(d.Definition) != two {
		t.Fatalf("a refused update changed the state machine: %v %v", d, err)
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:nope"), Definition: aws.String(two)}); err == nil || !strings.Contains(err.Error(), "StateMachineDoesNotExist") {
		t.Fatalf("an unknown state machine: %v", err)
	}
}

// Gap 4: an event matching a rule reaches the rule's SQS target through the
// bridge (without it, kumo posts it to localhost:4566 and loses it).
func TestEventsReachAnSQSTarget(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	release, err := e.ServeStates()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.URL) })
	ev := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.URL) })
	ctx := context.Background()
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("gap4")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["rollout"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:gap4")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("rollout"), DetailType: aws.String("Rollout Started"), Detail: aws.String(`{"step":0}`)}}}); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 && strings.Contains(aws.ToString(out.Messages[0].Body), `"detail-type":"Rollout Started"`) {
			return
		}
		time.Sleep(20 * time.Millisecond) // kumo delivers on another goroutine: real time
	}
	t.Fatal("the event never reached the queue")
}
