package provider_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

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
