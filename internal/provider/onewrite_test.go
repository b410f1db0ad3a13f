package provider_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/rolloutdev/terraform-provider-rollout/internal/acctest"
	"github.com/rolloutdev/terraform-provider-rollout/internal/awsclient"
	"github.com/rolloutdev/terraform-provider-rollout/internal/weights"
)

// Issue 28 (one write path): a blue/green deployment's create writes the
// listener through the runner's write, guard and read-back included. It
// read the listener before creating its two target groups; a person who
// changes the listener meanwhile is not written over (the create wrote
// from its first reading, with no read before the write, and put the old
// forward action back in place of theirs).
func TestBlueGreenCreateKeepsAChangeMadeWhileItCreates(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	e.SetWeights(ref, weights.Split{{ARN: f.TGs[0], Weight: 1}})
	person := weights.Split{{ARN: f.TGs[0], Weight: 50}, {ARN: f.TGs[1], Weight: 50}}
	var once sync.Once
	creates := 0
	e.Emu.OnRequest(func(action string, _ url.Values) {
		if strings.HasSuffix(action, "CreateTargetGroup") {
			if creates++; creates == 2 {
				once.Do(func() { e.SetWeights(ref, person) })
			}
		}
	})
	eng := e.NewEngine(nil)
	r := eng.Resource("rollout_deployment_bluegreen")
	prefix := strings.ReplaceAll(acctest.Name("bgw"), "_", "-")
	d := r.PlanApply(map[string]any{
		"listener_arn": f.Listener, "name_prefix": prefix, "port": 8080, "protocol": "HTTP",
		"vpc_id": e.VPC, "target_type": "ip", "active": "blue",
	})
	if !d.HasError(`Listener Changed During Apply`) {
		t.Fatalf("the create wrote over a change made while it created its target groups: %s", d)
	}
	if got, _ := e.Forward(ref); !got.Split.Equal(person) {
		t.Fatalf("the listener forwards %s, want the person's %s kept", got.Split, person)
	}
	out, err := e.ELB.DescribeTargetGroups(context.Background(), &elb.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range out.TargetGroups {
		if strings.HasPrefix(aws.ToString(tg.TargetGroupName), prefix+"-") {
			t.Errorf("the refused create left its target group %s", aws.ToString(tg.TargetGroupName))
		}
	}
}

// createWhileChanged creates a blue/green deployment on a listener whose
// default action is first, then changed by change at the request when()
// picks; it returns the create's diagnostics.
func createWhileChanged(t *testing.T, e *acctest.Env, listener string, first []elbtypes.Action, when func(action string) bool, change func()) acctest.Diags {
	t.Helper()
	if first != nil {
		if _, err := e.ELB.ModifyListener(context.Background(), &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: first}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	changed := false
	e.Emu.OnRequest(func(action string, _ url.Values) {
		mu.Lock()
		fire := !changed && when(action)
		changed = changed || fire
		mu.Unlock()
		if fire {
			change()
		}
	})
	r := e.NewEngine(nil).Resource("rollout_deployment_bluegreen")
	d := r.PlanApply(map[string]any{
		"listener_arn": listener, "name_prefix": strings.ReplaceAll(acctest.Name("bgd"), "_", "-"), "port": 8080, "protocol": "HTTP",
		"vpc_id": e.VPC, "target_type": "ip", "active": "blue",
	})
	if !changed {
		t.Fatal("the listener was not changed during the create")
	}
	return d
}

// The diagnostic of a change made during a create says what the apply
// read: a listener that answered with a fixed response had no forward
// action (it said "not the  this apply read before it").
func TestChangedDuringApplySaysTheListenerHadNoForward(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(1)
	ref := awsclient.Ref{ListenerARN: f.Listener}
	creates := 0
	d := createWhileChanged(t, e, f.Listener,
		[]elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("503")}}},
		func(action string) bool {
			if strings.HasSuffix(action, "CreateTargetGroup") {
				creates++
			}
			return creates == 2
		},
		func() { e.SetWeights(ref, weights.Split{{ARN: f.TGs[0], Weight: 1}}) })
	if !d.HasError(`(?s)Listener Changed During Apply.*had no forward action`) || d.HasError(`the  this`) {
		t.Fatalf("want the diagnostic to say the listener had no forward action: %s", d)
	}
}

// A change made right after the create's write, before its read-back, is
// said as such: the apply wrote, and someone changed it after (it said the
// apply had read the forward it had just written).
func TestChangedRightAfterTheWriteSaysTheApplyWrote(t *testing.T) {
	e := acctest.NewEnv(t)
	f := e.NewFixture(2)
	person := weights.Split{{ARN: f.TGs[0], Weight: 1}, {ARN: f.TGs[1], Weight: 1}}
	ref := awsclient.Ref{ListenerARN: f.Listener}
	wrote := false
	d := createWhileChanged(t, e, f.Listener, nil,
		func(action string) bool {
			if strings.HasSuffix(action, "ModifyListener") {
				wrote = true
				return false
			}
			return wrote && strings.HasSuffix(action, "DescribeListeners")
		},
		func() { e.SetWeights(ref, person) })
	if !d.HasError(`(?s)Listener Changed During Apply.*right after this apply wrote`) || d.HasError(`read before it`) {
		t.Fatalf("want the diagnostic to say the change came after the apply's write: %s", d)
	}
	if got, _ := e.Forward(ref); !got.Split.Equal(person) {
		t.Fatalf("the listener forwards %s, want the person's change kept", got.Split)
	}
}
